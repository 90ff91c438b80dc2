import pytest

from tests.factories import make_version
from tests.snapshots import snapshot


@pytest.fixture
def validating(world, request):
    """mine 2.0, in validation with world.validator: plans and runs are set up only while a version is in
    validation (mine 1.0 is in production, its validation long signed)."""
    return snapshot(
        "mine-2.0-in-validation",
        lambda: make_version(world.developer, world.mine, label="2.0", status="in_validation"),
        request,
    )
