"""The lifecycle of a model version: transitions, conditions, signatures and segregation of duties."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.core.exceptions import Conflict
from governance.core.models import AuditEvent, Notification, Signature
from governance.core.signatures import verify
from governance.lifecycle import workflow
from governance.lifecycle.models import VersionTransition
from models_registry.models import Model, ModelVersion
from tests.factories import PASSWORD, UserFactory
from tests.governance.lifecycle_helpers import attach, new_draft, signoff_for, to_production, to_validated
from tests.outbox import deliver


def events(action):
    return AuditEvent.objects.filter(action=action).count()


@pytest.mark.django_db
def test_it_walks_a_version_from_draft_to_production(world):
    version = new_draft(world)
    before = events("version.submit")
    version = workflow.version_transition(world.developer, version, "submit", comment="Ready.")
    assert version.status == "submitted"
    assert events("version.submit") == before + 1
    deliver()
    assert Notification.objects.filter(user=world.validator, kind="signature_request").exists()

    version = workflow.version_transition(world.validator, version, "start_validation")
    report = attach(world.validator, version, "validation_report")
    version = workflow.version_transition(
        world.validator, version, "validate", password=PASSWORD, signoff=signoff_for(version, report)
    )
    assert version.status == "validated"
    model = Model.objects.get(pk=world.mine.pk)
    assert model.last_validated_at is not None and model.next_validation_due is not None
    signature = Signature.objects.get(meaning="validated", object_id=str(version.pk))
    assert signature.full_name_snapshot == world.validator.get_full_name()
    assert verify(signature) == (True, "intact")
    deliver()
    assert Notification.objects.filter(user=world.compliance, kind="signature_request").exists()

    # mine is Tier 2 (50m notional, medium complexity): one approval is enough under policy v1.
    assert model.risk_tier == 2
    version = workflow.version_transition(world.compliance, version, "approve_deployment", password=PASSWORD)
    assert version.status == "approved"
    version = workflow.version_transition(
        world.owner,
        version,
        "start_pilot",
        pilot={"max_notional": "1000000", "instruments": ["AAPL"], "venues": [], "end_date": "2099-01-01"},
    )
    assert version.status == "pilot" and version.pilot.max_notional == 1000000
    with pytest.raises(Conflict) as refused:
        workflow.version_transition(world.compliance, version, "promote", password=PASSWORD)
    assert any("pilot results" in reason for reason in refused.value.reasons)
    attach(world.owner, version, "pilot_results", "pilot.md")
    with pytest.raises(ValidationError):  # approving for production is a signature: the password again
        workflow.version_transition(world.compliance, version, "promote", comment="Clean pilot.")
    version = workflow.version_transition(
        world.compliance, version, "promote", password=PASSWORD, comment="Clean pilot."
    )
    assert version.status == "production"
    approval = Signature.objects.get(object_id=str(version.pk), meaning="approved_for_production")
    assert approval.payload["pilot"]["limits"]["instruments"] == ["AAPL"]
    assert approval.payload["pilot"]["results"] and verify(approval)[0]
    # The version it replaced is retired as superseded, and the model follows its versions.
    assert ModelVersion.objects.get(pk=world.mine_v1.pk).status == "retired"
    assert Model.objects.get(pk=world.mine.pk).status == "production"
    actions = list(VersionTransition.objects.filter(version=version).values_list("action", flat=True))
    assert actions == ["submit", "start_validation", "validate", "approve_deployment", "start_pilot", "promote"]
    assert all(t.policy.version == 1 for t in VersionTransition.objects.all())


@pytest.mark.django_db
def test_it_lists_every_unmet_condition_with_409(world, api):
    version = new_draft(world)
    Model.objects.filter(pk=world.mine.pk).update(validator=None, known_limitations="")
    before = events("version.submit")
    response = api.as_user(world.developer).post(
        "/api/v1/models/mine/versions/2.0/transitions/", {"action": "submit"}, format="json"
    )
    assert response.status_code == 409
    reasons = response.json()["reasons"]
    assert len(reasons) == 2
    assert any("validator" in r for r in reasons) and any("limitations" in r for r in reasons)
    assert ModelVersion.objects.get(pk=version.pk).status == "draft" and events("version.submit") == before


@pytest.mark.django_db
def test_it_answers_403_for_a_wrong_role_and_404_for_an_invisible_version(world, api):
    new_draft(world)
    url = "/api/v1/models/mine/versions/2.0/transitions/"
    assert api.as_user(world.validator).post(url, {"action": "submit"}, format="json").status_code == 403
    assert api.as_user(world.auditor).post(url, {"action": "submit"}, format="json").status_code == 403
    assert api.as_user(world.developer2).post(url, {"action": "submit"}, format="json").status_code == 404
    assert api.as_user(world.developer).post(url, {"action": "explode"}, format="json").status_code == 400


@pytest.mark.django_db
def test_it_refuses_a_wrong_password_audits_it_and_signs_nothing(world):
    version = new_draft(world)
    version = workflow.version_transition(world.developer, version, "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    report = attach(world.validator, version, "validation_report")
    with pytest.raises(ValidationError) as error:
        workflow.version_transition(
            world.validator, version, "validate", password="not-my-password", signoff=signoff_for(version, report)
        )
    assert "password" in error.value.message_dict
    assert not Signature.objects.filter(object_type="models_registry.modelversion", object_id=str(version.pk)).exists()
    assert ModelVersion.objects.get(pk=version.pk).status == "in_validation"
    refused = AuditEvent.objects.get(action="signature.refused")
    assert refused.actor == world.validator


@pytest.mark.django_db
def test_it_needs_the_validation_report_before_signing(world, api):
    version = new_draft(world)
    workflow.version_transition(world.developer, version, "submit")
    workflow.version_transition(world.validator, version, "start_validation")
    body = {
        "action": "validate",
        "password": PASSWORD,
        "signoff": {
            **{e: {"not_applicable": "n/a for this test"} for e in workflow.ELEMENTS},
            "tier_confirmed": 2,
            "no_findings_justification": "Reviewed everything listed in the plan.",
        },
    }
    response = api.as_user(world.validator).post("/api/v1/models/mine/versions/2.0/transitions/", body, format="json")
    assert response.status_code == 409
    assert any("validation report" in r for r in response.json()["reasons"])


@pytest.mark.django_db
def test_it_checks_signoff_content(world):
    version = new_draft(world)
    workflow.version_transition(world.developer, version, "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    report = attach(world.validator, version, "validation_report")
    bad = signoff_for(version, report)
    bad["no_findings_justification"] = ""
    bad["ongoing_monitoring"] = {}
    with pytest.raises(ValidationError) as error:
        workflow.version_transition(world.validator, version, "validate", password=PASSWORD, signoff=bad)
    assert {"signoff.no_findings_justification", "signoff.ongoing_monitoring"} <= set(error.value.message_dict)
    Model.objects.filter(pk=world.mine.pk).update(risk_tier=1)
    tier1 = signoff_for(ModelVersion.objects.get(pk=version.pk), report)
    tier1["outcomes_analysis"] = {"not_applicable": "no outcomes yet"}
    with pytest.raises(ValidationError) as error:
        workflow.version_transition(world.validator, version, "validate", password=PASSWORD, signoff=tier1)
    assert "Tier 1" in error.value.message_dict["signoff.outcomes_analysis"][0]
    assert not Signature.objects.filter(object_type="models_registry.modelversion", object_id=str(version.pk)).exists()


@pytest.mark.django_db
def test_it_changes_the_tier_when_the_validator_says_so(world):
    version = new_draft(world)
    workflow.version_transition(world.developer, version, "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    report = attach(world.validator, version, "validation_report")
    signoff = signoff_for(version, report)
    signoff["tier_confirmed"] = 1
    workflow.version_transition(world.validator, version, "validate", password=PASSWORD, signoff=signoff)
    model = Model.objects.get(pk=world.mine.pk)
    assert model.risk_tier == 1 and model.tier_override == 1
    # Tier 1 revalidates every 12 months under policy v1.
    assert (model.next_validation_due - model.last_validated_at).days in range(365, 367)


@pytest.mark.django_db
def test_it_requires_two_distinct_approvers_for_tier_1(world):
    compliance2 = UserFactory(username="compliance2", roles=["compliance"])
    Model.objects.filter(pk=world.mine.pk).update(risk_tier=1, tier_override=1, tier_override_justification="test")
    version = to_validated(world, new_draft(world))
    version = workflow.version_transition(world.compliance, version, "approve_deployment", password=PASSWORD)
    assert version.status == "validated"
    deliver()
    assert Notification.objects.filter(user=compliance2, message__contains="second").exists()
    with pytest.raises(Conflict) as refused:
        workflow.version_transition(world.compliance, version, "approve_deployment", password=PASSWORD)
    assert any("already approved" in r for r in refused.value.reasons)
    version = workflow.version_transition(compliance2, version, "approve_deployment", password=PASSWORD)
    assert version.status == "approved"
    assert Signature.objects.filter(meaning="approved", object_id=str(version.pk)).count() == 2


@pytest.mark.django_db
def test_it_blocks_approval_on_an_open_high_finding_until_risk_is_accepted(world):
    from risk.validation import findings

    version = new_draft(world)
    workflow.version_transition(world.developer, version, "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    finding = findings.finding_raise(
        world.validator,
        version,
        severity="high",
        title="Look-ahead bias",
        description="Features use close prices.",
        owner=world.developer,
        due_date=__import__("datetime").date.today(),
    )
    report = attach(world.validator, version, "validation_report")
    signoff = signoff_for(version, report)
    version = workflow.version_transition(
        world.validator,
        version,
        "validate_with_conditions",
        password=PASSWORD,
        signoff={**signoff, "conditions": "Only after the bias is fixed."},
    )
    with pytest.raises(Conflict) as refused:
        workflow.version_transition(world.compliance, version, "approve_deployment", password=PASSWORD)
    assert any("high-severity" in r for r in refused.value.reasons)
    findings.finding_accept_risk(
        world.compliance,
        finding,
        password=PASSWORD,
        justification="Bias is immaterial at pilot size; revisit at promotion.",
    )
    version = workflow.version_transition(world.compliance, version, "approve_deployment", password=PASSWORD)
    assert version.status == "approved"


SOD_CASES = ["validator_registered_version", "compliance_developer", "superuser_owner", "validator_approves"]


@pytest.mark.django_db
@pytest.mark.parametrize("case", SOD_CASES)
def test_it_enforces_segregation_of_duties_even_for_superusers(case, world):
    version = new_draft(world)
    if case == "validator_registered_version":
        # The validator also holds the developer role and registers the version themselves.
        world.validator.groups.add(*world.developer.groups.all())
        Model.objects.get(pk=world.mine.pk).developers.add(world.validator)
        ModelVersion.objects.filter(pk=version.pk).update(created_by=world.validator)
        workflow.version_transition(world.developer, version, "submit")
        validator = type(world.validator).objects.get(pk=world.validator.pk)
        with pytest.raises(Conflict) as refused:
            workflow.version_transition(validator, version, "start_validation")
        assert any("develop or own" in r for r in refused.value.reasons)
        assert any("registered this version" in r for r in refused.value.reasons)
        return
    version = to_validated(world, version)
    if case == "compliance_developer":
        actor = world.compliance
        Model.objects.get(pk=world.mine.pk).developers.add(actor)
    elif case == "superuser_owner":
        actor = world.admin
        actor.groups.add(*world.compliance.groups.all())
        Model.objects.filter(pk=world.mine.pk).update(owner=actor)
    else:
        actor = world.validator
        actor.groups.add(*world.compliance.groups.all())
    actor = type(actor).objects.get(pk=actor.pk)  # roles are cached per user object, as per request
    with pytest.raises(Conflict) as refused:
        workflow.version_transition(actor, version, "approve_deployment", password=PASSWORD)
    assert refused.value.reasons
    assert ModelVersion.objects.get(pk=version.pk).status == "validated"


@pytest.mark.django_db
def test_it_gives_superusers_no_transition_rights_of_their_own(world):
    version = new_draft(world)
    with pytest.raises(PermissionDenied):
        workflow.version_transition(world.admin, version, "submit")


@pytest.mark.django_db
def test_it_rolls_back_to_the_previous_production_version(world):
    compliance2 = UserFactory(username="compliance2", roles=["compliance"])
    with pytest.raises(Conflict) as refused:  # theirs 1.0 replaced nothing
        workflow.version_transition(compliance2, world.theirs_v1, "rollback", comment="Bad fills.")
    assert any("no earlier production version" in r for r in refused.value.reasons)
    v2 = to_production(world, new_draft(world), [world.compliance])
    assert ModelVersion.objects.get(pk=world.mine_v1.pk).status == "retired"  # superseded by 2.0
    v3 = to_production(world, new_draft(world, "3.0"), [world.compliance])
    assert ModelVersion.objects.get(pk=v2.pk).status == "retired"
    v3 = workflow.version_transition(world.owner, v3, "suspend", comment="Erratic signals at the open.")
    assert v3.status == "suspended" and Model.objects.get(pk=world.mine.pk).status == "suspended"
    v3 = workflow.version_transition(compliance2, v3, "rollback", comment="Back to 2.0.")
    assert v3.status == "retired"
    assert ModelVersion.objects.get(pk=v2.pk).status == "production"
    assert ModelVersion.objects.get(pk=world.mine_v1.pk).status == "retired"
    assert Model.objects.get(pk=world.mine.pk).status == "production"
    restored = VersionTransition.objects.get(version=v2, action="rollback", to_status="production")
    assert restored.comment == "Back to 2.0." and restored.details == {"rolled_back_from": "3.0"}
    promoted = VersionTransition.objects.get(version=v3, action="promote")
    assert promoted.details == {"supersedes": ["2.0"]}  # names what it replaced, never itself


@pytest.mark.django_db
def test_it_suspends_and_resumes(world):
    version = to_production(world, new_draft(world), [world.compliance])
    with pytest.raises(ValidationError):
        workflow.version_transition(world.owner, version, "suspend")  # a reason is required
    version = workflow.version_transition(world.owner, version, "suspend", comment="Kill switch test.")
    with pytest.raises(PermissionDenied):
        workflow.version_transition(world.owner, version, "resume", comment="Please", password=PASSWORD)
    version = workflow.version_transition(world.compliance, version, "resume", comment="Cleared.", password=PASSWORD)
    assert version.status == "production"


@pytest.mark.django_db
def test_it_detects_edits_and_transplants_of_signatures(world):
    version = to_validated(world, new_draft(world))
    signature = Signature.objects.get(meaning="validated", object_id=str(version.pk))
    assert verify(signature)[0]
    ModelVersion.objects.filter(pk=version.pk).update(artifact_uri="s3://swapped")
    assert verify(signature) == (False, "the signed record or its evidence changed after signing")
    ModelVersion.objects.filter(pk=version.pk).update(artifact_uri=version.artifact_uri)
    assert verify(signature)[0]
    Signature.objects.filter(pk=signature.pk).update(object_id=str(world.theirs_v1.pk))
    signature.refresh_from_db()
    assert not verify(signature)[0]


@pytest.mark.django_db
def test_it_shows_the_lifecycle_on_the_version_page(world, browser_client):
    version = to_validated(world, new_draft(world))
    page = browser_client.as_user(world.developer).get(f"/models/mine/versions/{version.version}/")
    text = page.content.decode()
    assert f"Signed by {world.validator.get_full_name()} at" in text and ": Validated" in text
    compliance_page = browser_client.as_user(world.developer2)
    assert compliance_page.get(f"/models/mine/versions/{version.version}/").status_code == 404
    # The developer is offered nothing here; compliance sees the approval with its form.
    page = browser_client.as_user(world.compliance).get(f"/models/mine/versions/{version.version}/")
    assert 'data-action="approve_deployment"' in page.content.decode()
    assert [a.action for a in page.context["actions"] if a.allowed] == ["approve_deployment", "retire"]


@pytest.mark.django_db
def test_a_retired_model_is_due_for_no_validation(world, browser_client):
    import datetime as dt

    Model.objects.filter(pk=world.mine.pk).update(next_validation_due=dt.date(2030, 1, 2), revalidation_flag="due_soon")
    workflow.version_transition(world.owner, world.mine_v1, "retire", comment="Strategy closed.")
    model = Model.objects.get(pk=world.mine.pk)
    assert model.status == "retired"
    assert model.next_validation_due is None and model.revalidation_flag == ""
    followed = AuditEvent.objects.filter(object_id=str(model.pk), action="model.status_followed_versions").last()
    assert followed.changes["next_validation_due"] == ["2030-01-02", None]  # the trail says when it stopped
    client = browser_client.as_user(world.compliance)
    page = client.get(f"/models/{model.key}/").content.decode()
    assert "Not due: retired" in page and "2030-01-02" not in page
    # A model retired before this rule kept its date in the record: its pages say "not due" all the same.
    Model.objects.filter(pk=model.pk).update(next_validation_due=dt.date(2030, 1, 2))
    assert "Not due: retired" in client.get(f"/models/{model.key}/").content.decode()
    assert "2030-01-02" not in client.get("/models/?status=retired").content.decode()
