"""Monitor cycles on real processes: Celery beat (django-celery-beat's database scheduler) and two workers
against Redis. Each monitor is evaluated exactly once per cycle even when beat restarts, and a worker killed
with SIGKILL in the middle of a cycle loses nothing and duplicates nothing: the unacknowledged job goes to the
other worker, which skips what was recorded and evaluates the rest."""

import datetime as dt
import os
import signal
import time
from collections import Counter

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from governance.core.models import Event, Job
from risk.monitoring import cycles, proposals
from risk.monitoring.models import Monitor, MonitorCycle, MonitorResult
from tests.base import build_world
from tests.risk import monitoring_data as data
from tests.risk.test_worker import REDIS_URL, redis_up, workers_on

pytestmark = pytest.mark.slow(reason="starts real Celery workers and beat against Redis, and kills one")

SCHEDULE = "Monitoring: every 3 seconds (test)"


def wait_until(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def beat_and_workers():
    if not redis_up():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    with workers_on(REDIS_URL) as pool:
        yield pool


def monitored_every_three_seconds():
    world = build_world()
    version = world.mine_v1
    proposals.propose(version)
    proposals.propose(world.theirs_v1)  # a second version in the same part: the kill falls between the two
    now = timezone.now()
    data.trades(world.developer, version, 300, start=now - dt.timedelta(days=7), win_rate=0.1)  # warns, breaches
    data.predictions(world.developer, version, 400, start=now - dt.timedelta(hours=8))
    PeriodicTask.objects.update(enabled=False)  # only the test's schedule fires
    every_3s, _ = IntervalSchedule.objects.get_or_create(every=3, period="seconds")
    schedule = PeriodicTask.objects.create(
        name=SCHEDULE, task="monitoring.start_cycle", kwargs=f'{{"schedule": "{SCHEDULE}"}}', interval=every_3s
    )
    Monitor.objects.filter(version__in=[version, world.theirs_v1]).update(schedule=schedule)
    return version, schedule


@pytest.mark.django_db(transaction=True)
def test_two_workers_and_a_restarted_beat_evaluate_each_monitor_once_per_cycle_despite_a_killed_worker(
    beat_and_workers, tmp_path, monkeypatch
):
    marker = tmp_path / "hung-worker"
    monkeypatch.setenv("VIGIL_TEST_FAULT_MARKER", str(marker))
    version, schedule = monitored_every_three_seconds()
    monitors = Monitor.objects.filter(schedule=schedule).count()
    pool = beat_and_workers
    workers = [pool.start(fault="monitor_hang"), pool.start(fault="monitor_hang")]
    beat = pool.start_beat()

    wait_until(marker.exists, 60, "a worker to hang mid-cycle")
    time.sleep(0.2)
    pid, hung_cycle = (int(x) for x in marker.read_text().split())
    victim = next(w for w in workers if w.pid == pid)
    pool.kill(victim)  # SIGKILL mid-cycle: its job stays unacknowledged
    assert 0 < MonitorResult.objects.filter(cycle_id=hung_cycle).count() < monitors

    os.killpg(beat.pid, signal.SIGKILL)  # beat dies too, and comes back
    beat.wait(timeout=20)
    pool.start_beat()
    first_after = MonitorCycle.objects.count()
    wait_until(lambda: MonitorCycle.objects.count() >= first_after + 3, 60, "three more cycles after the restart")
    for process in pool.processes:
        if "beat" in process.args and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
    wait_until(
        lambda: not Job.objects.filter(kind=cycles.JOB_KIND, status__in=["queued", "running"]).exists(),
        90,
        "every cycle's job to finish",
    )

    cycles_run = list(MonitorCycle.objects.select_related("job"))
    assert len(cycles_run) >= 4
    assert all(c.job.status == "succeeded" for c in cycles_run), [(c.pk, c.job.status, c.job.error) for c in cycles_run]
    assert len({c.slot for c in cycles_run}) == len(cycles_run)  # one cycle per tick, whatever beat did
    per_slot = Counter(MonitorResult.objects.values_list("slot", flat=True))
    assert {c.slot: per_slot[c.slot] for c in cycles_run} == {c.slot: monitors for c in cycles_run}  # none lost
    hung = next(c for c in cycles_run if c.pk == hung_cycle)
    assert hung.job.attempts >= 2  # redelivered to the other worker after the kill
    alerts = MonitorResult.objects.filter(outcome__in=["warn", "breach"])
    assert alerts.exists()
    assert Event.objects.filter(kind="monitoring.alert").count() == alerts.count()  # one event per alert, no twins
