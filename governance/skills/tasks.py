from celery import shared_task

from governance.skills import services


@shared_task(name="skills.warn_expiring", acks_late=True)
def warn_expiring() -> dict:
    """Each person told once per completion 30 days before it lapses and once when it has lapsed (idempotent)."""
    return services.warn_expiring()
