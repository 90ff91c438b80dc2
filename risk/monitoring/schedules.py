"""The monitoring schedules: django-celery-beat entries that fire monitoring.start_cycle with their own name.
Compliance sees and changes them on /monitoring/schedules/ (monitors.schedule_change)."""

import json

TASK = "monitoring.start_cycle"
FREQUENT = "Monitoring: every 15 minutes"  # trading, staleness, sudden change
HOURLY = "Monitoring: hourly"  # performance, drift
DAILY = "Monitoring: daily after the close"  # the live Sharpe against the backtest, drawdown
NAMES = (FREQUENT, HOURLY, DAILY)


def create_defaults(interval_model, crontab_model, task_model) -> dict:
    """Create the default schedules that do not exist (the migration passes its historical models; a database
    emptied by a test finds them recreated). Returns them by name."""
    quarter, _ = interval_model.objects.get_or_create(every=15, period="minutes")
    hour, _ = interval_model.objects.get_or_create(every=1, period="hours")
    close, _ = crontab_model.objects.get_or_create(
        minute="30", hour="21", day_of_week="1-5", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    out = {}
    for name, timing in ((FREQUENT, {"interval": quarter}), (HOURLY, {"interval": hour}), (DAILY, {"crontab": close})):
        out[name], _ = task_model.objects.get_or_create(
            name=name, defaults={"task": TASK, "kwargs": json.dumps({"schedule": name}), "enabled": True, **timing}
        )
    return out


def defaults() -> dict:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    found = {t.name: t for t in PeriodicTask.objects.filter(name__in=NAMES)}
    return found if len(found) == len(NAMES) else create_defaults(IntervalSchedule, CrontabSchedule, PeriodicTask)
