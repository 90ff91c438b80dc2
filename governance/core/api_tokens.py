"""API tokens, of people and of service accounts: the one rule for making, finding and ending them.

A token is a random secret of 256 bits shown once, when issued; Vigil keeps its SHA-256 (`digest`) and its first
characters (`prefix`, so its holder can tell tokens apart). A plain hash is enough: the secret is random, not a
password, so nothing can be guessed from its digest, and authentication finds a token by its digest in one indexed
read. A person's token lives `VIGIL_API_TOKEN_LIFETIME_HOURS`; a service account's until compliance rotates or
revokes it (models_registry/service_accounts.py). A person's tokens all end when their password changes, when
they are deactivated (by any path that saves the user: forms, the admin, a management command) and when they
sign out everywhere, which ends their web sessions too. Every issue and end is in the audit trail; secrets never.
"""

import datetime as dt
import hashlib
import secrets
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_save, pre_save
from django.http import Http404
from django.utils import timezone

from governance.core.audit import audit_record
from governance.core.models import ApiToken, WebSession

MARK = "vgl"  # how a Vigil token starts: secret scanners and people recognise one in a leaked file
PREFIX_LENGTH = 12
# Authentication notes a token's use at most this often: a trading system's many requests a second write nothing.
LAST_USED_PRECISION = dt.timedelta(minutes=5)
Revocation = ApiToken.Revocation


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def person_lifetime() -> dt.timedelta:
    return dt.timedelta(hours=settings.VIGIL_API_TOKEN_LIFETIME_HOURS)


def live_q(now: dt.datetime | None = None) -> Q:
    """Tokens that authenticate now: not revoked, not expired."""
    now = now or timezone.now()
    return Q(revoked_at__isnull=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def refusal(token: ApiToken, now: dt.datetime | None = None) -> str:
    """Why a token found by its digest does not authenticate ("" when it does)."""
    if token.revoked_at is not None:
        return f"This token was revoked ({token.get_revoked_reason_display().lower()}); ask for a new one."
    if token.expires_at is not None and token.expires_at <= (now or timezone.now()):
        return f"This token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; ask for a new one."
    return ""


def mark_used(token: ApiToken, now: dt.datetime | None = None) -> None:
    """Note the token's use when the last note is older than LAST_USED_PRECISION (one conditional UPDATE)."""
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def token_issue(user, *, lifetime: dt.timedelta | None) -> tuple[ApiToken, str]:
    """A new token for `user` (no lifetime: until revoked); returns (token, secret), the secret shown this once.
    The caller audits why it was issued."""
    key = MARK + secrets.token_hex(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        digest=digest(key),
        prefix=key[:PREFIX_LENGTH],
        created_at=now,
        expires_at=now + lifetime if lifetime is not None else None,
    )
    return token, key


@transaction.atomic
def person_token_issue(user) -> tuple[ApiToken, str]:
    """A person's new token (the token endpoint: password, and one-time code when they have a device, checked)."""
    token, key = token_issue(user, lifetime=person_lifetime())
    audit_record(
        user,
        "auth.token_issued",
        user,
        object_type="auth.user",
        object_repr=user.get_username(),
        changes={"token": [None, token.prefix], "expires_at": [None, token.expires_at]},
    )
    return token, key


def tokens_end(user_id: int, reason: str, *, actor=None, token_ids=None, audit: bool = True) -> list[str]:
    """End the user's live tokens (or those of `token_ids` among them); returns their prefixes. Audited as
    `auth.tokens_revoked` by `actor` (None: Vigil, e.g. after a password change) when any was live."""
    with transaction.atomic():
        live = ApiToken.objects.select_for_update().filter(live_q(), user_id=user_id)
        if token_ids is not None:
            live = live.filter(pk__in=token_ids)
        ended = list(live.order_by("id").values_list("pk", "prefix"))
        if not ended:
            return []
        ApiToken.objects.filter(pk__in=[pk for pk, _ in ended]).update(revoked_at=timezone.now(), revoked_reason=reason)
        prefixes = [prefix for _, prefix in ended]
        if audit:
            user = get_user_model().objects.get(pk=user_id)
            audit_record(
                actor,
                "auth.tokens_revoked",
                user,
                object_type="auth.user",
                object_repr=user.get_username(),
                changes={"tokens": [prefixes, None]},
                reason=Revocation(reason).label,
            )
    return prefixes


def token_revoke(actor, token_id: int) -> str:
    """A person ends one of their own tokens; 404 for anyone else's or one already ended."""
    ended = tokens_end(actor.pk, Revocation.REVOKED, actor=actor, token_ids=[token_id])
    if not ended:
        raise Http404("No such live token of yours.")
    return ended[0]


def tokens_of(user):
    """A person's live tokens, newest first (never the secret: it is not kept)."""
    return ApiToken.objects.filter(live_q(), user=user)


def _end_web_sessions(user_id: int, keep: str | None = None) -> int:
    """End the user's recorded browser sessions (but `keep`), through the configured session backend."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    rows = WebSession.objects.filter(user_id=user_id).exclude(session_key=keep or "")
    keys = list(rows.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    rows.delete()
    return len(keys)


def sign_out_everywhere(request) -> tuple[int, int]:
    """The person's tokens and every web session end, this one last; returns (tokens, other sessions) ended."""
    user = request.user
    with transaction.atomic():
        tokens = tokens_end(user.pk, Revocation.SIGNED_OUT, audit=False)
        sessions = _end_web_sessions(user.pk, keep=request.session.session_key)
        audit_record(
            user,
            "auth.signed_out_everywhere",
            user,
            object_type="auth.user",
            object_repr=user.get_username(),
            changes={"tokens": [tokens, None], "other_web_sessions": [sessions, 0]},
        )
    logout(request)
    return len(tokens), sessions


# --- Ending tokens when the account changes, whatever changed it ----------------------------------------------


def _remember_credentials(sender, instance, update_fields=None, **kwargs):
    """Before a user is saved, read what their tokens depend on (a user's save is rare; a login saves only
    last_login and is not read)."""
    if instance.pk is None or (update_fields is not None and not {"password", "is_active"} & set(update_fields)):
        return
    instance._vigil_before = sender.objects.filter(pk=instance.pk).values_list("password", "is_active").first()


def _end_tokens_on_change(sender, instance, created, update_fields=None, **kwargs):
    before = instance.__dict__.pop("_vigil_before", None)
    if created or before is None:
        return
    password, active = before
    if active and not instance.is_active:
        tokens_end(instance.pk, Revocation.DEACTIVATED)
        _end_web_sessions(instance.pk)
    elif password != instance.password and not _rehashed(instance, update_fields):
        tokens_end(instance.pk, Revocation.PASSWORD_CHANGED)


def _rehashed(user, update_fields) -> bool:
    """Django re-hashes a correct password with a newer hasher at login (check_password's setter saves only the
    password, without set_password's marker): the password did not change."""
    return getattr(user, "_password", None) is None and update_fields is not None and set(update_fields) == {"password"}


def _record_session(sender, request, user, **kwargs):
    key = getattr(getattr(request, "session", None), "session_key", None)
    if user is None or not key:
        return
    started = timezone.now()
    # Sessions that lived their whole age are gone from the backend: forget them here too.
    WebSession.objects.filter(
        user=user, started_at__lt=started - dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    ).delete()
    WebSession.objects.update_or_create(session_key=key, defaults={"user": user, "started_at": started})


def _forget_session(sender, request, user, **kwargs):
    key = getattr(getattr(request, "session", None), "session_key", None)
    if key:
        WebSession.objects.filter(session_key=key).delete()


def connect() -> None:
    """Called from the core's ready()."""
    User = get_user_model()
    pre_save.connect(_remember_credentials, sender=User, dispatch_uid="api_tokens.remember_credentials")
    post_save.connect(_end_tokens_on_change, sender=User, dispatch_uid="api_tokens.end_tokens_on_change")
    user_logged_in.connect(_record_session, dispatch_uid="api_tokens.record_session")
    user_logged_out.connect(_forget_session, dispatch_uid="api_tokens.forget_session")
