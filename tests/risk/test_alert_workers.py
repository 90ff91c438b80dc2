"""Alerts through real Celery worker processes on Redis: one alert and one webhook when two workers race for the
same breach, a receiver that fails twice then answers (three attempts recorded), and a worker killed mid-delivery
(delivered once, by the worker that takes over)."""

import datetime as dt
import time

import pytest
from django.db import transaction
from django.utils import timezone

from governance.core.models import Job, Notification
from risk.alerts import services
from risk.alerts.models import Alert, WebhookAttempt, WebhookDelivery
from risk.exports.services import export_request
from risk.monitoring import evaluation, proposals
from risk.monitoring.models import Monitor
from tests.base import build_world
from tests.risk import monitoring_data as data
from tests.risk.test_worker import workers  # noqa: F401 - the fixture
from tests.risk.webhook_receiver import Receiver
from vigil.celery import app

pytestmark = pytest.mark.slow(reason="starts real Celery workers against Redis, and kills one mid-delivery")


@pytest.fixture(autouse=True)
def receivers_on_loopback(settings, monkeypatch):
    """The test receivers listen on 127.0.0.1: allowed in this process and in the workers it starts."""
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    monkeypatch.setenv("VIGIL_OUTBOUND_ALLOWED_NETWORKS", "127.0.0.1/32")


def breach_with_receiver(receiver_url):
    """A committed breach of mine 1.0's hit rate, with a receiver for breaches."""
    world = build_world()
    now = timezone.now().replace(microsecond=0)
    proposals.propose(world.mine_v1)
    data.trades(world.developer, world.mine_v1, 200, start=now - dt.timedelta(days=5), win_rate=0.1)
    services.webhook_create(world.compliance, name="firm tool", url=receiver_url, kinds=["monitor_breach"])
    monitor = Monitor.objects.get(version=world.mine_v1, measure="hit_rate")
    return world, monitor, now


def wait_until(condition, seconds=60, what="the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds} s for {what}")


def delivery_done():
    return WebhookDelivery.objects.filter(status__in=("delivered", "failed")).first()


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_breach_record_one_alert_and_deliver_its_webhook_once(workers):  # noqa: F811
    with Receiver() as receiver:
        world, monitor, now = breach_with_receiver(receiver.url)
        workers.start()
        workers.start()
        with transaction.atomic():
            result = evaluation.evaluate(monitor, now)
        assert result.outcome == "breach"
        from governance.core.models import Event

        event = Event.objects.get(kind="monitoring.alert", payload__result=result.pk)
        for _ in range(3):  # the same event handed over again, as a redelivered message would be
            app.tasks["governance.deliver_event"].delay(event.pk)
        delivery = wait_until(delivery_done, what="the webhook delivery")
        for _ in range(3):
            app.tasks["alerts.send_webhook"].delay(delivery.pk)
        time.sleep(3)  # let the duplicates reach the workers and find nothing left to do
        assert len(receiver.requests) == 1
    alert = Alert.objects.get(kind="monitor_breach")
    assert delivery.alert == alert and delivery.status == "delivered" and delivery.attempts == 1
    assert Notification.objects.filter(user=world.owner, dedupe_key=f"alert:{alert.pk}").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_fails_twice_gets_it_on_the_third_attempt_and_each_is_recorded(workers, monkeypatch):  # noqa: F811
    monkeypatch.setenv("VIGIL_WEBHOOK_RETRY_SECONDS", "0.2")
    with Receiver(answers=[500, 502, 200]) as receiver:
        _world, monitor, now = breach_with_receiver(receiver.url)
        workers.start()
        with transaction.atomic():
            evaluation.evaluate(monitor, now)
        delivery = wait_until(delivery_done, what="the webhook delivery")
        requests = receiver.wait_for(3)
    assert delivery.status == "delivered" and delivery.attempts == 3
    outcomes = list(delivery.attempt_log.values_list("number", "outcome", "status_code"))
    assert outcomes == [(1, "refused", 500), (2, "refused", 502), (3, "delivered", 200)]
    assert [r["headers"]["X-Vigil-Delivery"] for r in requests] == [str(delivery.pk)] * 3
    # Backoff: the second try waited at least the base delay after the first, the third at least twice that.
    gaps = [b["at"] - a["at"] for a, b in zip(requests, requests[1:], strict=False)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_leaves_it_to_another_and_it_arrives_once(workers, monkeypatch):  # noqa: F811
    monkeypatch.setenv("VIGIL_WEBHOOK_TIMEOUT_SECONDS", "1")  # the lease: 1 s + 5 s margin
    with Receiver() as receiver:
        _world, monitor, now = breach_with_receiver(receiver.url)
        first = workers.start(fault="webhook_hang")  # claims attempt 1, then hangs before posting
        with transaction.atomic():
            evaluation.evaluate(monitor, now)
        wait_until(
            lambda: WebhookDelivery.objects.filter(status="sending", attempts=1).exists(), what="the first attempt"
        )
        workers.kill(first)
        assert receiver.requests == []
        workers.start(fault="webhook_hang")  # the fault hits first attempts only: this one posts attempt 2
        delivery = wait_until(delivery_done, seconds=90, what="the delivery after the restart")
        time.sleep(2)
        assert len(receiver.requests) == 1
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert list(delivery.attempt_log.values_list("number", "outcome")) == [(1, "interrupted"), (2, "delivered")]
    assert receiver.requests[0]["headers"]["X-Vigil-Attempt"] == "2"


def test_webhook_deliveries_are_routed_to_their_own_queue_and_nothing_else_is():
    route = app.amqp.router.route
    assert route({}, "alerts.send_webhook")["queue"].name == "webhooks"
    for other in ("governance.run_job", "governance.deliver_event", "alerts.sweep_webhooks"):
        assert route({}, other)["queue"].name == "celery", other


@pytest.mark.django_db(transaction=True)
def test_an_export_is_not_held_up_by_slow_receivers(workers, monkeypatch):  # noqa: F811
    """Six receivers that never answer, queued before the export: a worker of the default queue does the
    export while the delivery worker waits on them (as `make run` and production run them)."""
    monkeypatch.setenv("VIGIL_WEBHOOK_TIMEOUT_SECONDS", "5")  # six in a row: 30 s of one worker's time
    with Receiver(hang=60) as receiver:
        world = build_world()
        for i in range(6):
            services.webhook_create(world.compliance, name=f"slow {i}", url=receiver.url)
        services.record("test:slow", kind="monitor_warn", severity="medium", title="slow", model_id=world.mine.pk)
        assert WebhookDelivery.objects.count() == 6  # handed to the broker on commit, before the export
        workers.start(queues="webhooks")
        workers.start(queues="celery")
        export = export_request(world.compliance, "inventory", format="csv")
        wait_until(
            lambda: Job.objects.filter(pk=export.job_id, status="succeeded").exists(),
            what="the export",
        )
        settled = WebhookAttempt.objects.exclude(outcome="sending").count()
        receiver.wait_for(1)
    assert settled < 6, "the export waited for the slow receivers"
