"""Celery tasks of the core: thin wrappers that call services (ARCHITECTURE.md: no business logic in tasks)."""

import logging

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from django.db import InterfaceError, OperationalError

from governance.core import events, jobs
from governance.core.audit import verify_chain

logger = logging.getLogger(__name__)


@shared_task(name="governance.verify_audit_chain", acks_late=True)
def verify_audit_chain_task():
    """Nightly proof that the audit trail is intact; a broken chain is logged as an error for the on-call."""
    report = verify_chain()
    if not report.intact:
        logger.error("AUDIT CHAIN BROKEN at event %s: %s", report.first_broken_id, report.problem)
    return report.__dict__


@shared_task(
    name=events.DELIVER_TASK,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=30,
    max_retries=5,
)
def deliver_event(event_id: int) -> str:
    """Deliver one outbox event (handed over when its transaction committed). A database that is briefly
    unavailable is retried; past that, the event stays pending for the sweep."""
    return events.deliver(event_id)


@shared_task(name="governance.deliver_pending_events", acks_late=True)
def deliver_pending_events() -> int:
    """The sweep: deliver what a lost worker or a broker that was down at commit left pending."""
    return events.deliver_pending()


class JobTask(Task):
    """When a job cannot be finished (retries spent, its hard time limit, or a bug), say so on the job and its
    subject instead of leaving them 'running' for ever."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if isinstance(exc, TimeLimitExceeded):
            reason = (
                f"Stopped: it ran past its hard time limit of {self.time_limit or exc} seconds and its process was "
                "killed. Split the input, or ask an administrator to raise VIGIL_JOB_SOFT_TIME_LIMIT_SECONDS."
            )
        else:
            reason = f"{type(exc).__name__}: {exc}"
        jobs.give_up(args[0] if args else kwargs.get("job_id"), reason)


@shared_task(name="governance.recover_lost_jobs", acks_late=True)
def recover_lost_jobs() -> dict:
    """Beat, every 30 s: running jobs whose worker stopped renewing their lease are queued again (or given up)."""
    return jobs.recover_lost()


@shared_task(
    base=JobTask,
    name=jobs.RUN_JOB_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
)
def run_job(job_id: int) -> str:
    """Run one job of any kind. A lost worker's message is redelivered and the job claimed again; a lost
    database connection is retried with backoff."""
    return jobs.execute(job_id)
