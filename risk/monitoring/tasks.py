"""Celery tasks of monitoring: thin wrappers that call services."""

from celery import shared_task

from risk.monitoring import cycles, ongoing_validation


@shared_task(name="monitoring.start_cycle", acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True)
def start_cycle(schedule: str):
    """Beat fires this per monitoring schedule (kwargs {"schedule": its name}); starting a tick twice is a no-op."""
    return [c.pk for c in cycles.start_cycle(schedule)]


@shared_task(name="monitoring.ongoing_validation_sweep", acks_late=True)
def ongoing_validation_sweep():
    """Daily: start the scheduled validations on production data that are due (a second sweep starts nothing)."""
    return ongoing_validation.sweep()
