"""The Celery task of monitoring retention: a thin wrapper, fired daily by beat ("Monitoring: apply retention")."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from risk.monitoring import retention


@shared_task(
    name="monitoring.apply_retention",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def apply_retention() -> dict:
    """Delete monitoring rows past their kind's retention period. Each chunk commits on its own, so a redelivered
    or retried run carries on where the lost one stopped."""
    return retention.apply_retention()
