"""Celery tasks of the risk app: thin, they take ids and call services."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    name="risk.run_validation",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def run_validation(run_id: int) -> str:
    """Perform one validation run. A lost worker's message is redelivered and the run redone, not duplicated."""
    from risk.validation import run_execute

    return run_execute(run_id)
