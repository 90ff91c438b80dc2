"""Thin tasks over webhook delivery: send one (handed over after commit, or at its retry time), and the sweep."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from risk.alerts import webhooks


@shared_task(
    name=webhooks.SEND_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=30,
    max_retries=5,
)
def send_webhook(delivery_id: int) -> str:
    return webhooks.send(delivery_id)


@shared_task(name="alerts.sweep_webhooks", acks_late=True)
def sweep_webhooks() -> int:
    return webhooks.sweep()
