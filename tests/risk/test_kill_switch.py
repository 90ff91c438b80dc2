"""The kill switch: compliance stops a model, a desk or everything with a reason and a signature; the gate answers
blocked from the next request; a release resumes what the stop suspended (two signatures after a firm-wide stop);
a test exercises the block without stopping anything; every use is evidence."""

import pytest

from governance.core import signatures
from governance.core.models import AuditEvent, Signature
from governance.lifecycle import workflow
from models_registry.models import ModelVersion
from risk.gate import decisions, killswitch
from risk.gate.models import KillSwitch, KillSwitchTest
from risk.gate.tasks import kill_switch_test as scheduled_test
from tests.factories import PASSWORD, UserFactory, make_version

REASON = "Erratic fills across the desk since the open; stop until explained."
URL = "/api/v1/kill-switch/"


def engage(api, user, **body):
    return api.as_user(user).post(URL, {"reason": REASON, "password": PASSWORD, **body}, format="json")


def release(api, user, engagement_id, reason="Fills explained by a venue outage; it is over."):
    return api.as_user(user).post(
        f"{URL}{engagement_id}/release/", {"reason": reason, "password": PASSWORD}, format="json"
    )


def status_of(version) -> str:
    return ModelVersion.objects.get(pk=version.pk).status


def gate(api, user, key):
    return api.as_user(user).get(f"/api/v1/gate/{key}/").json()


@pytest.mark.django_db
def test_stopping_one_model_suspends_it_signs_and_blocks_the_gate_until_released(world, api):
    assert gate(api, world.trader, "mine")["allowed"] is True
    response = engage(api, world.compliance, scope="model", model="mine")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["active"] is True and body["versions_suspended"] == ["mine 1.0"]
    assert status_of(world.mine_v1) == "suspended" and status_of(world.theirs_v1) == "production"
    blocked = gate(api, world.trader, "mine")
    assert blocked["allowed"] is False
    assert [r["code"] for r in blocked["reasons"]] == ["suspended", "kill_switch"]
    assert gate(api, world.compliance, "theirs")["allowed"] is True
    engagement = KillSwitch.objects.get(pk=body["id"])
    assert engagement.engage_signature.meaning == Signature.Meaning.KILL_SWITCH_ENGAGED
    assert signatures.verify(engagement.engage_signature) == (True, "intact")
    assert AuditEvent.objects.filter(action="kill_switch.engage", object_id=str(engagement.pk)).count() == 1

    released = release(api, world.compliance, engagement.pk)
    assert released.status_code == 200 and released.json()["active"] is False
    assert status_of(world.mine_v1) == "production"
    after = gate(api, world.trader, "mine")
    assert after["allowed"] is True and after["revision"] == blocked["revision"] + 1
    engagement.refresh_from_db()
    assert signatures.verify(engagement.release_signature) == (True, "intact")


@pytest.mark.django_db
def test_a_firm_wide_stop_blocks_every_model_and_needs_two_compliance_signatures_to_release(world, api):
    compliance2 = UserFactory(username="compliance2", roles=["compliance"])
    response = engage(api, world.compliance, scope="all")
    assert response.status_code == 201
    engagement_id = response.json()["id"]
    assert {status_of(world.mine_v1), status_of(world.theirs_v1)} == {"suspended"}
    for key in ("mine", "theirs", "draft-on-desk"):
        assert "kill_switch" in [r["code"] for r in gate(api, world.compliance, key)["reasons"]]

    first = release(api, world.compliance, engagement_id)
    assert first.status_code == 202 and first.json()["active"] is True
    assert first.json()["release_requested_by"] == "compliance"
    again = release(api, world.compliance, engagement_id)
    assert again.status_code == 409 and "two compliance signatures" in again.json()["detail"]
    assert gate(api, world.compliance, "mine")["allowed"] is False  # still stopped

    second = release(api, compliance2, engagement_id, reason="Agreed: the venue outage is over, resume.")
    assert second.status_code == 200 and second.json()["released_by"] == "compliance2"
    assert {status_of(world.mine_v1), status_of(world.theirs_v1)} == {"production"}
    assert gate(api, world.compliance, "mine")["allowed"] is True
    engagement = KillSwitch.objects.get(pk=engagement_id)
    for signature in (engagement.engage_signature, engagement.release_request_signature, engagement.release_signature):
        assert signatures.verify(signature) == (True, "intact")
    assert engagement.release_request_signature.signer == world.compliance
    assert engagement.release_signature.signer == compliance2


@pytest.mark.django_db
def test_a_desk_stop_touches_only_that_desk_and_blocks_a_model_that_goes_live_while_it_stands(world, api):
    assert engage(api, world.compliance, scope="desk", desk="rates").status_code == 201
    assert status_of(world.theirs_v1) == "suspended" and status_of(world.mine_v1) == "production"
    assert gate(api, world.compliance, "mine")["allowed"] is True
    # A new version of a rates model reaches production while the stop stands: still blocked.
    newer = make_version(world.developer2, world.theirs, label="2.0", status="production")
    assert status_of(newer) == "production"
    assert [r["code"] for r in gate(api, world.compliance, "theirs")["reasons"]] == ["kill_switch"]


@pytest.mark.django_db
def test_a_release_leaves_alone_a_version_that_moved_after_the_stop(world, api):
    engagement_id = engage(api, world.compliance, scope="desk", desk="rates").json()["id"]
    # After the stop, compliance retires the suspended version on its own account.
    workflow.version_transition(
        world.compliance, ModelVersion.objects.get(pk=world.theirs_v1.pk), "retire", comment="Retired after review."
    )
    assert release(api, world.compliance, engagement_id).status_code == 200
    assert status_of(world.theirs_v1) == "retired"
    audit = AuditEvent.objects.get(action="kill_switch.release", object_id=str(engagement_id))
    assert audit.changes["left_suspended"] == [None, ["theirs 1.0 (now retired: it moved since the stop)"]]


@pytest.mark.django_db
def test_a_second_stop_of_the_same_scope_is_a_409_naming_the_first(world, api):
    assert engage(api, world.compliance, scope="model", model="mine").status_code == 201
    second = engage(api, world.compliance, scope="model", model="mine")
    assert second.status_code == 409 and "already engaged" in second.json()["detail"]
    assert KillSwitch.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "model"}, "model"),
        ({"scope": "model", "model": "no-such-model"}, "model"),
        ({"scope": "desk", "desk": "nowhere"}, "desk"),
        ({"scope": "everything"}, "scope"),
        ({"scope": "all", "reason": "too short"}, "reason"),
        ({"scope": "all", "password": "wrong"}, "password"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stops_nothing(world, api, body, field):
    response = engage(api, world.compliance, **body)
    assert response.status_code == 400 and field in response.json(), response.content
    assert not KillSwitch.objects.exists()
    assert status_of(world.mine_v1) == "production"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["owner", "developer", "validator", "auditor", "trader"])
def test_only_compliance_presses_it(world, api, persona):
    response = engage(api, getattr(world, persona), scope="model", model="mine")
    assert response.status_code == 403
    assert not KillSwitch.objects.exists()


@pytest.mark.django_db
def test_auditors_read_the_engagements_and_others_do_not_learn_they_exist(world, api):
    engagement_id = engage(api, world.compliance, scope="model", model="mine").json()["id"]
    listed = api.as_user(world.auditor).get(URL).json()
    assert [e["id"] for e in listed["results"]] == [engagement_id]
    assert api.as_user(world.auditor).get(f"{URL}{engagement_id}/").status_code == 200
    assert api.as_user(world.owner).get(f"{URL}{engagement_id}/").status_code == 404
    assert api.as_user(world.owner).get(URL).status_code == 403
    assert release(api, world.owner, engagement_id).status_code == 404
    assert release(api, world.auditor, engagement_id).status_code == 403


@pytest.mark.django_db
def test_a_test_blocks_every_allowed_model_inside_a_rolled_back_transaction_and_is_kept_as_evidence(world, api):
    response = api.as_user(world.compliance).post(f"{URL}tests/")
    assert response.status_code == 201
    body = response.json()
    assert body["passed"] is True and body["allowed_before"] == 2 and body["blocked_during"] == 2
    assert {m["model"] for m in body["detail"]["models"]} == {"mine", "theirs"}
    # Nothing was stopped: no engagement, no suspension, the gate still allows.
    assert not KillSwitch.objects.exists()
    assert status_of(world.mine_v1) == "production"
    assert decisions.decision_for(world.mine).allowed
    assert AuditEvent.objects.filter(action="kill_switch.test", object_id=str(body["id"])).exists()
    assert api.as_user(world.trader).post(f"{URL}tests/").status_code == 403


@pytest.mark.django_db
def test_the_scheduled_test_runs_as_the_system(world):
    result = scheduled_test.apply().get()
    test = KillSwitchTest.objects.get(pk=result["test"])
    assert test.run_by is None and test.passed and result["allowed_before"] == 2


@pytest.mark.django_db
def test_a_test_fails_when_the_gate_does_not_block(world, monkeypatch):
    """The test is a real check: if the gate stopped honouring the kill switch, the test would say so."""
    real = decisions.compute

    def ignores_kill_switch(model, now=None):
        computed = real(model, now)
        reasons = [r for r in computed.body["reasons"] if r["code"] != "kill_switch"]
        return decisions.Computed({**computed.body, "reasons": reasons, "allowed": not reasons}, None)

    monkeypatch.setattr(decisions, "compute", ignores_kill_switch)
    test = killswitch.kill_switch_test(world.compliance)
    assert test.passed is False and sorted(test.detail["not_blocked"]) == ["mine", "theirs"]


@pytest.mark.django_db
def test_compliance_stops_and_releases_from_the_page(world, browser_client):
    client = browser_client.as_user(world.compliance)
    page = client.get("/kill-switch/?scope=model&model=mine").content.decode()
    assert 'data-testid="engage"' in page and 'value="mine"' in page
    response = client.post(
        "/kill-switch/", {"scope": "model", "model": "mine", "reason": REASON, "password": PASSWORD}, follow=True
    )
    assert "Kill switch engaged for model mine" in response.content.decode()
    engagement = KillSwitch.objects.get()
    assert status_of(world.mine_v1) == "suspended"
    release_url, prefix = f"/kill-switch/{engagement.pk}/release/", f"release-{engagement.pk}"
    refused = client.post(release_url, {f"{prefix}-reason": "x"}, follow=True)
    assert "20 characters" in refused.content.decode() or "required" in refused.content.decode()
    assert KillSwitch.objects.get().active
    client.post(release_url, {f"{prefix}-reason": "Fills explained by a venue outage.", f"{prefix}-password": PASSWORD})
    assert not KillSwitch.objects.get().active and status_of(world.mine_v1) == "production"
    detail = client.get(f"/kill-switch/{engagement.pk}/").content.decode()
    assert 'data-testid="suspensions"' in detail and "mine" in detail


@pytest.mark.django_db
def test_the_page_is_read_only_to_auditors_and_absent_for_everyone_else(world, browser_client):
    page = browser_client.as_user(world.auditor).get("/kill-switch/")
    assert page.status_code == 200 and 'data-testid="engage"' not in page.content.decode()
    assert browser_client.as_user(world.auditor).post("/kill-switch/tests/").status_code == 403
    for persona in ("owner", "developer", "trader", "validator"):
        assert browser_client.as_user(getattr(world, persona)).get("/kill-switch/").status_code == 404


@pytest.mark.django_db
def test_a_version_a_stop_covers_is_not_resumed_around_it(world, api):
    engagement_id = engage(api, world.compliance, scope="model", model="mine").json()["id"]
    response = api.as_user(world.compliance).post(
        "/api/v1/models/mine/versions/1.0/transitions/",
        {"action": "resume", "comment": "Looks fine.", "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 409 and "kill switch is engaged" in str(response.json()["reasons"])
    assert status_of(world.mine_v1) == "suspended"
    assert release(api, world.compliance, engagement_id).status_code == 200
    assert status_of(world.mine_v1) == "production"


@pytest.mark.django_db
def test_releasing_one_stop_leaves_suspended_what_another_stop_still_covers(world, api):
    compliance2 = UserFactory(username="compliance2", roles=["compliance"])
    model_stop = engage(api, world.compliance, scope="model", model="mine").json()["id"]
    firm_stop = engage(api, world.compliance, scope="all").json()["id"]
    assert release(api, world.compliance, model_stop).status_code == 200
    assert status_of(world.mine_v1) == "suspended"  # the firm-wide stop still covers it
    audit = AuditEvent.objects.get(action="kill_switch.release", object_id=str(model_stop))
    assert "mine 1.0 (still stopped for every model)" in audit.changes["left_suspended"][1]
    release(api, world.compliance, firm_stop)
    assert release(api, compliance2, firm_stop).status_code == 200
    assert status_of(world.theirs_v1) == "production"


@pytest.mark.django_db
def test_the_revision_log_records_a_stop_when_it_happens_not_when_someone_asks(
    world, django_capture_on_commit_callbacks
):
    from risk.gate.models import GateDecision

    decisions.decision_for(world.mine)  # revision 1, allowed
    with django_capture_on_commit_callbacks(execute=True):
        killswitch.kill_switch_engage(
            world.compliance, scope="model", model=world.mine, reason=REASON, password=PASSWORD
        )
    latest = GateDecision.objects.filter(model=world.mine).order_by("-revision").first()
    assert latest.revision == 2 and latest.allowed is False
    assert "kill_switch" in [r["code"] for r in latest.body["reasons"]]


@pytest.mark.django_db
def test_stops_released_in_either_order_end_with_the_versions_back(world, api):
    compliance2 = UserFactory(username="compliance2", roles=["compliance"])
    firm_stop = engage(api, world.compliance, scope="all").json()["id"]
    model_stop = engage(api, world.compliance, scope="model", model="mine").json()["id"]
    release(api, world.compliance, firm_stop)
    assert release(api, compliance2, firm_stop).status_code == 200
    assert status_of(world.mine_v1) == "suspended" and status_of(world.theirs_v1) == "production"
    assert release(api, world.compliance, model_stop).status_code == 200
    assert status_of(world.mine_v1) == "production"  # resumed by the last stop over it
    assert decisions.decision_for(world.mine).allowed


@pytest.mark.django_db
def test_no_rollback_around_a_standing_stop(world, api):
    make_version(world.developer, world.mine, label="1.1", status="production")
    engage(api, world.compliance, scope="model", model="mine")
    response = api.as_user(world.compliance).post(
        "/api/v1/models/mine/versions/1.1/transitions/", {"action": "rollback", "comment": "Back."}, format="json"
    )
    assert response.status_code == 409 and "kill switch is engaged" in str(response.json()["reasons"])
