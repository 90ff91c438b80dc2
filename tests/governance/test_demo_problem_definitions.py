"""The demo's problem definitions (issue 24): each is valid, names a demo model, and is recorded through the model
update service (audited) by the model's owner."""

import pytest

from governance.core.models import AuditEvent
from governance.demo import problem_definitions
from governance.demo.demo_data import MODELS, PROBLEM_DEFINITIONS
from models_registry.services import PROBLEM_DEFINITION_FIELDS
from models_registry.validators import validate_operating_boundaries, validate_success_criteria


def test_each_demo_definition_is_valid_and_names_a_demo_model():
    keys = {spec[0] for spec in MODELS}
    for key, fields in PROBLEM_DEFINITIONS.items():
        assert key in keys
        assert set(fields) == set(PROBLEM_DEFINITION_FIELDS), key
        validate_success_criteria(fields["success_criteria"])
        validate_operating_boundaries(fields["operating_boundaries"])


@pytest.mark.django_db
def test_it_records_a_definition_through_the_update_service_and_leaves_other_models_alone(world):
    recorded = problem_definitions.record(world.mine, {"mine": PROBLEM_DEFINITIONS["eq-momentum-us"]})
    assert recorded.operating_boundaries == PROBLEM_DEFINITIONS["eq-momentum-us"]["operating_boundaries"]
    event = AuditEvent.objects.filter(action="model.update").latest("id")
    assert event.actor == world.owner and "success_criteria" in event.changes
    count = AuditEvent.objects.count()
    assert problem_definitions.record(world.theirs, {"mine": {}}) == world.theirs
    assert AuditEvent.objects.count() == count
