import pytest

from governance.lifecycle import workflow
from models_registry.models import VersionDataSource
from risk.incidents import services as incidents
from tests.factories import PASSWORD
from tests.governance.lifecycle_helpers import graded_in_validation, signoff_for
from tests.snapshots import snapshot


@pytest.fixture
def signed_version(world, request):
    """mine 5.0 validated with conditions on a cited run, approved for deployment, a closed high incident on it,
    and a restricted data source among its inference data. Built once per session (tests/snapshots.py)."""
    return snapshot("mine-5.0-signed", lambda: _sign_a_version(world), request)


def _sign_a_version(world):
    version, run, report = graded_in_validation(world)
    VersionDataSource.objects.create(version=version, data_source=world.restricted_source, usage="inference")
    VersionDataSource.objects.create(version=version, data_source=world.public_source, usage="training")
    failed = [r["test"] for r in run.results if r["outcome"] == "fail"]
    warned = [r["test"] for r in run.results if r["outcome"] == "warn"]
    signoff = signoff_for(version, report) | {
        "run": run.pk,
        "dispositions": {t: "Immaterial: the score only ranks." for t in failed},
        "acknowledged_warnings": warned,
        "conditions": "Rank only; never size positions.",
    }
    version = workflow.version_transition(
        world.validator, version, "validate_with_conditions", password=PASSWORD, signoff=signoff
    )
    version = workflow.version_transition(world.compliance, version, "approve_deployment", password=PASSWORD)
    incident = incidents.incident_report(
        world.owner, world.mine, title="Odd fills", description="Fills far from mid.", severity="high", version=version
    )
    incidents.incident_close(
        world.compliance,
        incident,
        root_cause="A stale quote feed.",
        corrective_actions="Feed monitored; stale quotes refused.",
        password=PASSWORD,
    )
    return version
