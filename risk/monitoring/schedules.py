"""The monitoring schedules: django-celery-beat entries that fire monitoring.start_cycle with their own name.
They are declared with Vigil's other periodic jobs in governance/core/schedules.py; compliance sees and changes
their timing on /monitoring/schedules/ (monitors.schedule_change)."""

from django_celery_beat.models import PeriodicTask

from governance.core import schedules

TASK = schedules.MONITORING_TASK
FREQUENT = schedules.MONITORING_FREQUENT  # trading, staleness, sudden change
HOURLY = schedules.MONITORING_HOURLY  # performance, drift
DAILY = schedules.MONITORING_DAILY  # the live Sharpe against the backtest, drawdown
NAMES = (FREQUENT, HOURLY, DAILY)


def defaults() -> dict:
    """The three schedules by name (created as declared when missing: a database emptied by a test)."""
    found = {t.name: t for t in PeriodicTask.objects.filter(name__in=NAMES)}
    if len(found) < len(NAMES):
        schedules.sync(NAMES)
        found = {t.name: t for t in PeriodicTask.objects.filter(name__in=NAMES)}
    return found
