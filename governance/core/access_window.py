"""An auditor's access window: from, until. Outside it the auditor signs in to nothing (the login form refuses,
an open session ends on its next request) and their API tokens are refused; jobs they asked for do not run.

Only people holding the auditor role are ever limited this way, so nobody else pays for the check: their
window is read (one query, kept on the user object for the request) only when they are an auditor.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.core.audit import audit_record
from governance.core.models import UserProfile
from governance.core.roles import Role, user_roles


def window_of(user) -> tuple[dt.datetime | None, dt.datetime | None]:
    cached = getattr(user, "_vigil_access_window", None)
    if cached is None:
        row = UserProfile.objects.filter(user_id=user.pk).values_list("access_from", "access_until").first()
        cached = user._vigil_access_window = row or (None, None)
    return cached


def keeps_a_window(user) -> bool:
    """Only auditors have an access window."""
    return Role.AUDITOR in user_roles(user)


def sets_windows(user) -> bool:
    """Compliance sets auditors' windows."""
    return Role.COMPLIANCE in user_roles(user)


def reads_windows(user) -> bool:
    """Compliance reads every auditor's window; an auditor reads their own."""
    return sets_windows(user) or keeps_a_window(user)


def refusal(user, now: dt.datetime | None = None) -> str:
    """Why the user may not act now ("" when they may): only an auditor outside their window is refused."""
    if not getattr(user, "is_authenticated", False):
        return ""
    # A window already read (API authentication joins it) and empty needs no roles: only auditors have one.
    if getattr(user, "_vigil_access_window", None) == (None, None) or not keeps_a_window(user):
        return ""
    start, end = window_of(user)
    now = now or timezone.now()
    if start is not None and now < start:
        return f"Your auditor access opens on {start:%Y-%m-%d %H:%M} UTC."
    if end is not None and now >= end:
        return f"Your auditor access ended on {end:%Y-%m-%d %H:%M} UTC; compliance can extend it."
    return ""


def window_errors(auditor, access_from, access_until) -> dict[str, list[str]]:
    """What is wrong with giving `auditor` this window, by field (the page here and the admin ask the same)."""
    errors = {}
    if not keeps_a_window(auditor):
        errors["user"] = [f"{auditor.get_username()} is not an auditor: only auditors have access windows."]
    if access_from and access_until and access_until <= access_from:
        errors["access_until"] = ["Give an end after the start."]
    return errors


def set_window(actor, auditor, access_from, access_until) -> UserProfile:
    """Compliance sets (or clears, with None) an auditor's window; audited. 400 by field, nothing changed."""
    if not sets_windows(actor):
        raise PermissionDenied("Only compliance sets auditors' access.")
    errors = window_errors(auditor, access_from, access_until)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        profile, _ = UserProfile.objects.select_for_update().get_or_create(user=auditor)
        before = (profile.access_from, profile.access_until)
        profile.access_from, profile.access_until = access_from, access_until
        profile.save(update_fields=["access_from", "access_until"])
        audit_record(
            actor,
            "access_window.set",
            auditor,
            object_type="auth.user",
            object_repr=auditor.get_username(),
            changes={
                "access_from": [_text(before[0]), _text(access_from)],
                "access_until": [_text(before[1]), _text(access_until)],
            },
        )
    auditor.__dict__.pop("_vigil_access_window", None)
    return profile


def _text(moment) -> str | None:
    return moment.isoformat() if moment else None
