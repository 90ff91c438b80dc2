"""Every periodic job Vigil runs, declared once: django-celery-beat's rows are synced from this table after
each `migrate` (and after a test flushes the database).

The table owns what runs (the task, its arguments, its description), by the row's name. The operators own
when it runs: a row's timing and whether it is enabled, changed in the admin or on /monitoring/schedules/, are
kept; a declared row that is missing is created with the declared timing. Rows that are not declared here (the
demo feed's) are left alone. The data migrations that created these rows before are no-ops now.
"""

import json
from dataclasses import dataclass

from django.db import connections
from django.db.models.signals import post_migrate
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

# The monitoring cycles: each fires one task with its own name (risk/monitoring/schedules.py reads these).
MONITORING_TASK = "monitoring.start_cycle"
MONITORING_FREQUENT = "Monitoring: every 15 minutes"  # trading, staleness, sudden change
MONITORING_HOURLY = "Monitoring: hourly"  # performance, drift
MONITORING_DAILY = "Monitoring: daily after the close"  # the live Sharpe against the backtest, drawdown


@dataclass(frozen=True)
class Schedule:
    """`every`: (number, period) for an interval; `cron`: "minute hour day-of-month month day-of-week" in UTC."""

    name: str
    task: str
    why: str
    every: tuple[int, str] | None = None
    cron: str | None = None
    kwargs: tuple[tuple[str, str], ...] = ()

    def kwargs_json(self) -> str:
        return json.dumps(dict(self.kwargs))


def _cycle(name: str, why: str, **timing) -> Schedule:
    return Schedule(name, MONITORING_TASK, why, kwargs=(("schedule", name),), **timing)


SCHEDULES = (
    Schedule(
        "Daily revalidation sweep",
        "governance.daily_revalidation_sweep",
        "Flags models whose revalidation is due or overdue.",
        cron="0 5 * * *",
    ),
    Schedule(
        "Nightly audit chain verification",
        "governance.verify_audit_chain",
        "Checks the audit trail's hash chain end to end.",
        cron="0 2 * * *",
    ),
    Schedule(
        "Deliver pending events (outbox sweep)",
        "governance.deliver_pending_events",
        "Delivers the events a lost worker or a broker down at commit left pending.",
        every=(1, "minutes"),
    ),
    Schedule(
        "Jobs: take up the jobs of lost workers",
        "governance.recover_lost_jobs",
        "With the 60-second lease, a job whose worker died is taken up again within 90 seconds.",
        every=(30, "seconds"),
    ),
    Schedule(
        "Alerts: webhook sweep",
        "alerts.sweep_webhooks",
        "Hands over the webhook deliveries that are due and in no worker's hands.",
        every=(30, "seconds"),
    ),
    Schedule(
        "Exports: remove expired files",
        "exports.purge_expired",
        "Removes the export files whose time is up (their records and hashes stay).",
        every=(1, "hours"),
    ),
    Schedule(
        "Gate: kill-switch test",
        "gate.kill_switch_test",
        "RTS 6 expects the kill functionality tested: the first Monday of each month, 06:00 UTC.",
        # Celery matches day of month and day of week together: a Monday among the first seven days.
        cron="0 6 1-7 * 1",
    ),
    Schedule(
        "Gate: refresh decisions",
        "gate.refresh_decisions",
        "Records each model's gate decision when a date passing changed it (a pilot's end, a due date).",
        every=(5, "minutes"),
    ),
    _cycle(MONITORING_FREQUENT, "Monitors of trading, staleness and sudden change.", every=(15, "minutes")),
    _cycle(MONITORING_HOURLY, "Monitors of performance and drift.", every=(1, "hours")),
    _cycle(
        MONITORING_DAILY,
        "The live Sharpe against the backtest, and drawdown, after the close.",
        cron="30 21 * * 1-5",
    ),
    Schedule(
        "Dashboards: key risk indicators",
        "dashboards.record_snapshots",
        "Records each key risk indicator for the firm and each desk, and alerts compliance when one changes status.",
        cron="45 5 * * *",
    ),
    Schedule(
        "Validation: scheduled validation on live data",
        "monitoring.ongoing_validation_sweep",
        "Re-runs the signed validation plan of each live version that is due (policy: months by tier) on its "
        "production data.",
        cron="30 5 * * *",
    ),
    Schedule(
        "Skills: warn of requirements coming due or lapsed",
        "skills.warn_expiring",
        "Tells each person once, 30 days before a completion lapses and once when it has lapsed (in-app and e-mail).",
        cron="0 6 * * *",
    ),
    Schedule(
        "Monitoring: apply retention",
        "monitoring.apply_retention",
        "Deletes monitoring rows past their kind's retention period.",
        cron="15 2 * * *",
    ),
)
BY_NAME = {s.name: s for s in SCHEDULES}


def _timing(schedule: Schedule, using: str) -> dict:
    if schedule.every is not None:
        every, period = schedule.every
        return {"interval": _first_or_new(IntervalSchedule, using, every=every, period=period)}
    minute, hour, day_of_month, month_of_year, day_of_week = schedule.cron.split()
    fields = {"minute": minute, "hour": hour, "day_of_month": day_of_month, "month_of_year": month_of_year}
    return {"crontab": _first_or_new(CrontabSchedule, using, day_of_week=day_of_week, timezone="UTC", **fields)}


def _first_or_new(model, using: str, **fields):
    """The timing row with these values (an operator may have made two alike in the admin), else a new one."""
    return model.objects.using(using).filter(**fields).order_by("pk").first() or model.objects.using(using).create(
        **fields
    )


def sync(names=None, using: str = "default") -> dict[str, list[str]]:
    """Create the declared rows that are missing and set what runs on those that exist; timing and enabled of
    an existing row are the operators'. Idempotent: a second run changes nothing. Returns the names it created
    and updated."""
    declared = [BY_NAME[n] for n in names] if names is not None else list(SCHEDULES)
    existing = {t.name: t for t in PeriodicTask.objects.using(using).filter(name__in=[s.name for s in declared])}
    created, updated = [], []
    for schedule in declared:
        owned = {"task": schedule.task, "kwargs": schedule.kwargs_json(), "description": schedule.why}
        row = existing.get(schedule.name)
        if row is None:
            PeriodicTask.objects.using(using).create(
                name=schedule.name, enabled=True, **owned, **_timing(schedule, using)
            )
            created.append(schedule.name)
            continue
        changed = [field for field, value in owned.items() if getattr(row, field) != value]
        if changed:
            for field in changed:
                setattr(row, field, owned[field])
            row.save(update_fields=changed)  # PeriodicTask.save tells beat that its schedule changed
            updated.append(schedule.name)
    return {"created": created, "updated": updated}


def _after_migrate(sender, using="default", **kwargs) -> None:
    # A migrate that stopped short of django-celery-beat's tables (a partial one, to an app's zero) has none.
    if PeriodicTask._meta.db_table in connections[using].introspection.table_names():
        sync(using=using)


def connect(sender) -> None:
    """Sync once per `migrate` (or flush): after the core app's post_migrate, when every table exists."""
    post_migrate.connect(_after_migrate, sender=sender, dispatch_uid="vigil.schedules.sync")
