from celery import shared_task

from risk.dashboards import snapshots


@shared_task(name="dashboards.record_snapshots", acks_late=True)
def record_snapshots() -> int:
    """Today's key risk indicators, for the firm and each desk (idempotent: a retry rewrites the day's rows)."""
    return snapshots.record()
