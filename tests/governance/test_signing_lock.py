"""Signing is limited as login is: after VIGIL_SIGNING_FAILURE_LIMIT wrong passwords or codes within the window the
person's signing is locked for VIGIL_SIGNING_LOCK_MINUTES, even for the right password; every failure is audited and
the lock alerts compliance. Time is moved by setting the stored timestamps, never by sleeping."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.core.exceptions import SigningLocked
from governance.core.models import AuditEvent, SigningThrottle
from governance.lifecycle import workflow
from models_registry.models import ModelVersion
from risk.gate import killswitch
from risk.gate.models import KillSwitch
from tests.factories import PASSWORD
from tests.outbox import deliver

REASON = "Erratic fills across the desk since the open; stop until explained."


def engage(world, password):
    return killswitch.kill_switch_engage(
        world.compliance, scope="model", model=world.mine, reason=REASON, password=password
    )


def wrong_then(world, attempt, times=15):
    for _ in range(times):
        with pytest.raises(ValidationError):
            attempt("guess-" + "x" * 8)


@pytest.mark.django_db
def test_fifteen_wrong_passwords_lock_the_kill_switch_and_the_right_one_is_refused(world, settings):
    wrong_then(world, lambda password: engage(world, password))
    with pytest.raises(SigningLocked) as locked:
        engage(world, PASSWORD)
    assert "Signing is locked until" in locked.value.message_dict["password"][0]
    assert not KillSwitch.objects.exists()
    assert ModelVersion.objects.get(pk=world.mine_v1.pk).status == "production"
    refused = AuditEvent.objects.filter(action="signature.refused", actor=world.compliance)
    assert refused.count() == 16  # each wrong password, and each attempt while locked
    counted = [e.changes["failures_in_window"][1] for e in refused.filter(reason="wrong password at signing")]
    assert counted == list(range(1, settings.VIGIL_SIGNING_FAILURE_LIMIT + 1))
    assert AuditEvent.objects.filter(action="signature.locked", actor=world.compliance).count() == 1


@pytest.mark.django_db
def test_the_lock_alerts_compliance_only(world):
    from risk.alerts.models import Alert

    wrong_then(world, lambda password: engage(world, password), times=5)
    deliver()
    alert = Alert.objects.get(kind="signing_locked")
    assert "compliance" in alert.title and alert.severity == "high"
    told = set(alert.recipients.values_list("username", flat=True))
    assert "compliance" in told and not told & {"owner", "developer", "validator", "trader"}


@pytest.mark.django_db
def test_a_lifecycle_signature_is_locked_too_and_the_api_answers_429(world, api):
    workflow.version_transition(world.owner, world.mine_v1, "suspend", comment="Live slippage review.")
    url = "/api/v1/models/mine/versions/1.0/transitions/"
    client = api.as_user(world.compliance)
    body = {"action": "resume", "comment": "Review done; fills are within tolerance."}
    codes = [client.post(url, {**body, "password": "guess-guess"}, format="json").status_code for _ in range(15)]
    assert codes == [400] * 4 + [429] * 11  # the fifth wrong password locks
    response = client.post(url, {**body, "password": PASSWORD}, format="json")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Signing is locked until" in response.json()["password"][0]
    assert ModelVersion.objects.get(pk=world.mine_v1.pk).status == "suspended"


@pytest.mark.django_db
def test_the_lock_ends_after_its_period(world, settings):
    wrong_then(world, lambda password: engage(world, password), times=5)
    with pytest.raises(SigningLocked):
        engage(world, PASSWORD)
    ended = timezone.now() - dt.timedelta(seconds=1)  # the lock period has passed
    SigningThrottle.objects.filter(user=world.compliance).update(locked_until=ended)
    assert engage(world, PASSWORD).engaged_by == world.compliance


@pytest.mark.django_db
def test_failures_outside_the_window_and_before_a_right_password_do_not_add_up(world, settings):
    limit = settings.VIGIL_SIGNING_FAILURE_LIMIT
    attempt = lambda password: engage(world, password)  # noqa: E731
    wrong_then(world, attempt, times=limit - 1)
    earlier = timezone.now() - dt.timedelta(minutes=settings.VIGIL_SIGNING_FAILURE_WINDOW_MINUTES + 1)
    SigningThrottle.objects.filter(user=world.compliance).update(window_started_at=earlier)
    wrong_then(world, attempt, times=limit - 1)  # a new window: not locked
    assert engage(world, PASSWORD)  # the right password clears the count
    wrong_then(world, lambda password: engage(world, password), times=limit - 1)
    assert not SigningThrottle.objects.filter(user=world.compliance, locked_until__isnull=False).exists()


@pytest.mark.django_db
def test_a_blank_password_is_refused_and_audited_but_is_no_guess(world, settings):
    for _ in range(settings.VIGIL_SIGNING_FAILURE_LIMIT + 2):  # a form sent back to fix another field, again and again
        with pytest.raises(ValidationError) as refused:
            engage(world, "")
        assert not isinstance(refused.value, SigningLocked)
    assert AuditEvent.objects.filter(action="signature.refused", reason="no password given at signing").count() == (
        settings.VIGIL_SIGNING_FAILURE_LIMIT + 2
    )
    assert engage(world, PASSWORD).engaged_by == world.compliance
