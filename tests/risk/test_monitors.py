"""Monitors: proposed when a version enters pilot, evaluated on live data as of a cycle's tick, graded
ok / warn / breach / insufficient data, each result with its configuration, its hash and the data it read."""

import datetime as dt

import pytest
from django.utils import timezone

from governance.core.models import AuditEvent, Event
from risk.monitoring import cycles, evaluation, proposals
from risk.monitoring.models import Monitor, MonitorResult
from tests.outbox import deliver
from tests.risk import monitoring_data as data

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture
def monitored(world):
    """mine 1.0 in production with its proposed monitors."""
    proposals.propose(world.mine_v1)
    return world.mine_v1


def monitor(version, measure, stream=""):
    return Monitor.objects.get(version=version, measure=measure, stream=stream)


@pytest.mark.django_db
def test_it_proposes_monitors_for_a_trading_classifier_from_its_plan_and_figures(monitored):
    measures = set(Monitor.objects.filter(version=monitored).values_list("measure", "stream"))
    assert {("accuracy", ""), ("roc_auc", ""), ("psi", "score"), ("ks", "score"), ("staleness", "")} <= measures
    assert {("trade_count", ""), ("hit_rate", ""), ("losing_streak", ""), ("pnl", ""), ("sharpe_band", "")} <= measures
    assert {("cusum", "accuracy"), ("cusum", "losing_trades"), ("cusum", "pnl")} <= measures
    accuracy = monitor(monitored, "accuracy")
    assert (accuracy.warn, accuracy.breach, accuracy.direction) == (0.55, 0.50, "below")
    assert accuracy.schedule.name == proposals.HOURLY
    assert "claimed" in accuracy.params["baseline_source"]
    assert AuditEvent.objects.filter(action="monitors_proposed", object_id=str(monitored.pk)).exists()
    assert proposals.propose(monitored) == []  # proposing again adds nothing


@pytest.mark.django_db
def test_a_version_entering_pilot_gets_its_monitors_through_the_lifecycle_event(world):
    from tests.factories import make_version

    pilot = make_version(world.developer, world.mine, label="3.0", status="pilot")
    assert not Monitor.objects.filter(version=pilot).exists()
    deliver()
    assert Monitor.objects.filter(version=pilot, measure="accuracy").exists()


@pytest.mark.django_db
def test_it_judges_live_accuracy_against_the_validated_thresholds(world, monitored):
    data.predictions(world.developer, monitored, 600, start=NOW - dt.timedelta(hours=12), accuracy=0.52)
    result = evaluation.evaluate(monitor(monitored, "accuracy"), NOW)
    assert result.outcome == "warn" and 0.50 < result.value < 0.55
    assert result.rows == 600 and result.data_to < NOW
    assert result.config["warn"] == 0.55 and len(result.config_hash) == 64
    assert result.detail["label_lag_hours"] is not None
    assert Event.objects.filter(kind="monitoring.alert", payload__result=result.pk).exists()


@pytest.mark.django_db
def test_it_says_insufficient_data_instead_of_passing_when_nothing_is_labelled(world, monitored):
    data.predictions(world.developer, monitored, 300, start=NOW - dt.timedelta(hours=6), labelled=False)
    result = evaluation.evaluate(monitor(monitored, "accuracy"), NOW)
    assert result.outcome == "insufficient" and result.value is None
    assert "labelled" in result.reason
    assert not Event.objects.filter(kind="monitoring.alert").exists()


@pytest.mark.django_db
def test_drift_freezes_its_reference_and_flags_a_shifted_feature(world, monitored):
    start = NOW - dt.timedelta(hours=30)
    data.predictions(world.developer, monitored, 1000, start=start, seed=3)
    data.predictions(
        world.developer, monitored, 500, start=start + dt.timedelta(hours=20), shift=1.0, seed=4, first_id=1000
    )
    proposals.add_feature_monitors([monitored])
    psi = evaluation.evaluate(monitor(monitored, "psi", "f1"), NOW)
    steady = evaluation.evaluate(monitor(monitored, "psi", "f2"), NOW)
    assert psi.outcome == "breach" and psi.value > 0.25
    assert steady.outcome == "ok" and steady.value < 0.10
    assert steady.detail["reference_rows"] == 1000 and steady.detail["false_alarm_rate_warn"] < 0.05


@pytest.mark.django_db
def test_a_result_is_recorded_once_per_slot(world, monitored):
    staleness = monitor(monitored, "staleness")
    assert evaluation.evaluate(staleness, NOW) is not None
    assert evaluation.evaluate(staleness, NOW) is None
    assert MonitorResult.objects.filter(monitor=staleness).count() == 1


@pytest.mark.django_db
def test_trading_monitors_read_trades_in_the_firms_units(world, monitored):
    data.trades(world.developer, monitored, 200, start=NOW - dt.timedelta(days=5), win_rate=0.1, slippage=(1.0, 2.5))
    hit = evaluation.evaluate(monitor(monitored, "hit_rate"), NOW)
    streak = evaluation.evaluate(monitor(monitored, "losing_streak"), NOW)
    slip = evaluation.evaluate(monitor(monitored, "slippage"), NOW)
    assert hit.outcome == "breach" and hit.value < 0.2
    assert streak.outcome == "breach" and streak.value > monitor(monitored, "losing_streak").breach
    assert slip.outcome == "breach" and slip.value == pytest.approx(2.5)


@pytest.mark.django_db
def test_a_cycle_evaluates_every_monitor_of_its_schedule_once_even_when_started_twice(world, monitored):
    first = cycles.start_cycle(proposals.FREQUENT, now=NOW)
    assert first and cycles.start_cycle(proposals.FREQUENT, now=NOW) == []
    from governance.core import jobs

    for cycle in first:
        jobs.execute(cycle.job_id)
        jobs.execute(cycle.job_id)  # a redelivered message: the job is finished, nothing happens
    on_schedule = Monitor.objects.filter(version=monitored, schedule__name=proposals.FREQUENT)
    assert MonitorResult.objects.filter(monitor__in=on_schedule).count() == on_schedule.count() > 0
    assert set(MonitorResult.objects.values_list("slot", flat=True)) == {first[0].slot}


MONITORS = "/api/v1/models/mine/monitoring/monitors/"


@pytest.mark.django_db
def test_the_api_lists_monitors_with_their_latest_result_to_whoever_sees_the_model(world, monitored, api):
    staleness = monitor(monitored, "staleness")
    evaluation.evaluate(staleness, NOW)
    body = api.as_user(world.trader).get(MONITORS).json()
    row = next(r for r in body if r["id"] == staleness.pk)
    assert row["label"] == "Hours without data" and row["version"] == "1.0"
    assert row["latest"]["outcome"] in ("ok", "warn", "breach") and len(row["latest"]["config_hash"]) == 64
    assert next(r for r in body if r["measure"] == "accuracy")["latest"] is None
    assert api.as_user(world.outsider).get(MONITORS).status_code == 404


@pytest.mark.django_db
def test_a_threshold_change_is_governed_audited_and_applies_from_the_next_run(world, monitored, browser_client):
    accuracy = monitor(monitored, "accuracy")
    data.predictions(world.developer, monitored, 600, start=NOW - dt.timedelta(hours=12), accuracy=0.52)
    before = evaluation.evaluate(accuracy, NOW - dt.timedelta(minutes=1))
    url = f"/monitoring/monitors/{accuracy.pk}/"
    # Typed in per cent, as the page shows shares.
    form = {"warn": 51, "breach": 45, "window": 500, "min_rows": 100, "schedule": accuracy.schedule_id}
    assert browser_client.as_user(world.developer).post(url, form | {"reason": "x" * 30}).status_code == 403
    page = browser_client.as_user(world.validator).post(url, form | {"reason": "too short"})
    assert "at least 20 characters" in page.content.decode()
    accuracy.refresh_from_db()
    assert accuracy.warn == 0.55 and accuracy.config_version == 1
    wrong_way = browser_client.post(url, form | {"warn": 40, "reason": "Live accuracy runs lower than the backtest."})
    assert "must not be below the breach" in wrong_way.content.decode()
    over = browser_client.post(url, form | {"warn": 5100, "reason": "Live accuracy runs lower than the backtest."})
    assert "less than or equal to 100" in over.content.decode()
    done = browser_client.post(url, form | {"reason": "Live accuracy runs lower than the backtest by design."})
    assert done.status_code == 302
    accuracy.refresh_from_db()
    assert (accuracy.warn, accuracy.breach, accuracy.config_version) == (pytest.approx(0.51), pytest.approx(0.45), 2)
    event = AuditEvent.objects.get(action="monitor.changed", object_id=str(accuracy.pk))
    assert event.changes["warn"] == [0.55, pytest.approx(0.51)] and "lower than the backtest" in event.reason
    # The record also speaks the form's unit, named so: what the validator typed is what the auditor reads.
    assert event.changes["warn_percent"] == [55.0, 51.0] and event.changes["breach_percent"][1] == 45.0
    trail = browser_client.get(url).content.decode()
    assert "Warn percent" in trail and "55 &rarr; 51" in trail
    after = evaluation.evaluate(accuracy, NOW)
    assert after.outcome == "ok" and before.outcome == "warn"
    before.refresh_from_db()
    assert before.config["warn"] == 0.55 and before.config_hash != after.config_hash


@pytest.mark.django_db
def test_pages_show_monitors_to_those_who_see_the_model_and_alerts_in_the_queue(world, monitored, browser_client):
    data.trades(world.developer, monitored, 200, start=NOW - dt.timedelta(days=5), win_rate=0.1)
    evaluation.evaluate(monitor(monitored, "hit_rate"), NOW)
    model_page = browser_client.as_user(world.trader).get("/models/mine/?section=monitoring").content.decode()
    assert 'data-panel="monitoring"' in model_page and 'data-testid="monitor-hit_rate"' in model_page
    assert "Breach" in model_page and "plotly" in model_page
    assert 'data-testid="false-alarm"' in model_page and "about one false alarm per 465 points" in model_page
    overview = browser_client.get("/monitoring/").content.decode()
    assert "mine" in overview and "outcome-breach" in overview
    assert browser_client.get(f"/monitoring/monitors/{monitor(monitored, 'hit_rate').pk}/").status_code == 200
    queue = browser_client.as_user(world.owner).get("/inbox/").content.decode()
    assert 'data-testid="monitor-alerts"' in queue and "Hit rate" in queue
    assert 'data-testid="monitor-alert-count">1<' in queue  # the navigation badge
    assert (
        'data-testid="monitor-alerts"' not in browser_client.as_user(world.developer2).get("/inbox/").content.decode()
    )
    outsider = browser_client.as_user(world.outsider)
    assert outsider.get(f"/monitoring/monitors/{monitor(monitored, 'hit_rate').pk}/").status_code == 404
    assert "mine" not in outsider.get("/monitoring/").content.decode()


@pytest.mark.django_db
def test_compliance_changes_a_schedule_with_a_reason_and_it_is_audited(world, browser_client):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name=proposals.HOURLY)
    url = f"/monitoring/schedules/{task.pk}/"
    form = {"kind": "interval", "every": 30, "period": "minutes", "enabled": "on"}
    assert browser_client.as_user(world.validator).post(url, form | {"reason": "x" * 30}).status_code == 403
    done = browser_client.as_user(world.compliance).post(url, form | {"reason": "Intraday desks need fresher drift."})
    assert done.status_code == 302
    task.refresh_from_db()
    assert (task.interval.every, task.interval.period) == (30, "minutes")
    event = AuditEvent.objects.get(action="monitoring_schedule.changed")
    assert event.changes["schedule"] == ["every 1 hour", "every 30 minutes"]
    assert cycles.slot_for(task, dt.datetime(2026, 11, 23, 14, 47, tzinfo=dt.UTC)).minute == 30
    page = browser_client.get("/monitoring/schedules/").content.decode()
    assert "every 30 minutes" in page


@pytest.mark.django_db
def test_a_weekday_schedule_ticks_on_its_calendar():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name=proposals.DAILY)  # 21:30 UTC, Monday to Friday
    saturday = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
    assert cycles.slot_for(task, saturday) == dt.datetime(2026, 11, 27, 21, 30, tzinfo=dt.UTC)
    assert cycles.slot_for(task, dt.datetime(2026, 11, 24, 21, 30, tzinfo=dt.UTC)).day == 24


@pytest.mark.django_db
def test_history_reads_every_monitors_newest_results_in_one_query(world, monitored, django_assert_num_queries):
    from risk.monitoring import selectors

    monitors = list(Monitor.objects.filter(version=monitored).order_by("pk"))
    for hours in range(4):
        for m in monitors[:3]:
            evaluation.evaluate(m, NOW - dt.timedelta(hours=hours))
    with django_assert_num_queries(1):
        rows = selectors.history(monitors, limit=3)
    assert len(rows) == len(monitors) > 10
    newest_three = [NOW - dt.timedelta(hours=h) for h in (2, 1, 0)]
    assert [[r.slot for r in rows[m.pk]] for m in monitors[:3]] == [newest_three] * 3  # oldest first
    assert all(rows[m.pk] == [] for m in monitors[3:])


@pytest.mark.django_db
def test_the_models_success_criteria_move_the_warn_threshold_of_the_monitor_that_watches_each(world, browser_client):
    """Issue 24: success criteria become proposed monitors at pilot. A criterion stricter than the plan's pass
    moves the warn threshold to it (the breach stays the plan's fail); a looser one leaves the plan's; one no
    live measure watches is said so on the model page, with why."""
    world.mine.success_criteria = [
        {"metric": "accuracy", "operator": ">=", "value": 0.6},  # stricter than the plan's pass, 0.55
        {"metric": "hit_rate", "operator": ">", "value": 0.01},  # looser than the plan's pass
        {"metric": "sharpe", "operator": ">=", "value": 0.8},
        {"metric": "fill_rate", "operator": ">=", "value": 0.98},
        {"metric": "roc_auc", "operator": "<=", "value": 0.9},  # the wrong way for a measure where low is bad
    ]
    world.mine.save(update_fields=["success_criteria"])
    proposals.propose(type(world.mine_v1).objects.get(pk=world.mine_v1.pk))  # as the pilot's event handler reads it
    accuracy, hit_rate, roc_auc = (monitor(world.mine_v1, m) for m in ("accuracy", "hit_rate", "roc_auc"))
    assert (accuracy.warn, accuracy.breach) == (0.6, 0.50)
    assert accuracy.params["success_criterion"] == "accuracy at least 0.6"
    plan_pass = proposals._plan_tests("strategy", None)["hit_rate"]["pass"]
    assert hit_rate.warn == plan_pass and hit_rate.params["success_criterion"] == "hit rate above 0.01"
    assert "success_criterion" not in roc_auc.params

    page = browser_client.as_user(world.owner).get("/models/mine/?section=monitoring").content.decode()
    assert 'data-testid="criteria-watch-1.0"' in page
    assert "accuracy at least 0.6: watched by" in page
    assert "Sharpe ratio at least 0.8: not watched live: the live Sharpe ratio is watched as a percentile" in page
    assert "fill rate at least 0.98: not watched live: no live measure of this figure" in page
    assert "ROC AUC at most 0.9: not watched live" in page
    detail = browser_client.get(f"/monitoring/monitors/{accuracy.pk}/").content.decode()
    assert 'data-testid="success-criterion"' in detail and "accuracy at least 0.6" in detail
