"""Governed changes to a monitor: its thresholds, window and schedule.

A threshold decides when a live model is flagged, so changing one is a governed act: only the model's
validator or compliance, with a written reason, audited with old and new values. The change takes effect
from the next evaluation; results already recorded keep the configuration (and hash) they ran with.
"""

import math

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_celery_beat.models import PeriodicTask

from governance.core.audit import audit_record
from risk.monitoring import access as monitoring_access
from risk.monitoring import measures
from risk.monitoring import schedules as beat_schedules
from risk.monitoring.models import Monitor

MIN_REASON = 20
SCHEDULE_TASK = beat_schedules.TASK


def monitoring_schedules():
    return PeriodicTask.objects.filter(task=SCHEDULE_TASK).select_related("interval", "crontab").order_by("name")


def check_thresholds(direction: str, warn, breach) -> dict:
    """Field errors for thresholds that cannot work: not finite, or warn past breach (a monitor that would
    breach before it warns)."""
    errors = {}
    for name, value in (("warn", warn), ("breach", breach)):
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            errors[name] = ["Give a finite number."]
    if errors:
        return errors
    if direction == "above" and warn > breach:
        errors["warn"] = ["This monitor alerts on high values: the warn threshold must not exceed the breach one."]
    if direction == "below" and warn < breach:
        errors["warn"] = ["This monitor alerts on low values: the warn threshold must not be below the breach one."]
    return errors


@transaction.atomic
def monitor_change(actor, monitor: Monitor, *, reason: str, **fields) -> Monitor:
    """Change a monitor's warn, breach, window, min_rows or schedule (any of them), with a reason."""
    monitor = (
        Monitor.objects.select_for_update(of=("self",)).select_related("version__model", "schedule").get(pk=monitor.pk)
    )
    if not monitoring_access.can_change_monitor(actor, monitor):
        raise PermissionDenied("Only the model's validator or compliance changes a monitor.")
    errors = {}
    if len((reason or "").strip()) < MIN_REASON:
        errors["reason"] = [f"Say why, in at least {MIN_REASON} characters (it goes into the audit trail)."]
    new = {
        "warn": fields.get("warn", monitor.warn),
        "breach": fields.get("breach", monitor.breach),
        "window": fields.get("window", monitor.window),
        "min_rows": fields.get("min_rows", monitor.min_rows),
        "schedule": fields.get("schedule", monitor.schedule),
    }
    errors.update(check_thresholds(monitor.direction, new["warn"], new["breach"]))
    for name in ("window", "min_rows"):
        if not isinstance(new[name], int) or isinstance(new[name], bool) or not 0 <= new[name] <= 10_000_000:
            errors[name] = ["Give a whole number between 0 and 10,000,000."]
    if "window" not in errors and new["window"] < 1:
        errors["window"] = ["The window must hold at least one unit of data."]
    if not isinstance(new["schedule"], PeriodicTask) or new["schedule"].task != SCHEDULE_TASK:
        errors["schedule"] = ["Choose one of the monitoring schedules."]
    if errors:
        raise ValidationError(errors)
    changes = {}
    for name, value in new.items():
        old = getattr(monitor, name)
        if value != old:
            changes[name] = [old.name, value.name] if name == "schedule" else [old, value]
            if name in ("warn", "breach") and measures.MEASURES[monitor.measure].unit in measures.PERCENT_UNITS:
                # Stored as a fraction, typed and shown in per cent: the record says both, each named.
                changes[f"{name}_percent"] = [measures.as_percent(old), measures.as_percent(value)]
            setattr(monitor, name, value)
    if not changes:
        raise ValidationError({"warn": ["Nothing would change: these are the monitor's current settings."]})
    monitor.config_version += 1
    monitor.save()
    changes["config_version"] = [monitor.config_version - 1, monitor.config_version]
    audit_record(actor, "monitor.changed", monitor, changes=changes, reason=reason.strip())
    return monitor


def describe_schedule(task: PeriodicTask) -> str:
    if task.interval_id:
        every, period = task.interval.every, task.interval.period
        return f"every {every} {period.rstrip('s') if every == 1 else period}"
    if task.crontab_id:
        c = task.crontab
        days = "each weekday" if c.day_of_week == "1-5" else f"days of week {c.day_of_week}"
        if c.minute.isdigit() and c.hour.isdigit():
            return f"{days} at {int(c.hour):02d}:{int(c.minute):02d} {c.timezone}"
        return f"cron {c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week} ({c.timezone})"
    return "no schedule"


@transaction.atomic
def schedule_change(actor, task: PeriodicTask, *, kind, every=None, period=None, at=None, enabled=True, reason=""):
    """Compliance changes when a monitoring schedule fires (django-celery-beat picks the change up), audited."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule

    if not monitoring_access.may_change_schedules(actor):
        raise PermissionDenied("Only compliance changes monitoring schedules.")
    task = PeriodicTask.objects.select_for_update(of=("self",)).select_related("interval", "crontab").get(pk=task.pk)
    if task.task != SCHEDULE_TASK:
        raise PermissionDenied("Only monitoring schedules are changed here.")
    if len((reason or "").strip()) < MIN_REASON:
        raise ValidationError({"reason": [f"Say why, in at least {MIN_REASON} characters."]})
    before = (describe_schedule(task), task.enabled)
    if kind == "interval":
        if period not in ("minutes", "hours") or not isinstance(every, int) or not 1 <= every <= 1440:
            raise ValidationError({"every": ["Give a whole number of minutes or hours, 1 to 1440."]})
        task.interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        task.crontab = None
    elif kind == "daily":
        if at is None:
            raise ValidationError({"at": ["Give the time of day (UTC)."]})
        task.crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=str(at.minute),
            hour=str(at.hour),
            day_of_week="1-5",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        task.interval = None
    else:
        raise ValidationError({"kind": ["Choose an interval or a time each weekday."]})
    task.enabled = bool(enabled)
    task.save()
    after = (describe_schedule(task), task.enabled)
    if after == before:
        raise ValidationError({"kind": ["Nothing would change: this is the schedule as it is."]})
    changes = {"schedule": [before[0], after[0]]}
    if before[1] != after[1]:
        changes["enabled"] = [before[1], after[1]]
    audit_record(actor, "monitoring_schedule.changed", task, changes=changes, reason=reason.strip())
    return task
