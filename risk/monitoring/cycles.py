"""Monitor cycles: each firing of a monitoring schedule evaluates every monitor on it exactly once.

Beat fires `monitoring.start_cycle(schedule)`. The cycle is named by the schedule's latest tick (its slot),
so a beat that fires twice for one tick (a restart) finds the cycle already started and starts nothing. The
monitored versions are split into parts of PART_SIZE, each part a job on the backbone (any worker, any
machine). A part evaluates each of its monitors and records the result under a unique (monitor, slot): a part
redelivered after its worker was killed skips what was recorded and does the rest, so nothing is lost and
nothing is done twice.
"""

import datetime as dt
import math

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Mod
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from governance.core import jobs
from models_registry.choices import LifecycleStatus as S
from risk.monitoring import proposals
from risk.monitoring.models import Monitor, MonitorCycle, MonitorResult

JOB_KIND = "monitor_cycle"
PART_SIZE = 100  # versions per job: 500 production models make five jobs workers share
EVALUATED = (S.PILOT, S.PRODUCTION)  # a suspended or retired version is not trading: its last results stand
INTERVAL_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "microseconds": 1e-6}


def slot_for(task: PeriodicTask, now: dt.datetime) -> dt.datetime:
    """The schedule's latest tick at or before `now`: interval schedules tick on multiples of their period
    since the epoch, crontab schedules on their calendar (checked minute by minute back over at most 8 days)."""
    if task.interval_id:
        period = task.interval.every * INTERVAL_SECONDS[task.interval.period]
        return dt.datetime.fromtimestamp(math.floor(now.timestamp() / period) * period, dt.UTC)
    if task.crontab_id:
        cron = task.crontab.schedule
        local = now.astimezone(task.crontab.timezone).replace(second=0, microsecond=0)
        for _ in range(8 * 24 * 60):
            cron_weekday = (local.weekday() + 1) % 7  # crontab counts Sunday as 0
            if (
                local.minute in cron.minute
                and local.hour in cron.hour
                and cron_weekday in cron.day_of_week
                and local.day in cron.day_of_month
                and local.month in cron.month_of_year
            ):
                return local.astimezone(dt.UTC)
            local -= dt.timedelta(minutes=1)
    raise ValueError(f"{task.name} has no interval or crontab schedule a monitoring cycle can follow.")


def due_monitors(schedule: PeriodicTask):
    return Monitor.objects.filter(schedule=schedule, active=True, version__status__in=EVALUATED)


@transaction.atomic
def start_cycle(schedule_name: str, now: dt.datetime | None = None) -> list[MonitorCycle]:
    """Start this schedule's cycle for its latest tick; [] when that cycle was started already."""
    schedule = PeriodicTask.objects.select_related("interval", "crontab").get(name=schedule_name)
    slot = slot_for(schedule, now or timezone.now())
    versions = due_monitors(schedule).values_list("version_id", flat=True).distinct().count()
    parts = max(1, math.ceil(versions / PART_SIZE))
    cycles = []
    try:
        with transaction.atomic():
            for part in range(parts):
                cycles.append(MonitorCycle.objects.create(schedule=schedule, slot=slot, part=part, parts=parts))
    except IntegrityError:
        return []  # this tick's cycle exists: another beat, or this one again after a restart
    for cycle in cycles:
        cycle.job = jobs.enqueue(JOB_KIND, subject=cycle, max_attempts=5)
        cycle.save(update_fields=["job"])
    return cycles


def run_part(job, progress) -> dict:
    """The job runner: evaluate this part's monitors that have no result for the slot yet."""
    cycle = MonitorCycle.objects.select_related("schedule").get(pk=job.subject_id)
    monitors = (
        due_monitors(cycle.schedule)
        .annotate(part=Mod(F("version_id"), cycle.parts))
        .filter(part=cycle.part)
        .select_related("version__model", "version__pilot", "schedule")
        .order_by("version_id", "id")
    )
    proposals.add_feature_monitors({m.version for m in monitors})  # features fixed since the proposal
    monitors = list(monitors.all())  # again: the line above may have added some
    done = set(MonitorResult.objects.filter(monitor__in=monitors, slot=cycle.slot).values_list("monitor_id", flat=True))
    counts = dict.fromkeys(MonitorResult.Outcome.values, 0)
    by_version: dict[int, list[Monitor]] = {}
    for monitor in monitors:
        if monitor.pk not in done:
            by_version.setdefault(monitor.version_id, []).append(monitor)
    from risk.monitoring import evaluation  # NumPy and SciPy: loaded by the process that evaluates, not by web ones

    for i, version_monitors in enumerate(by_version.values()):
        # One version's monitors share its data (read once) and are recorded in one insert.
        data = evaluation.LiveData(version_monitors[0].version, cycle.slot)
        measured = [evaluation.measure(m, cycle.slot, data) for m in version_monitors]
        for result in evaluation.record_many(measured, cycle.slot, cycle):
            counts[result.outcome] += 1
        if i % 10 == 0:
            progress(100 * i // max(1, len(by_version)))
    return {"slot": cycle.slot.isoformat(), "monitors": len(monitors), "evaluated_now": counts}


def evaluate_now(monitor: Monitor, now: dt.datetime | None = None) -> MonitorResult | None:
    """One evaluation outside any schedule (tests, the demo, a by-hand check), at the schedule's latest tick."""
    from risk.monitoring import evaluation  # NumPy and SciPy, as in run_cycle: only an evaluating process loads them

    return evaluation.evaluate(monitor, slot_for(monitor.schedule, now or timezone.now()))
