"""The scheduled kill-switch test: a thin task over the service (beat: "Gate: kill-switch test")."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from risk.gate import killswitch


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
