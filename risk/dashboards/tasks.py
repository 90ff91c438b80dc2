from celery import shared_task

from risk.dashboards import snapshots


@shared_task(name="dashboards.record_snapshots", acks_late=True)
def record_snapshots() -> dict:
    """Yesterday's final key risk indicators, any missing day rebuilt, and today's so far, for the firm and each desk
    (idempotent: a retry rewrites the days' rows)."""
    return snapshots.record_daily()
