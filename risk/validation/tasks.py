"""Celery tasks of the risk app: thin, they take ids and call services."""

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from risk.validation.runs import RUN_TASK, run_execute, run_give_up


class ValidationTask(Task):
    """When a run cannot be finished (retries spent, or a bug), say so on the run instead of leaving it
    'running' for ever."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        run_give_up(args[0] if args else kwargs.get("run_id"), f"{type(exc).__name__}: {exc}")


@shared_task(
    base=ValidationTask,
    name=RUN_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
)
def run_validation(run_id: int) -> str:
    """Perform one validation run. A lost worker's message is redelivered and the run redone, not duplicated;
    a lost database connection is retried with backoff."""
    return run_execute(run_id)
