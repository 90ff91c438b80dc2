"""Celery tasks of validation. Runs are jobs on the core's backbone (governance.run_job); this task only
takes over messages queued under its old name before runs moved onto the backbone."""

from celery import shared_task

from risk.validation.runs import run_execute


@shared_task(name="risk.run_validation", acks_late=True, reject_on_worker_lost=True)
def run_validation(run_id: int) -> str:
    """A run queued by an earlier release: perform it through its job (created on first use)."""
    return run_execute(run_id)
