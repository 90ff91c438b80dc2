"""Wrong passwords and codes at signing are limited as logins are (django-axes): after
`VIGIL_SIGNING_FAILURE_LIMIT` failures within `VIGIL_SIGNING_FAILURE_WINDOW_MINUTES`, the person's signing is locked
for `VIGIL_SIGNING_LOCK_MINUTES`, and during the lock even the right password is refused. Every failure is an audit
event; reaching the lock is one more, and an alert to compliance.

Hand-written rather than django-axes: axes counts logins (username and address, reset by a login), while a signature
is made by a person already signed in, on every interface (pages, API, services), so the count belongs to the person.
The count lives in the database (`SigningThrottle`, one row per person, locked while it changes), so every web
process and worker agrees and two wrong answers at the same moment are both counted.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.core.audit import audit_record
from governance.core.exceptions import SigningLocked
from governance.core.models import SigningThrottle
from governance.core.notifications import raise_alert

LOCKED_KIND = "signing_locked"


def _limit() -> int:
    return settings.VIGIL_SIGNING_FAILURE_LIMIT


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.VIGIL_SIGNING_FAILURE_WINDOW_MINUTES)


def _lock_period() -> dt.timedelta:
    return dt.timedelta(minutes=settings.VIGIL_SIGNING_LOCK_MINUTES)


def _audit(user, action: str, reason: str, changes: dict | None = None) -> None:
    audit_record(
        user, action, user, object_type="auth.user", object_repr=user.get_username(), reason=reason, changes=changes
    )


def locked_until(user, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the person's signing lock ends, or None when they may sign."""
    until = SigningThrottle.objects.filter(user_id=user.pk).values_list("locked_until", flat=True).first()
    return until if until is not None and until > (now or timezone.now()) else None


def locked_message(until: dt.datetime) -> str:
    return (
        f"Signing is locked until {until:%Y-%m-%d %H:%M} UTC after {_limit()} wrong passwords or codes; "
        "nothing was signed. Compliance has been told."
    )


def refuse_if_locked(user) -> None:
    """Raise SigningLocked (audited) while the person's signing is locked: checked before the password, so the
    right one is refused too."""
    until = locked_until(user)
    if until is None:
        return
    with transaction.atomic():
        _audit(user, "signature.refused", f"signing locked until {until:%Y-%m-%d %H:%M:%S} UTC")
    raise SigningLocked(locked_message(until), until)


def record_failure(user, reason: str) -> dt.datetime | None:
    """Count one wrong answer (audited with its count). At the limit, lock the person's signing, audit the lock
    and alert compliance; returns when the new lock ends (None while under the limit)."""
    now = timezone.now()
    with transaction.atomic():
        row, _ = SigningThrottle.objects.select_for_update().get_or_create(user=user)
        if row.window_started_at is None or now - row.window_started_at > _window():
            row.failures, row.window_started_at = 0, now  # a new window: older failures no longer count
        before = row.failures
        row.failures += 1
        _audit(user, "signature.refused", reason, {"failures_in_window": [before, row.failures]})
        until = None
        if row.failures >= _limit():
            until = now + _lock_period()
            row.locked_until, row.failures, row.window_started_at = until, 0, None
            _audit(
                user,
                "signature.locked",
                f"{_limit()} wrong passwords or codes at signing within "
                f"{settings.VIGIL_SIGNING_FAILURE_WINDOW_MINUTES} minutes",
                {"locked_until": [None, until]},
            )
            who = user.get_full_name() or user.get_username()
            raise_alert(
                LOCKED_KIND,
                severity="high",
                title=f"Signing locked for {who} ({user.get_username()}) until {until:%Y-%m-%d %H:%M} UTC after "
                f"{_limit()} wrong passwords or codes",
                message="Each attempt is in the audit trail (signature.refused). If it was not them, their password "
                "may be known to someone else: reset it and review their sessions and tokens.",
            )
        row.save()
    return until


def record_success(user) -> None:
    """A right password (and code) clears the count, as a successful login clears axes' (AXES_RESET_ON_SUCCESS)."""
    SigningThrottle.objects.filter(user_id=user.pk, failures__gt=0).update(failures=0, window_started_at=None)
