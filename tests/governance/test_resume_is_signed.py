"""Resuming a suspended version is a decision like an approval: compliance signs it (password, and the code of an
authenticator), the signature pins the suspension it answers, and it is refused while the model is flagged
"revalidation required" (a signed validation clears the flag)."""

import pytest

from governance.core.models import AuditEvent, Signature
from governance.core.signatures import verify
from governance.lifecycle import revalidation, workflow
from governance.lifecycle.models import VersionTransition
from models_registry.models import ModelVersion
from tests.factories import PASSWORD, make_version

URL = "/api/v1/models/mine/versions/1.0/transitions/"
REASON = "Slippage review finished: fills back within the pilot's tolerance."


def suspend(world):
    return workflow.version_transition(world.owner, world.mine_v1, "suspend", comment="Live slippage review.")


def status_of(version) -> str:
    return ModelVersion.objects.get(pk=version.pk).status


def resumes(version) -> int:
    return VersionTransition.objects.filter(version=version, action="resume").count()


def resume_signatures(version):
    return Signature.objects.filter(object_id=str(version.pk), meaning=Signature.Meaning.RESUMED)


@pytest.mark.django_db
def test_it_refuses_an_unsigned_resume_and_changes_nothing(world, api):
    suspend(world)
    response = api.as_user(world.compliance).post(URL, {"action": "resume", "comment": REASON}, format="json")
    assert response.status_code == 400 and "password" in response.json()
    assert status_of(world.mine_v1) == "suspended" and resumes(world.mine_v1) == 0


@pytest.mark.django_db
def test_it_refuses_a_resume_by_anyone_but_compliance(world, api):
    suspend(world)
    body = {"action": "resume", "comment": REASON, "password": PASSWORD}
    assert api.as_user(world.owner).post(URL, body, format="json").status_code == 403
    assert status_of(world.mine_v1) == "suspended" and not resume_signatures(world.mine_v1).exists()


@pytest.mark.django_db
def test_a_wrong_password_resumes_nothing_and_is_audited(world, api):
    suspend(world)
    body = {"action": "resume", "comment": REASON, "password": "not-the-password"}
    response = api.as_user(world.compliance).post(URL, body, format="json")
    assert response.status_code == 400 and "password" in response.json()
    assert status_of(world.mine_v1) == "suspended" and resumes(world.mine_v1) == 0
    assert not resume_signatures(world.mine_v1).exists()
    assert AuditEvent.objects.filter(action="signature.refused", actor=world.compliance).count() == 1


@pytest.mark.django_db
def test_a_signed_resume_pins_the_suspension_it_answers(world, api, browser_client):
    suspend(world)
    client = browser_client.as_user(world.compliance)
    version_page = client.get("/models/mine/versions/1.0/").content.decode()
    assert 'href="/models/mine/versions/1.0/actions/resume/"' in version_page
    page = client.get("/models/mine/versions/1.0/actions/resume/").content.decode()  # the resume's own page
    assert 'data-testid="resume-rests-on"' in page and "(it was production): Live slippage review." in page
    assert 'id="id_resume_password"' in page  # the resume form asks for the signature
    body = {"action": "resume", "comment": REASON, "password": PASSWORD}
    response = api.as_user(world.compliance).post(URL, body, format="json")
    assert response.status_code == 200 and response.json()["status"] == "production"
    signature = resume_signatures(world.mine_v1).get()
    assert signature.signer == world.compliance and signature.comment == REASON
    suspension = signature.payload["suspension"]
    assert suspension["by"] == "owner" and suspension["reason"] == "Live slippage review."
    assert suspension["from"] == "production" and suspension["revalidation_flag"] == ""
    assert signature.payload["incidents"] == []  # the incidents app pins the model's incidents
    assert verify(signature) == (True, "intact")
    step = VersionTransition.objects.get(version=world.mine_v1, action="resume")
    assert step.signature == signature


@pytest.mark.django_db
def test_it_refuses_a_resume_while_revalidation_is_required_until_a_validation_is_signed(world, api, browser_client):
    suspend(world)
    revalidation.revalidation_require(world.validator, world.mine, reason="Fills diverged from the backtest.")
    body = {"action": "resume", "comment": REASON, "password": PASSWORD}
    refused = api.as_user(world.compliance).post(URL, body, format="json")
    assert refused.status_code == 409
    assert "revalidation required" in str(refused.json()["reasons"])
    assert "Fills diverged from the backtest." in str(refused.json()["reasons"])
    assert status_of(world.mine_v1) == "suspended" and not resume_signatures(world.mine_v1).exists()
    page = browser_client.as_user(world.compliance).get("/models/mine/versions/1.0/").content.decode()
    assert 'class="action unavailable" data-action="resume"' in page
    assert "no version of it resumes until a validation is signed" in page

    make_version(world.developer, world.mine, label="1.1", status="validated")  # the validator signs: flag cleared
    resumed = api.as_user(world.compliance).post(URL, body, format="json")
    assert resumed.status_code == 200 and status_of(world.mine_v1) == "production"


@pytest.mark.django_db
def test_a_kill_switch_release_leaves_a_model_awaiting_revalidation_suspended_and_says_why(world):
    from risk.gate import killswitch

    reason = "Venue outage on the primary exchange, all flow halted."
    stop = killswitch.kill_switch_engage(
        world.compliance, scope="model", model=world.mine, reason=reason, password=PASSWORD
    )
    revalidation.revalidation_require(world.compliance, world.mine, reason="The outage changed the fill model.")
    killswitch.kill_switch_release(world.compliance, stop, reason="Venue back, flow checked.", password=PASSWORD)
    assert status_of(world.mine_v1) == "suspended"
    audit = AuditEvent.objects.get(action="kill_switch.release")
    assert "mine 1.0 (stays suspended: mine is flagged “revalidation required”" in audit.changes["left_suspended"][1][0]


@pytest.mark.django_db
def test_a_kill_switch_release_resumes_under_its_own_signature(world):
    from risk.gate import killswitch

    reason = "Venue outage on the primary exchange, all flow halted."
    stop = killswitch.kill_switch_engage(
        world.compliance, scope="model", model=world.mine, reason=reason, password=PASSWORD
    )
    stop = killswitch.kill_switch_release(world.compliance, stop, reason="Venue back, flow checked.", password=PASSWORD)
    assert status_of(world.mine_v1) == "production"
    step = VersionTransition.objects.get(version=world.mine_v1, action="resume")
    assert step.signature == stop.release_signature
