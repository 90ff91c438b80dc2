"""Retention of monitoring data: rows past their kind's retention period are deleted in chunks, one audit record
per kind says how many (and per version), batches go once no row refers to them, governed records stay."""

import datetime as dt

import pytest
from django.utils import timezone

from governance.core.audit import verify_chain
from governance.core.models import AuditEvent
from risk.monitoring import proposals, retention, services
from risk.monitoring.models import (
    IngestBatch,
    MetricPoint,
    Monitor,
    MonitorResult,
    Prediction,
    ReferenceWindow,
    Trade,
)

NOW = timezone.now().replace(microsecond=0)


def z(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def ago(days: float, minutes: int = 0) -> str:
    return z(NOW - dt.timedelta(days=days, minutes=minutes))


def push_points(actor, model, *days, key=""):
    rows = [{"metric": "accuracy", "timestamp": ago(d, i), "value": 0.5} for i, d in enumerate(days)]
    return services.points_ingest(actor, model, {"points": rows}, key).batch


def push_trades(actor, model, *days, first=0):
    rows = [
        {"id": f"t-{first + i}", "timestamp": ago(d, i), "instrument": "SPY", "side": "buy", "quantity": 1}
        | {"price": 100.0, "pnl": 1.0}
        for i, d in enumerate(days)
    ]
    return services.trades_ingest(actor, model, {"trades": rows}).batch


def push_predictions(actor, model, *days, first=0):
    rows = [
        {"id": f"p-{first + i}", "timestamp": ago(d, i), "features": {"f1": 1.0}, "prediction": 1}
        for i, d in enumerate(days)
    ]
    return services.predictions_ingest(actor, model, {"predictions": rows}).batch


def retention_events():
    return list(AuditEvent.objects.filter(action=retention.ACTION).order_by("id"))


@pytest.fixture
def data(world):
    """Points, trades and predictions of mine 1.0 (and old points of theirs 1.0), old and new, in batches of
    their own and mixed."""
    dev, mine = world.developer, world.mine
    batches = {
        "old_points": push_points(dev, mine, 800, 800, 750),
        "new_points": push_points(dev, mine, 10, 5),
        "mixed_points": push_points(dev, mine, 900, 1),
        "old_trades": push_trades(dev, mine, 3000, 2600),  # past seven years
        "kept_trades": push_trades(dev, mine, 800, first=10),  # older than two years, younger than seven
        "old_predictions": push_predictions(dev, mine, 800, 800),
        "new_predictions": push_predictions(dev, mine, 3, first=10),
        "theirs_points": push_points(world.developer2, world.theirs, 1000),
    }
    batches["outcomes"] = services.outcomes_ingest(dev, mine, {"outcomes": [{"id": "p-0", "outcome": 1}]}).batch
    return batches


@pytest.mark.django_db
def test_it_deletes_rows_past_each_kinds_cutoff_and_audits_each_kind_once(world, data, monkeypatch):
    monkeypatch.setattr(retention, "CHUNK", 2)  # several chunks, each its own transaction
    report = retention.apply_retention(now=NOW)
    assert report == {"points": 5, "trades": 2, "predictions": 2, "batches": 4}
    assert sorted(MetricPoint.objects.values_list("timestamp", flat=True)) == [
        NOW - dt.timedelta(days=10),
        NOW - dt.timedelta(days=5, minutes=1),
        NOW - dt.timedelta(days=1, minutes=1),
    ]
    assert list(Trade.objects.values_list("trade_id", flat=True)) == ["t-10"]
    assert list(Prediction.objects.values_list("prediction_id", flat=True)) == ["p-10"]
    remaining = set(IngestBatch.objects.values_list("pk", flat=True))
    kept = ("new_points", "mixed_points", "kept_trades", "new_predictions", "outcomes")
    assert remaining == {data[name].pk for name in kept}  # the mixed batch still holds a row; outcomes are recent

    events = {e.object_id: e for e in retention_events()}
    assert sorted(events) == ["batches", "points", "predictions", "trades"]
    points = events["points"]
    assert (points.actor, points.object_type, points.object_repr) == (
        None,
        "monitoring.metricpoint",
        "Monitoring metric points",
    )
    assert points.changes["rows_deleted"] == [None, 5]
    assert points.changes["per_version"] == [None, {"mine 1.0": 4, "theirs 1.0": 1}]
    assert points.changes["older_than"] == [None, (NOW - dt.timedelta(days=730)).isoformat()]
    assert "VIGIL_MONITORING_RETENTION_DAYS_POINTS = 730 days" in points.reason
    assert events["trades"].changes["rows_deleted"] == [None, 2]
    assert events["trades"].changes["older_than"] == [None, (NOW - dt.timedelta(days=2555)).isoformat()]
    assert events["predictions"].changes["per_version"] == [None, {"mine 1.0": 2}]
    assert events["batches"].changes["rows_deleted"] == [None, 4]
    assert events["batches"].changes["per_kind"] == [None, {"points": 2, "predictions": 1, "trades": 1}]
    assert verify_chain().intact


@pytest.mark.django_db
def test_running_it_twice_deletes_and_audits_nothing_more(data):
    retention.apply_retention(now=NOW)
    counts = (MetricPoint.objects.count(), Trade.objects.count(), Prediction.objects.count())
    events = len(retention_events())
    assert retention.apply_retention(now=NOW) == {"points": 0, "trades": 0, "predictions": 0, "batches": 0}
    assert (MetricPoint.objects.count(), Trade.objects.count(), Prediction.objects.count()) == counts
    assert len(retention_events()) == events == 4


@pytest.mark.django_db
def test_zero_keeps_a_kind_forever(data, settings):
    settings.VIGIL_MONITORING_RETENTION_DAYS_POINTS = 0
    settings.VIGIL_MONITORING_RETENTION_DAYS_PREDICTIONS = 0
    points, predictions = MetricPoint.objects.count(), Prediction.objects.count()
    report = retention.apply_retention(now=NOW)
    assert report["points"] == report["predictions"] == 0 and report["trades"] == 2
    assert MetricPoint.objects.count() == points and Prediction.objects.count() == predictions
    assert sorted(e.object_id for e in retention_events()) == ["batches", "trades"]


@pytest.mark.django_db
def test_an_outcome_batch_goes_once_received_before_the_predictions_cutoff(world, data):
    IngestBatch.objects.filter(pk=data["outcomes"].pk).update(received_at=NOW - dt.timedelta(days=731))
    report = retention.apply_retention(now=NOW)
    assert report["batches"] == 5 and not IngestBatch.objects.filter(pk=data["outcomes"].pk).exists()
    batches = next(e for e in retention_events() if e.object_id == "batches")
    assert batches.changes["per_kind"][1]["outcomes"] == 1


@pytest.mark.django_db
def test_monitors_results_and_reference_windows_are_never_deleted(world, data):
    monitors = proposals.propose(world.mine_v1)
    assert monitors
    monitor = Monitor.objects.filter(version=world.mine_v1).first()
    MonitorResult.objects.create(
        monitor=monitor,
        slot=NOW - dt.timedelta(days=900),
        outcome="ok",
        value=0.7,
        config={},
        config_hash="0" * 64,
        rows=3,
        data_from=NOW - dt.timedelta(days=901),
        data_to=NOW - dt.timedelta(days=900),
    )
    ReferenceWindow.objects.create(
        version=world.mine_v1,
        stream="score",
        values=[0.5, 0.6],
        rows=2,
        data_from=NOW - dt.timedelta(days=1000),
        data_to=NOW - dt.timedelta(days=999),
    )
    before = (Monitor.objects.count(), MonitorResult.objects.count(), ReferenceWindow.objects.count())
    retention.apply_retention(now=NOW)
    assert (Monitor.objects.count(), MonitorResult.objects.count(), ReferenceWindow.objects.count()) == before


@pytest.mark.django_db
def test_the_daily_schedule_and_task_exist():
    from django_celery_beat.models import PeriodicTask

    from vigil.celery import app

    task = PeriodicTask.objects.get(name="Monitoring: apply retention")
    assert task.task == "monitoring.apply_retention" and task.enabled
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == ("2", "15", "UTC")
    assert "monitoring.apply_retention" in app.tasks
