"""Incidents: a breach opens one or adds to its monitor's open one (never two), anyone who sees the model reports one
(traders too), the team and compliance work on it, a high or critical one is closed by compliance with a signature,
and an open critical incident blocks the model at the gate."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.core import signatures
from governance.core.models import AuditEvent, Notification
from risk.gate import decisions
from risk.incidents import services
from risk.incidents.models import Incident
from risk.monitoring import evaluation, proposals
from risk.monitoring.models import Monitor
from tests.factories import PASSWORD
from tests.outbox import deliver
from tests.risk import monitoring_data as data

NOW = timezone.now().replace(microsecond=0)
URL = "/api/v1/incidents/"


@pytest.fixture
def breaching(world):
    """mine 1.0 with its monitors and trades that put its hit rate in breach."""
    proposals.propose(world.mine_v1)
    data.trades(world.developer, world.mine_v1, 200, start=NOW - dt.timedelta(days=5), win_rate=0.1)
    return Monitor.objects.get(version=world.mine_v1, measure="hit_rate")


def report(api, user, **body):
    fields = {"model": "mine", "title": "Fills far from the model's prices", "severity": "medium"}
    fields["description"] = "Since 10:05 the fills are 30 bp away from the prices the model expected."
    return api.as_user(user).post(URL, {**fields, **body}, format="json")


@pytest.mark.django_db
def test_a_breach_opens_an_incident_and_the_next_breach_of_that_monitor_adds_to_it(world, breaching, monkeypatch):
    first = evaluation.evaluate(breaching, NOW - dt.timedelta(hours=1))
    assert first.outcome == "breach"
    deliver()
    incident = Incident.objects.get()
    assert incident.monitor == breaching and incident.detected_by == "monitor" and incident.status == "open"
    assert incident.severity == services.SEVERITY_BY_TIER[world.mine.risk_tier]
    assert list(incident.results.all()) == [first]
    second = evaluation.evaluate(breaching, NOW)
    deliver()
    assert Incident.objects.count() == 1
    assert set(incident.results.all()) == {first, second}
    # Every breach is linked, but the timeline says "detected again" at most hourly.
    assert [e.kind for e in incident.entries.all()] == ["opened"]
    monkeypatch.setattr(services, "DETECTION_ENTRY_EVERY", dt.timedelta(0))
    third = evaluation.evaluate(breaching, NOW + dt.timedelta(hours=1))
    deliver()
    assert incident.results.count() == 3 and [e.kind for e in incident.entries.all()] == ["opened", "detection"]
    assert incident.entries.last().result == third and "breach threshold" in incident.entries.last().text
    assert AuditEvent.objects.filter(action="incident.open", object_id=str(incident.pk)).count() == 1
    # The owner is alerted: the alert links to the incident, the in-app notification to the alert's page.
    from risk.alerts.models import Alert

    alert = Alert.objects.get(kind="incident_opened", url=f"/incidents/{incident.pk}/")
    assert Notification.objects.filter(user=world.owner, url=f"/alerts/{alert.pk}/").exists()


@pytest.mark.django_db
def test_a_redelivered_breach_adds_nothing(world, breaching):
    result = evaluation.evaluate(breaching, NOW)
    payload = {"result": result.pk, "monitor": breaching.pk, "outcome": "breach"}
    services.incident_from_breach(payload)
    assert services.incident_from_breach(payload) is None
    assert Incident.objects.get().entries.count() == 1


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_incident_for_one_monitor(world, breaching):
    evaluation.evaluate(breaching, NOW)
    deliver()
    incident = Incident.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(
            model=incident.model,
            title="twin",
            description="twin",
            severity="low",
            detected_by="monitor",
            monitor=breaching,
            opened_at=NOW,
        )


@pytest.mark.django_db
def test_a_warning_is_no_incident(world, breaching):
    services.incident_from_breach({"result": 0, "monitor": breaching.pk, "outcome": "warn"})
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_a_trader_reports_an_incident_and_the_team_and_compliance_are_told(world, api):
    response = report(api, world.trader)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reported_by"] == "trader" and body["version"] == "1.0" and body["detected_by"] == "person"
    assert body["reference"] == f"INC-{body['id']:05d}" and body["entries"][0]["kind"] == "opened"
    deliver()
    from risk.alerts.models import Alert

    alert = Alert.objects.get(kind="incident_opened", url=f"/incidents/{body['id']}/")
    for person in (world.owner, world.developer, world.compliance):
        assert Notification.objects.filter(user=person, url=f"/alerts/{alert.pk}/").exists()
    assert not Notification.objects.filter(user=world.trader).exists()  # a medium incident: not the desk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [({"severity": "apocalyptic"}, "severity"), ({"title": ""}, "title"), ({"version": "9.9"}, "version")],
)
def test_a_bad_report_is_a_400_naming_the_field_and_records_nothing(world, api, body, field):
    response = report(api, world.trader, **body)
    assert response.status_code == 400 and field in response.json()
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_nobody_reports_on_or_reads_an_incident_of_a_model_they_cannot_see(world, api):
    assert report(api, world.outsider).status_code == 404
    incident_id = report(api, world.developer).json()["id"]
    assert api.as_user(world.developer2).get(f"{URL}{incident_id}/").status_code == 404
    assert api.as_user(world.auditor).get(f"{URL}{incident_id}/").status_code == 200
    assert [i["id"] for i in api.as_user(world.trader).get(URL).json()["results"]] == [incident_id]
    assert api.as_user(world.developer2).get(URL).json()["results"] == []


@pytest.mark.django_db
def test_the_team_works_on_it_and_each_change_is_on_the_timeline_and_audited(world, api):
    incident_id = report(api, world.trader).json()["id"]
    client = api.as_user(world.developer)
    response = client.patch(
        f"{URL}{incident_id}/",
        {"status": "investigating", "impact_pnl": "-125000.50", "impact_trades": 42, "note": "Looking at the feed."},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "investigating" and body["impact_pnl"] == "-125000.50" and body["impact_trades"] == 42
    assert [e["kind"] for e in body["entries"]] == ["opened", "status", "impact", "impact", "note"]
    audit = AuditEvent.objects.get(action="incident.update", object_id=str(incident_id))
    assert audit.changes["status"] == ["open", "investigating"]
    # A trader reports and adds notes, but does not run the incident.
    assert (
        api.as_user(world.trader).patch(f"{URL}{incident_id}/", {"status": "mitigated"}, format="json").status_code
        == 403
    )
    note = api.as_user(world.trader).post(f"{URL}{incident_id}/notes/", {"text": "Worse since 11:00."}, format="json")
    assert note.status_code == 201 and note.json()["entries"][-1]["text"] == "Worse since 11:00."
    bad = client.patch(f"{URL}{incident_id}/", {"impact_trades": -1}, format="json")
    assert bad.status_code == 400 and "impact_trades" in bad.json()


@pytest.mark.django_db
def test_a_medium_incident_is_closed_by_its_team_on_a_root_cause_and_actions(world, api):
    incident_id = report(api, world.trader).json()["id"]
    client = api.as_user(world.owner)
    missing = client.post(f"{URL}{incident_id}/close/", {"root_cause": "Feed lag."}, format="json")
    assert missing.status_code == 400 and "corrective_actions" in missing.json()
    closed = client.post(
        f"{URL}{incident_id}/close/",
        {"root_cause": "The venue's feed lagged by 2 s.", "corrective_actions": "Heartbeat check added to the feed."},
        format="json",
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["closed_by"] == "owner"
    again = client.post(f"{URL}{incident_id}/notes/", {"text": "One more thing."}, format="json")
    assert again.status_code == 409


@pytest.mark.django_db
def test_a_critical_incident_blocks_the_gate_and_only_compliance_closes_it_with_a_signature(world, api):
    publish_response(world)  # no automatic suspension: the incident alone blocks
    assert decisions.decision_for(world.mine).allowed
    incident_id = report(api, world.trader, severity="critical").json()["id"]
    blocked = decisions.decision_for(world.mine)
    assert not blocked.allowed and [r["code"] for r in blocked.body["reasons"]] == ["open_critical_incident"]
    close = {"root_cause": "Stale quotes from one venue.", "corrective_actions": "Venue dropped; feed monitor added."}
    assert api.as_user(world.owner).post(f"{URL}{incident_id}/close/", close, format="json").status_code == 403
    wrong = api.as_user(world.compliance).post(f"{URL}{incident_id}/close/", {**close, "password": "no"}, format="json")
    assert wrong.status_code == 400 and "password" in wrong.json()
    assert Incident.objects.get(pk=incident_id).is_open
    signed = api.as_user(world.compliance).post(
        f"{URL}{incident_id}/close/", {**close, "password": PASSWORD}, format="json"
    )
    assert signed.status_code == 200
    incident = Incident.objects.get(pk=incident_id)
    assert incident.closure_signature.meaning == "incident_closed"
    assert signatures.verify(incident.closure_signature) == (True, "intact")
    Incident.objects.filter(pk=incident_id).update(root_cause="Something else.")
    assert signatures.verify(incident.closure_signature)[0] is False  # the signed root cause was edited
    assert decisions.decision_for(world.mine).allowed


@pytest.mark.django_db
def test_pages_report_show_and_work_on_an_incident(world, browser_client):
    client = browser_client.as_user(world.trader)
    model_page = client.get("/models/mine/?section=incidents").content.decode()
    assert 'data-panel="incidents"' in model_page and "/incidents/new/?model=mine" in model_page
    response = client.post(
        "/incidents/new/",
        {"model": "mine", "severity": "high", "title": "Orders rejected", "description": "Every order since 14:02."},
        follow=True,
    )
    page = response.content.decode()
    incident = Incident.objects.get()
    assert (
        f"{incident.reference} reported" in page and 'data-testid="note"' in page and 'data-testid="update"' not in page
    )
    owner = browser_client.as_user(world.owner)
    detail = owner.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'data-testid="update"' in detail and 'data-testid="compliance-closes"' in detail
    assert "Sign and close" not in detail  # a high incident is compliance's to close
    assert (
        "Sign and close" in browser_client.as_user(world.compliance).get(f"/incidents/{incident.pk}/").content.decode()
    )
    owner = browser_client.as_user(world.owner)
    owner.post(f"/incidents/{incident.pk}/", {"action": "update", "status": "investigating", "severity": "high"})
    assert Incident.objects.get().status == "investigating"
    listing = owner.get("/incidents/").content.decode()
    assert incident.reference in listing
    assert browser_client.as_user(world.developer2).get(f"/incidents/{incident.pk}/").status_code == 404


def publish_response(world, suspend=(), revalidation=()):
    from governance.core.policy import policy_publish

    tiers = ("1", "2", "3")
    return policy_publish(
        world.compliance,
        incident_response={
            "suspend": {t: list(suspend) for t in tiers},
            "revalidation": {t: list(revalidation) for t in tiers},
        },
    )


@pytest.mark.django_db
def test_the_policy_suspends_the_live_version_on_a_severe_incident_signed_as_the_policys_action(world, api):
    from governance.core.system import USERNAME
    from models_registry.models import ModelVersion

    policy = publish_response(world, suspend=["critical", "high"], revalidation=["critical"])
    assert report(api, world.trader, severity="medium").status_code == 201
    assert ModelVersion.objects.get(pk=world.mine_v1.pk).status == "production"  # medium: nothing automatic
    body = report(api, world.trader, severity="high").json()
    version = ModelVersion.objects.get(pk=world.mine_v1.pk)
    assert version.status == "suspended"
    transition = version.transitions.order_by("-at", "-id").first()
    assert transition.actor.username == USERNAME and transition.details["by_policy"]["incident"] == body["reference"]
    signature = transition.signature
    assert signature.meaning == "suspended_by_policy" and signature.payload["cause"]["policy"] == policy.version
    assert signatures.verify(signature) == (True, "intact")
    assert AuditEvent.objects.filter(
        action="version.suspend", object_id=str(version.pk), actor_username=USERNAME
    ).exists()
    incident = Incident.objects.get(pk=body["id"])
    assert [e.kind for e in incident.entries.all()] == ["opened", "policy"]
    world.mine.refresh_from_db()
    assert world.mine.revalidation_flag == ""  # high is not in this policy's revalidation list
    gate = decisions.decision_for(world.mine)
    assert not gate.allowed and [r["code"] for r in gate.body["reasons"]] == ["suspended"]


@pytest.mark.django_db
def test_raising_the_severity_applies_the_policy_and_revalidation_required_stands_until_a_validation(world, api):
    from governance.lifecycle.revalidation import revalidation_sweep

    publish_response(world, revalidation=["critical"])
    incident_id = report(api, world.trader, severity="medium").json()["id"]
    world.mine.refresh_from_db()
    assert world.mine.revalidation_flag == ""
    api.as_user(world.compliance).patch(f"{URL}{incident_id}/", {"severity": "critical"}, format="json")
    world.mine.refresh_from_db()
    assert world.mine.revalidation_flag == "required"
    revalidation_sweep()  # the daily sweep keeps it
    world.mine.refresh_from_db()
    assert world.mine.revalidation_flag == "required"
    deliver()
    assert Notification.objects.filter(user=world.validator, kind="validation_required").exists()


@pytest.mark.django_db
def test_compliance_rolls_back_from_the_incident_and_a_validator_raises_a_linked_finding(world, api):
    from models_registry.models import ModelVersion
    from tests.factories import make_version

    newer = make_version(world.developer, world.mine, label="1.1", status="production")
    incident_id = report(api, world.trader, version="1.1").json()["id"]
    refused = api.as_user(world.owner).post(f"{URL}{incident_id}/rollback/", {"comment": "Back to 1.0."}, format="json")
    assert refused.status_code == 403
    rolled = api.as_user(world.compliance).post(
        f"{URL}{incident_id}/rollback/", {"comment": "Back to 1.0."}, format="json"
    )
    assert rolled.status_code == 200, rolled.content
    assert ModelVersion.objects.get(pk=newer.pk).status == "retired"
    assert ModelVersion.objects.get(pk=world.mine_v1.pk).status == "production"
    assert rolled.json()["entries"][-1]["kind"] == "action"
    again = api.as_user(world.compliance).post(f"{URL}{incident_id}/rollback/", {"comment": "Again."}, format="json")
    assert again.status_code == 409
    due = (timezone.now() + dt.timedelta(days=30)).date().isoformat()
    finding = {
        "severity": "high",
        "title": "Fill model",
        "description": "Fills drift.",
        "owner": "owner",
        "due_date": due,
    }
    assert api.as_user(world.owner).post(f"{URL}{incident_id}/findings/", finding, format="json").status_code == 403
    raised = api.as_user(world.validator).post(f"{URL}{incident_id}/findings/", finding, format="json")
    assert raised.status_code == 201, raised.content
    assert len(raised.json()["findings"]) == 1
    bad = api.as_user(world.validator).post(
        f"{URL}{incident_id}/findings/", {**finding, "owner": "trader"}, format="json"
    )
    assert bad.status_code == 400 and "owner" in bad.json()
    marked = api.as_user(world.validator).post(
        f"{URL}{incident_id}/revalidation/", {"reason": "Fill model wrong."}, format="json"
    )
    assert marked.status_code == 200
    assert (
        api.as_user(world.validator)
        .post(f"{URL}{incident_id}/revalidation/", {"reason": "Again."}, format="json")
        .status_code
        == 409
    )


@pytest.mark.django_db
def test_only_compliance_lowers_a_high_or_critical_incident(world, api):
    """Else the team could lower it and close it without compliance's signature, or lift a critical block."""
    publish_response(world)
    incident_id = report(api, world.trader, severity="critical").json()["id"]
    lowered = api.as_user(world.owner).patch(f"{URL}{incident_id}/", {"severity": "medium"}, format="json")
    assert lowered.status_code == 403 and Incident.objects.get(pk=incident_id).severity == "critical"
    assert not decisions.decision_for(world.mine).allowed
    raised = report(api, world.trader, severity="low").json()["id"]
    assert api.as_user(world.owner).patch(f"{URL}{raised}/", {"severity": "high"}, format="json").status_code == 200
    ok = api.as_user(world.compliance).patch(f"{URL}{incident_id}/", {"severity": "medium"}, format="json")
    assert ok.status_code == 200 and decisions.decision_for(world.mine).allowed


@pytest.mark.django_db
def test_auditors_read_incidents_but_neither_report_nor_write_on_them(world, api):
    assert report(api, world.auditor).status_code == 403
    incident_id = report(api, world.trader).json()["id"]
    assert api.as_user(world.auditor).get(f"{URL}{incident_id}/").status_code == 200
    note = api.as_user(world.auditor).post(f"{URL}{incident_id}/notes/", {"text": "Seen."}, format="json")
    assert note.status_code == 403


@pytest.mark.django_db
def test_corrective_actions_from_the_incident_page(world, api, browser_client):
    publish_response(world)
    incident_id = report(api, world.trader).json()["id"]
    url = f"/incidents/{incident_id}/"
    validator = browser_client.as_user(world.validator)
    page = validator.get(url).content.decode()
    assert 'data-testid="raise-finding"' in page and 'data-testid="rollback"' not in page
    due = (timezone.now() + dt.timedelta(days=30)).date().isoformat()
    fields = {"action": "finding", "severity": "medium", "title": "Fills", "description": "Drift.", "due_date": due}
    response = validator.post(url, fields | {"owner": world.owner.pk}, follow=True)
    assert "Finding raised and linked" in response.content.decode()
    assert Incident.objects.get(pk=incident_id).findings.count() == 1
    refused = validator.post(url, fields | {"owner": world.trader.pk})  # not of the model's team
    assert refused.status_code == 200 and "Nothing was changed" in refused.content.decode()
    compliance = browser_client.as_user(world.compliance)
    assert 'data-testid="rollback"' in compliance.get(url).content.decode()
    compliance.post(url, {"action": "revalidation", "reason": "Fill model needs a second look."})
    world.mine.refresh_from_db()
    assert world.mine.revalidation_flag == "required"
    rollback = compliance.post(url, {"action": "rollback", "comment": "Back."}, follow=True).content.decode()
    assert "There is no earlier production version of this model to roll back to." in rollback
    assert world.mine_v1.__class__.objects.get(pk=world.mine_v1.pk).status == "production"


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "field"), [({"model": "a\x00b"}, "model"), ({"status": "lost"}, "status")])
def test_a_bad_list_filter_is_a_400_naming_it(world, api, query, field):
    response = api.as_user(world.trader).get(URL, query)
    assert response.status_code == 400 and field in response.json()


@pytest.mark.django_db
def test_a_version_the_policy_suspended_is_not_resumed_while_its_incident_is_open(world, api):
    from models_registry.models import ModelVersion

    publish_response(world, suspend=["high"])
    incident_id = report(api, world.trader, severity="high").json()["id"]
    assert ModelVersion.objects.get(pk=world.mine_v1.pk).status == "suspended"
    resume = {"action": "resume", "comment": "Looks fine now.", "password": PASSWORD}
    url = "/api/v1/models/mine/versions/1.0/transitions/"
    refused = api.as_user(world.compliance).post(url, resume, format="json")
    assert refused.status_code == 409 and "close it before resuming" in str(refused.json()["reasons"])
    close = {"root_cause": "Venue outage.", "corrective_actions": "Venue dropped.", "password": PASSWORD}
    assert api.as_user(world.compliance).post(f"{URL}{incident_id}/close/", close, format="json").status_code == 200
    assert api.as_user(world.compliance).post(url, resume, format="json").status_code == 200


@pytest.mark.django_db
def test_the_page_offers_the_team_no_lower_severity_and_shows_a_refusal_beside_the_form(world, api, browser_client):
    publish_response(world)
    incident_id = report(api, world.trader, severity="high").json()["id"]
    owner = browser_client.as_user(world.owner)
    page = owner.get(f"/incidents/{incident_id}/").content.decode()
    assert '<option value="critical"' in page and '<option value="medium"' not in page
    refused = owner.post(
        f"/incidents/{incident_id}/", {"action": "update", "status": "investigating", "severity": "low", "note": "x"}
    )
    assert refused.status_code == 200 and "Only compliance lowers the severity" in refused.content.decode()
    auditor = browser_client.as_user(world.auditor)
    assert 'data-testid="report-incident"' not in auditor.get("/incidents/").content.decode()
    assert auditor.get("/incidents/new/").status_code == 403


@pytest.mark.django_db
def test_the_incident_page_and_the_api_share_their_filters(world, api, client):
    report(api, world.trader, severity="high")
    client.force_login(world.compliance)
    assert "INC-" in client.get("/incidents/").content.decode()  # opens on what is not closed
    assert client.get("/incidents/?severity=low").content.decode().count("INC-0") == 0
    bad = client.get("/incidents/?status=lost")
    assert bad.status_code == 400 and "Status:" in bad.content.decode()
    listed = api.as_user(world.compliance).get(URL, {"status": "active", "severity": "high"}).json()
    assert listed["count"] == 1 and listed["results"][0]["severity"] == "high"
    assert api.as_user(world.compliance).get(URL, {"status": "closed"}).json()["count"] == 0
