"""Thin tasks over the gate's services: the scheduled kill-switch test, and the periodic refresh that records a
decision that changed because a date passed (a pilot's end, a validation due date) when nobody asked."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from risk.gate import decisions, killswitch


@shared_task(
    name="gate.kill_switch_test",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def kill_switch_test() -> dict:
    test = killswitch.kill_switch_test(None)
    return {"test": test.pk, "passed": test.passed, "allowed_before": test.allowed_before}


@shared_task(
    name="gate.refresh_decisions",
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
)
def refresh_decisions() -> int:
    return decisions.refresh()
