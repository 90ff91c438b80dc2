"""Alerts: who is told of a breach, an incident, a suspension or a kill-switch action (in-app, e-mail, webhooks),
mutes and their limits, signed webhook deliveries with every attempt recorded, secret rotation, and bad input."""

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import socket
import threading

import pytest
from django.utils import timezone

from governance.core import outbound
from governance.core.models import AuditEvent, Event, Notification
from risk.alerts import services, webhooks
from risk.alerts.models import Alert, AlertMute, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from risk.gate import killswitch
from risk.monitoring import evaluation, proposals
from risk.monitoring.models import Monitor
from tests.factories import PASSWORD, UserFactory
from tests.outbox import deliver
from tests.risk import monitoring_data as data
from tests.risk.webhook_receiver import Receiver

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def receivers_on_loopback(settings):
    """The test receivers listen on 127.0.0.1: allowed here as a deployment allows its own network. Tests of
    what is refused set the setting back to nothing."""
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def breaching(world):
    """mine 1.0 with its monitors and trades that put its hit rate in breach."""
    proposals.propose(world.mine_v1)
    data.trades(world.developer, world.mine_v1, 200, start=NOW - dt.timedelta(days=5), win_rate=0.1)
    return Monitor.objects.get(version=world.mine_v1, measure="hit_rate")


def hook(world, receiver_url="http://127.0.0.1:9/", **fields):
    endpoint, secret = services.webhook_create(
        world.compliance, name=fields.pop("name", "desk bot"), url=receiver_url, **fields
    )
    return endpoint, secret


def told(alert) -> set[str]:
    return set(alert.recipients.values_list("username", flat=True))


@pytest.mark.django_db
def test_a_breach_reaches_the_models_people_its_desk_and_compliance_in_app_by_email_and_by_webhook(world, breaching):
    mine_desk, _ = hook(world, name="sys-eq bot", desk=world.desk)
    other_desk, _ = hook(world, name="rates bot", desk=world.other_desk)
    firm, _ = hook(world, name="firm incident tool", kinds=["monitor_breach"])
    warnings_only, _ = hook(world, name="warnings only", kinds=["monitor_warn"])
    result = evaluation.evaluate(breaching, NOW)
    assert result.outcome == "breach"
    deliver()
    alert = Alert.objects.get(kind="monitor_breach")
    assert alert.model == world.mine and alert.version == world.mine_v1 and alert.source == f"result:{result.pk}"
    assert "hit rate" in alert.title.lower() and "breach threshold" in alert.title
    assert {"owner", "developer", "validator", "trader", "compliance"} <= told(alert)
    assert not told(alert) & {"owner2", "developer2", "validator2"}  # another desk's people
    notes = Notification.objects.filter(dedupe_key=f"alert:{alert.pk}")
    assert set(notes.values_list("user__username", flat=True)) == told(alert)
    assert notes.filter(user=world.owner, kind="monitor_breach", url=f"/alerts/{alert.pk}/").exists()
    assert alert.url == f"/monitoring/monitors/{breaching.pk}/"
    emails = [e.payload for e in Event.objects.filter(kind="email") if alert.title[:60] in e.payload["subject"]]
    assert {e["to"] for e in emails} == {u.email for u in alert.recipients.all() if u.email}
    assert set(alert.deliveries.values_list("endpoint__name", flat=True)) == {"sys-eq bot", "firm incident tool"}
    assert not WebhookDelivery.objects.filter(endpoint__in=[other_desk, warnings_only]).exists()
    assert mine_desk and firm


@pytest.mark.django_db
def test_a_monitor_that_stays_in_breach_is_told_once_an_hour_and_a_warning_only_to_the_models_people(
    world, breaching, settings
):
    evaluation.evaluate(breaching, NOW - dt.timedelta(minutes=10))
    evaluation.evaluate(breaching, NOW)
    deliver()
    assert Alert.objects.filter(kind="monitor_breach").count() == 1
    settings.VIGIL_ALERT_REPEAT_MINUTES = 0
    evaluation.evaluate(breaching, NOW + dt.timedelta(minutes=10))
    deliver()
    assert Alert.objects.filter(kind="monitor_breach").count() == 2
    # A warning: the team and the validator, not the desk or compliance.
    warn = Alert.objects.create(
        kind="monitor_warn", severity="medium", title="warn", source="test:warn", model=world.mine, occurred_at=NOW
    )
    services.deliver(warn)
    assert told(warn) == {"owner", "developer", "validator"}


@pytest.mark.django_db
def test_mutes_silence_non_critical_kinds_but_never_a_breach_on_ones_own_model(world, breaching, api):
    # The owner mutes breaches and incidents; compliance mutes breaches.
    services.mutes_set(world.owner, ["monitor_breach", "incident_opened"])
    services.mutes_set(world.compliance, ["monitor_breach"])
    assert AuditEvent.objects.filter(action="alerts.mutes", actor=world.owner).exists()
    evaluation.evaluate(breaching, NOW)
    deliver()
    breach = Alert.objects.get(kind="monitor_breach")
    assert "owner" in told(breach), "a breach on one's own model is never muted"
    assert "compliance" not in told(breach)
    opened = Alert.objects.get(kind="incident_opened")
    assert opened.severity != "critical"
    assert "owner" not in told(opened) and "compliance" in told(opened)
    # A critical alert comes through whatever is muted.
    critical = Alert.objects.create(
        kind="incident_opened", severity="critical", title="c", source="test:c", model=world.mine, occurred_at=NOW
    )
    services.deliver(critical)
    assert "owner" in told(critical)
    # Stops can't be muted: 400 naming the field, nothing changed.
    answer = api.as_user(world.owner).put("/api/v1/alerts/mutes/", {"muted": ["model_suspended"]}, format="json")
    assert answer.status_code == 400 and "muted" in answer.json()
    assert set(AlertMute.objects.filter(user=world.owner).values_list("kind", flat=True)) == {
        "monitor_breach",
        "incident_opened",
    }
    answer = api.as_user(world.owner).put("/api/v1/alerts/mutes/", {"muted": ["monitor_warn"]}, format="json")
    assert answer.status_code == 200 and answer.json() == {"muted": ["monitor_warn"]}


@pytest.mark.django_db
def test_the_kill_switch_is_one_alert_to_everyone_concerned_not_one_per_suspended_version(world):
    killswitch.kill_switch_engage(
        world.compliance,
        scope="desk",
        desk=world.desk,
        reason="Exchange outage on the equities venue.",
        password=PASSWORD,
    )
    deliver()
    engaged = Alert.objects.get(kind="kill_switch_engaged")
    assert engaged.severity == "critical" and engaged.desk == world.desk
    assert {"trader", "owner", "developer", "validator", "compliance"} <= told(engaged)
    assert not Alert.objects.filter(kind="model_suspended").exists()


@pytest.mark.django_db
def test_a_suspension_and_a_rollback_are_alerts_nobody_can_mute(world):
    from governance.lifecycle import workflow

    services.mutes_set(world.trader, [])
    workflow.version_transition(
        world.compliance, world.mine_v1, workflow.Action.SUSPEND, comment="Fills far from model prices."
    )
    deliver()
    alert = Alert.objects.get(kind="model_suspended")
    assert alert.severity == "critical" and "suspended" in alert.title and "Fills far" in alert.title
    assert {"owner", "developer", "validator", "trader", "compliance"} <= told(alert)


def verify(secret: str, request: dict) -> bool:
    headers = {k.lower(): v for k, v in request["headers"].items()}
    expected = hmac.new(
        secret.encode(), headers["x-vigil-timestamp"].encode() + b"." + request["body"], hashlib.sha256
    ).hexdigest()
    return any(hmac.compare_digest(f"v1={expected}", part) for part in headers["x-vigil-signature"].split(","))


@pytest.mark.django_db
def test_a_webhook_is_signed_retried_with_backoff_and_every_attempt_is_recorded(world, breaching, settings):
    settings.VIGIL_WEBHOOK_RETRY_SECONDS = 10
    with Receiver(answers=[500, 503, 200]) as receiver:
        endpoint, secret = hook(world, receiver.url)
        evaluation.evaluate(breaching, NOW)
        deliver()
        delivery = WebhookDelivery.objects.get(alert__kind="monitor_breach")
        assert webhooks.send(delivery.pk) == "pending"
        delivery.refresh_from_db()
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        assert 8 < wait <= 10, "the first retry waits the base delay"
        assert webhooks.send(delivery.pk) == "not due"
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert webhooks.send(delivery.pk) == "pending"
        delivery.refresh_from_db()
        assert 18 < (delivery.next_attempt_at - timezone.now()).total_seconds() <= 20, "then twice as long"
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert webhooks.send(delivery.pk) == "delivered"
        assert webhooks.send(delivery.pk) == "delivered"  # nothing more is sent
        requests = receiver.wait_for(3)
    assert len(requests) == 3
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "outcome", "status_code"))
    assert attempts == [(1, "refused", 500), (2, "refused", 503), (3, "delivered", 200)]
    assert all(verify(secret, r) for r in requests)
    first = requests[0]
    assert not verify("whsec_wrong", first)
    headers = {k.lower(): v for k, v in first["headers"].items()}
    assert headers["x-vigil-delivery"] == str(delivery.pk) and headers["x-vigil-event"] == "monitor_breach"
    assert [r["headers"]["X-Vigil-Attempt"] for r in requests] == ["1", "2", "3"]
    body = json.loads(first["body"])
    assert body["alert"]["kind"] == "monitor_breach" and body["alert"]["model"] == "mine"
    assert body["alert"]["severity"] == delivery.alert.severity and body["delivery"] == delivery.pk


@pytest.mark.django_db
def test_a_delivery_gives_up_after_the_last_attempt(world, breaching, settings):
    settings.VIGIL_WEBHOOK_MAX_ATTEMPTS = 2
    with Receiver(answers=[500]) as receiver:
        hook(world, receiver.url)
        evaluation.evaluate(breaching, NOW)
        deliver()
        delivery = WebhookDelivery.objects.get(alert__kind="monitor_breach")
        webhooks.send(delivery.pk)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert webhooks.send(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.last_error.startswith("HTTP 500")


@pytest.mark.django_db
def test_an_attempt_whose_worker_was_lost_is_recorded_as_interrupted_and_taken_over(world, breaching):
    with Receiver() as receiver:
        hook(world, receiver.url, kinds=["monitor_breach"])
        evaluation.evaluate(breaching, NOW)
        deliver()
        delivery = WebhookDelivery.objects.get()
        claimed = webhooks._claim(delivery.pk)  # a worker claims it, then dies before posting
        assert not isinstance(claimed, str)
        assert webhooks.send(delivery.pk) == "being sent"  # its lease holds
        WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
        assert webhooks.sweep() == 1  # hands it over (eagerly in tests): the new worker takes it over
        delivery.refresh_from_db()
        assert delivery.status == "delivered"
        receiver.wait_for(1)
    outcomes = list(delivery.attempt_log.values_list("number", "outcome"))
    assert outcomes == [(1, "interrupted"), (2, "delivered")]


@pytest.mark.django_db
def test_a_rotated_secret_signs_beside_the_previous_one_for_the_grace_period(world, breaching, settings):
    with Receiver() as receiver:
        endpoint, old = hook(world, receiver.url)
        new = services.webhook_rotate_secret(world.compliance, endpoint)
        assert new != old and new.startswith("whsec_")
        endpoint.refresh_from_db()
        evaluation.evaluate(breaching, NOW)
        deliver()
        delivery = WebhookDelivery.objects.get(alert__kind="monitor_breach")
        webhooks.send(delivery.pk)
        request = receiver.wait_for(1)[0]
    assert verify(new, request) and verify(old, request)
    later = timezone.now() + dt.timedelta(hours=settings.VIGIL_WEBHOOK_ROTATION_GRACE_HOURS, seconds=1)
    header = webhooks.signature_header(endpoint, "1", b"{}", now=later)
    assert header.count("v1=") == 1
    assert AuditEvent.objects.filter(action="webhook.rotate_secret", object_id=str(endpoint.pk)).exists()
    assert not AuditEvent.objects.filter(changes__icontains=new).exists(), "a secret is never in the audit trail"


@pytest.mark.django_db
def test_webhook_receivers_refuse_bad_input_and_are_compliances_alone(world, api):
    url = "/api/v1/webhooks/"
    compliance = api.as_user(world.compliance)
    for bad in ("ftp://example.com/hook", "javascript:alert(1)", "http://", "not a url"):
        answer = compliance.post(url, {"name": "bad", "url": bad}, format="json")
        assert answer.status_code == 400 and "url" in answer.json(), bad
    answer = compliance.post(
        url, {"name": "ok", "url": "https://hooks.example.com/x", "kinds": ["nope"]}, format="json"
    )
    assert answer.status_code == 400 and "kinds" in answer.json()
    # A NUL byte in the desk (found by schemathesis on PostgreSQL) is a 400 naming it, not a database error.
    answer = compliance.post(url, {"name": "nul", "url": "https://hooks.example.com/z", "desk": "ra\x00tes"})
    assert answer.status_code == 400 and "desk" in answer.json()
    created = compliance.post(url, {"name": "ok", "url": "https://hooks.example.com/x", "desk": "rates"}, format="json")
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    assert "secret" not in compliance.get(f"{url}{created.json()['id']}/").json()
    again = compliance.post(url, {"name": "ok", "url": "https://hooks.example.com/y"}, format="json")
    assert again.status_code == 409
    for person in (world.trader, world.owner, world.validator):
        assert api.as_user(person).get(url).status_code == 404
        assert api.as_user(person).get(f"{url}{created.json()['id']}/").status_code == 404
    assert api.as_user(world.auditor).get(url).status_code == 200
    assert (
        api.as_user(world.auditor).post(url, {"name": "x", "url": "https://a.example/"}, format="json").status_code
        == 403
    )
    disable = f"{url}{created.json()['id']}/disable/"
    compliance = api.as_user(world.compliance)  # the client was switched to other people above
    assert compliance.post(disable, {"reason": ""}, format="json").status_code == 400
    assert compliance.post(disable, {"reason": "Replaced by the new bot."}, format="json").status_code == 200
    assert compliance.post(disable, {"reason": "Again."}, format="json").status_code == 409


@pytest.mark.django_db
def test_people_see_only_alerts_about_models_they_may_see(world, api):
    theirs = Alert.objects.create(
        kind="monitor_warn", severity="medium", title="t", source="test:t", model=world.theirs, occurred_at=NOW
    )
    mine = Alert.objects.create(
        kind="monitor_warn", severity="medium", title="m", source="test:m", model=world.mine, occurred_at=NOW
    )
    trader = api.as_user(world.trader)
    listed = [a["id"] for a in trader.get("/api/v1/alerts/").json()["results"]]
    assert mine.pk in listed and theirs.pk not in listed
    assert trader.get(f"/api/v1/alerts/{theirs.pk}/").status_code == 404
    assert trader.get(f"/api/v1/alerts/{mine.pk}/").json()["deliveries"] is None
    assert api.as_user(world.compliance).get(f"/api/v1/alerts/{theirs.pk}/").json()["deliveries"] == []
    assert api.as_user(world.compliance).get("/api/v1/alerts/?severity=bogus").status_code == 400


@pytest.mark.django_db
def test_the_alert_pages_show_who_was_told_and_each_attempt(world, breaching, client):
    with Receiver(answers=[502, 200]) as receiver:
        hook(world, receiver.url, name="firm tool")
        evaluation.evaluate(breaching, NOW)
        deliver()
        delivery = WebhookDelivery.objects.get(alert__kind="monitor_breach")
        webhooks.send(delivery.pk)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        webhooks.send(delivery.pk)
    client.force_login(world.compliance)
    page = client.get("/alerts/").content.decode()
    assert "Monitor breach" in page and "webhooks: 1 of 1 delivered" in page
    detail = client.get(f"/alerts/{delivery.alert_id}/").content.decode()
    assert "firm tool" in detail and "HTTP 502" in detail and "HTTP 200" in detail
    # A receiver added on the page: its secret is shown once, after a redirect (reloading never re-submits).
    added = client.post("/alerts/webhooks/", {"name": "desk bot", "url": "https://bots.example.com/vigil"})
    assert added.status_code == 302 and added.url.endswith("/secret/")
    assert "whsec_" in client.get(added.url).content.decode()
    again = client.get(added.url)
    assert again.status_code == 302 and "whsec_" not in client.get(again.url).content.decode()
    # Opening an alert reads its notification.
    assert Notification.objects.filter(user=world.compliance, read_at__isnull=True, kind="monitor_breach").count() == 0
    client.force_login(world.trader)
    assert "webhooks:" not in client.get("/alerts/").content.decode()
    assert client.get("/alerts/webhooks/").status_code == 404
    assert "HTTP 502" not in client.get(f"/alerts/{delivery.alert_id}/").content.decode()
    assert client.get("/alerts/?since=yesterday").status_code == 400
    user = UserFactory(username="newcomer", roles=["developer"])
    client.force_login(user)
    assert client.post("/alerts/settings/", {"muted": ["kill_switch_engaged"]}).status_code == 400
    assert not AlertMute.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_alerts_are_listed_newest_first_and_found_by_part_of_a_model_key(world, api):
    for i in range(3):
        Alert.objects.create(
            kind="monitor_warn",
            severity="medium",
            title=f"warn {i}",
            source=f"test:{i}",
            model=world.mine,
            occurred_at=NOW + dt.timedelta(minutes=i),
        )
    listed = api.as_user(world.compliance).get("/api/v1/alerts/", {"model": "MIN"}).json()["results"]
    assert [a["title"] for a in listed] == ["warn 2", "warn 1", "warn 0"]


# --- Outbound guard, credentials ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_receiver_inside_vigils_network_is_refused_by_the_api_and_the_page(world, api, client, settings):
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = []
    compliance = api.as_user(world.compliance)
    for url in (
        "http://127.0.0.1:5432/",
        "http://localhost:6379/",
        "http://169.254.169.254/latest/",
        "http://[::1]/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.1.2.3/",
    ):
        answer = compliance.post("/api/v1/webhooks/", {"name": "scan", "url": url}, format="json")
        assert answer.status_code == 400, url
        assert answer.json()["url"][0].startswith("Vigil does not send to this address: "), url
    metadata = compliance.post("/api/v1/webhooks/", {"name": "scan", "url": "http://169.254.169.254/"}, format="json")
    assert "cloud metadata address, never allowed" in metadata.json()["url"][0]
    client.force_login(world.compliance)
    page = client.post("/alerts/webhooks/", {"name": "scan", "url": "http://localhost:6379/"})
    assert page.status_code == 400
    assert "localhost: 127.0.0.1 is a loopback address" in page.context["form"].errors["url"][0]
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEvent.objects.filter(action="webhook.create").exists()
    # The deployment allows its own network: the same receiver is accepted.
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert (
        compliance.post("/api/v1/webhooks/", {"name": "ok", "url": "http://10.1.2.3/"}, format="json").status_code
        == 201
    )


@pytest.mark.django_db
def test_a_name_that_resolves_inside_at_delivery_time_is_not_sent_to_and_the_log_says_so(
    world, breaching, settings, monkeypatch, client
):
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = []
    public, loopback = [ipaddress.ip_address("93.184.216.34")], [ipaddress.ip_address("127.0.0.1")]
    answers = iter([public, loopback])
    monkeypatch.setattr(outbound, "resolve", lambda host, port, timeout: next(answers))
    with Receiver() as receiver:
        hook(world, receiver.url.replace("127.0.0.1", "hooks.example.com"), name="firm tool")  # public now
        evaluation.evaluate(breaching, NOW)
        deliver()
        delivery = WebhookDelivery.objects.get(alert__kind="monitor_breach")
        assert webhooks.send(delivery.pk) == "pending"  # rebound to loopback: refused at connect time
        assert receiver.requests == []
    attempt = delivery.attempt_log.get()
    assert (attempt.outcome, attempt.status_code) == ("not_allowed", None)
    assert attempt.error.startswith("address not allowed: hooks.example.com: 127.0.0.1 is a loopback address")
    client.force_login(world.auditor)
    assert (
        "Not sent: address not allowed: hooks.example.com: 127.0.0.1"
        in client.get(f"/alerts/{delivery.alert_id}/").content.decode()
    )


@pytest.mark.django_db
def test_the_attempt_log_shows_the_outcome_never_what_an_internal_service_answered(world, breaching, api):
    """An allowed address whose service is not HTTP (Redis, say) answers with its own words: the log keeps
    Vigil's."""
    server = socket.create_server(("127.0.0.1", 0))

    def redis_like():
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"-ERR wrong number of arguments for 'post' command, requirepass hunter2\r\n")
        conn.close()

    threading.Thread(target=redis_like, daemon=True).start()
    try:
        hook(world, f"http://127.0.0.1:{server.getsockname()[1]}/", name="internal")
        evaluation.evaluate(breaching, NOW)
        deliver()
        delivery = WebhookDelivery.objects.get(alert__kind="monitor_breach")
        webhooks.send(delivery.pk)
    finally:
        server.close()
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == "unreachable" and attempt.error == "the answer was not HTTP"
    shown = api.as_user(world.auditor).get(f"/api/v1/alerts/{delivery.alert_id}/").content.decode()
    assert "the answer was not HTTP" in shown and "ERR" not in shown and "hunter2" not in shown


@pytest.mark.django_db
def test_receiver_credentials_are_never_shown_back_to_compliance_or_auditors(world, api, client):
    url = "https://bot:hunter2@hooks.example.com/vigil?token=tok-secret-123&desk=eq"
    shown = "https://***@hooks.example.com/vigil?token=***&desk=***"
    created = api.as_user(world.compliance).post("/api/v1/webhooks/", {"name": "bot", "url": url}, format="json")
    assert created.status_code == 201 and created.json()["url"] == shown
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.url == url  # kept whole: it is what Vigil sends to
    Alert.objects.create(kind="monitor_warn", severity="medium", title="t", source="test:t", occurred_at=NOW)
    delivery = WebhookDelivery.objects.create(alert=Alert.objects.get(), endpoint=endpoint, next_attempt_at=NOW)
    webhooks.send(delivery.pk)  # hooks.example.com does not resolve here: an attempt is logged all the same
    events = AuditEvent.objects.filter(object_type="alerts.webhookendpoint")
    assert events.exists() and not any(
        "hunter2" in json.dumps(e.changes) or "tok-secret" in json.dumps(e.changes) for e in events
    )
    for person in (world.compliance, world.auditor):
        reader = api.as_user(person)
        client.force_login(person)
        for answer in (
            reader.get("/api/v1/webhooks/"),
            reader.get(f"/api/v1/webhooks/{endpoint.pk}/"),
            reader.get(f"/api/v1/alerts/{delivery.alert_id}/"),
            reader.get("/api/v1/audit-events/", {"object_type": "alerts.webhookendpoint"}),
            client.get("/alerts/webhooks/"),
            client.get(f"/alerts/webhooks/{endpoint.pk}/"),
            client.get(f"/alerts/{delivery.alert_id}/"),
        ):
            text = answer.content.decode()
            assert answer.status_code == 200, (person, answer.status_code)
            assert "hunter2" not in text and "tok-secret-123" not in text, person
        assert shown.replace("&", "&amp;") in client.get(f"/alerts/webhooks/{endpoint.pk}/").content.decode()
