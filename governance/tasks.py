"""Celery tasks: thin wrappers that call services (ARCHITECTURE.md: no business logic in tasks)."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(
    name="governance.daily_revalidation_sweep",
    acks_late=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=5,
)
def daily_revalidation_sweep():
    """Flag overdue and due-soon validations; open yearly attestations. Safe to run more than once a day."""
    from governance.revalidation import revalidation_sweep

    result = revalidation_sweep()
    logger.info("revalidation sweep: %s", result)
    return result


@shared_task(name="governance.verify_audit_chain", acks_late=True)
def verify_audit_chain_task():
    """Nightly proof that the audit trail is intact; a broken chain is logged as an error for the on-call."""
    from governance.audit import verify_chain

    report = verify_chain()
    if not report.intact:
        logger.error("AUDIT CHAIN BROKEN at event %s: %s", report.first_broken_id, report.problem)
    return report.__dict__
