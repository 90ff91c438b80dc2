"""Thin task: remove expired export files (the job backbone's run_job task runs the exports themselves)."""

from celery import shared_task

from risk.exports import services


@shared_task(name="exports.purge_expired", acks_late=True)
def purge_expired() -> int:
    return services.purge_expired()
