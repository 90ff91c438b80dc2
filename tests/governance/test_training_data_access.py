"""Independent validation needs the data: a validator signs only over training data they may read, and
compliance grants that access in the same step as the assignment (audited)."""

import pytest

from governance.core.exceptions import Conflict
from governance.core.models import AuditEvent
from governance.lifecycle import workflow
from models_registry import services
from models_registry.models import DataSourceAccessGrant
from tests.factories import PASSWORD, UserFactory, make_version
from tests.governance.lifecycle_helpers import attach, ready_model, signoff_for


@pytest.fixture
def on_restricted_data(world):
    """mine 4.0 trains on the restricted card panel; its developer was granted the panel, its validator not."""
    services.data_source_grant_access(world.compliance, world.restricted_source, world.developer, "Builds mine.")
    version = make_version(world.developer, ready_model(world), label="4.0", training_sources=[world.restricted_source])
    version = workflow.version_transition(world.developer, version, "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    report = attach(world.validator, version, "validation_report")
    return version, signoff_for(version, report)


@pytest.mark.django_db
def test_a_validator_cannot_sign_over_training_data_they_may_not_see(world, on_restricted_data):
    version, signoff = on_restricted_data
    with pytest.raises(Conflict) as refused:
        workflow.version_transition(world.validator, version, "validate", password=PASSWORD, signoff=signoff)
    reason = " ".join(refused.value.reasons)
    assert "1 training data source(s) of this version are outside your access" in reason
    assert "Card panel" not in reason  # counted, never named to someone who may not see it
    shown = [a for a in workflow.available_actions(world.validator, version) if a.action == "validate"][0]
    assert not shown.allowed and any("outside your access" in r for r in shown.reasons)
    services.model_update(world.compliance, world.mine, grant_training_data=True, reason="Validation needs it.")
    moved = workflow.version_transition(world.validator, version, "validate", password=PASSWORD, signoff=signoff)
    assert moved.status == "validated"


@pytest.mark.django_db
def test_assigning_a_validator_grants_the_training_data_in_the_same_step_and_audits_it(world, api, on_restricted_data):
    newcomer = UserFactory(username="validator3", roles=["validator"])
    response = api.as_user(world.compliance).patch(
        "/api/v1/models/mine/",
        {"validator": "validator3", "grant_training_data": True, "reason": "Rotation."},
        format="json",
    )
    assert response.status_code == 200, response.content
    grant = DataSourceAccessGrant.objects.get(user=newcomer, data_source=world.restricted_source)
    assert grant.granted_by == world.compliance and "Independent validation of mine" in grant.reason
    event = AuditEvent.objects.filter(action="data_source.access_granted", object_id=str(world.restricted_source.pk))
    assert event.filter(changes__granted_to=[None, "validator3"]).exists()


@pytest.mark.django_db
def test_without_the_grant_the_assignment_stands_but_signing_waits(world, api, on_restricted_data):
    UserFactory(username="validator3", roles=["validator"])
    response = api.as_user(world.compliance).patch("/api/v1/models/mine/", {"validator": "validator3"}, format="json")
    assert response.status_code == 200
    assert not DataSourceAccessGrant.objects.filter(user__username="validator3").exists()


@pytest.mark.django_db
def test_only_compliance_sees_the_grant_choice_and_only_where_there_is_restricted_training_data(
    world, browser_client, on_restricted_data
):
    page = browser_client.as_user(world.compliance).get("/models/mine/edit/")
    assert "grant_training_data" in page.context["form"].fields
    assert (
        "grant_training_data"
        not in browser_client.as_user(world.compliance).get("/models/theirs/edit/").context["form"].fields
    )
    assert (
        "grant_training_data"
        not in browser_client.as_user(world.owner).get("/models/mine/edit/").context["form"].fields
    )
