"""Celery tasks of the lifecycle: thin wrappers that call services."""

import logging

from celery import shared_task

from governance.lifecycle.revalidation import revalidation_sweep

logger = logging.getLogger(__name__)


# The task keeps its name: the beat schedule (django-celery-beat rows) refers to it by name.
@shared_task(
    name="governance.daily_revalidation_sweep",
    acks_late=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=5,
)
def daily_revalidation_sweep():
    """Flag overdue and due-soon validations; open yearly attestations. Safe to run more than once a day."""
    result = revalidation_sweep()
    logger.info("revalidation sweep: %s", result)
    return result
