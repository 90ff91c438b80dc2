"""Celery tasks of the core: thin wrappers that call services (ARCHITECTURE.md: no business logic in tasks)."""

import logging

from celery import shared_task

from governance.core.audit import verify_chain

logger = logging.getLogger(__name__)


@shared_task(name="governance.verify_audit_chain", acks_late=True)
def verify_audit_chain_task():
    """Nightly proof that the audit trail is intact; a broken chain is logged as an error for the on-call."""
    report = verify_chain()
    if not report.intact:
        logger.error("AUDIT CHAIN BROKEN at event %s: %s", report.first_broken_id, report.problem)
    return report.__dict__
