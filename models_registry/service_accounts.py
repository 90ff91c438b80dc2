"""Service accounts for trading systems and pipelines: a token that reads the gate and/or pushes monitoring data
for named models or a desk, and nothing else.

The account is a user with no password, no role and no page: it authenticates with its API token only. Its
scope joins the model access rule (`access.model_scope_q`), so every endpoint it may call sees exactly its models;
`api_permissions.ServiceAccountLimits` refuses it every endpoint not marked for one of its capabilities. Tokens are
Vigil's hashed API tokens (governance/core/api_tokens.py) without a lifetime: shown once, when created or rotated,
they live until compliance rotates or revokes them; the audit trail records who did what, never a token.
"""

import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance.core import api_tokens
from governance.core.access import manages_service_accounts
from governance.core.audit import audit_record
from governance.core.models import UserProfile
from models_registry.models import ServiceAccount

GATE, PUSH = "gate", "push"


@dataclass(frozen=True)
class Scope:
    """What a service account may do, as read once and cached (an account's scope never changes after it is
    created; revoking ends its token and deactivates its user, so a cached scope cannot outlive it)."""

    account_id: int
    desk_id: int | None
    model_ids: tuple[int, ...]
    gate: bool
    push: bool


NOT_AN_ACCOUNT = 0


def _cache_key(user_id: int) -> str:
    return f"vigil:service-account:{user_id}"


def account_of(user) -> Scope | None:
    """The user's service-account scope, or None for a person: from the cache, so a person's request pays no
    query for being asked."""
    if not getattr(user, "is_authenticated", False):
        return None
    if hasattr(user, "_vigil_service_scope"):
        return user._vigil_service_scope
    if getattr(user, "_vigil_service_account_joined", False):
        # Token authentication joined the account in its own query: a person is known to be one at no cost.
        try:
            user.service_account  # noqa: B018 - loaded by the join; raises when there is none
        except ServiceAccount.DoesNotExist:
            user._vigil_service_scope = None
            return None
    cached = cache.get(_cache_key(user.pk))
    if cached is None:
        account = ServiceAccount.objects.filter(user_id=user.pk, revoked_at__isnull=True).first()
        cached = (
            NOT_AN_ACCOUNT
            if account is None
            else Scope(
                account.pk,
                account.desk_id,
                tuple(account.scope_models.values_list("pk", flat=True)),
                account.can_read_gate,
                account.can_push,
            )
        )
        cache.set(_cache_key(user.pk), cached, 300)
    user._vigil_service_scope = None if cached == NOT_AN_ACCOUNT else cached
    return user._vigil_service_scope


def may(user, capability: str) -> bool:
    scope = account_of(user)
    if scope is None:
        return False
    return scope.gate if capability == GATE else scope.push


def scope_q(scope: Scope, prefix: str = "") -> Q:
    q = Q(**{f"{prefix}pk__in": scope.model_ids}) if scope.model_ids else Q(pk__in=[])
    if scope.desk_id is not None:
        q |= Q(**{f"{prefix}desk_id": scope.desk_id})
    return q


def _require_compliance(actor) -> None:
    if not manages_service_accounts(actor):
        raise PermissionDenied("Only compliance manages service accounts.")


def _check(name, desk, models, can_read_gate, can_push) -> dict:
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = ["Name the system (up to 100 characters)."]
    elif ServiceAccount.objects.filter(name__iexact=name).exists():
        errors["name"] = ["A service account has this name."]
    if desk is None and not models:
        errors["models"] = ["Scope it to a desk or to named models."]
    if not can_read_gate and not can_push:
        errors["can_read_gate"] = ["Allow it to read the gate, to push monitoring data, or both."]
    if errors:
        raise ValidationError(errors)
    return {"name": name}


@transaction.atomic
def service_account_create(actor, *, name, desk=None, models=(), can_read_gate=True, can_push=False):
    """Compliance creates an account; returns (account, token key), the key shown this once."""
    _require_compliance(actor)
    models = list(models)
    name = _check(name, desk, models, can_read_gate, can_push)["name"]
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "system"
    username = f"svc-{slug}"
    User = get_user_model()
    suffix = 1
    while User.objects.filter(username=username).exists():
        suffix += 1
        username = f"svc-{slug}-{suffix}"
    user = User(username=username, first_name=name, last_name="(service account)", is_active=True)
    user.set_unusable_password()
    user.save()
    UserProfile.objects.create(user=user, desk=desk, title="Service account")
    account = ServiceAccount.objects.create(
        user=user, name=name, desk=desk, can_read_gate=can_read_gate, can_push=can_push, created_by=actor
    )
    account.scope_models.set(models)
    token, key = api_tokens.token_issue(user, lifetime=None)
    audit_record(
        actor,
        "service_account.create",
        account,
        changes={
            "desk": [None, desk.code if desk else None],
            "models": [None, sorted(m.key for m in models)],
            "can_read_gate": [None, can_read_gate],
            "can_push": [None, can_push],
            "token": [None, token.prefix],
        },
    )
    return account, key


@transaction.atomic
def service_account_rotate(actor, account) -> str:
    """A new token replaces the old one at once (the old one answers 401 from now); returns the new key."""
    _require_compliance(actor)
    account = ServiceAccount.objects.select_for_update().get(pk=account.pk)
    if not account.active:
        raise ValidationError({"account": ["A revoked account gets no new token."]})
    ended = api_tokens.tokens_end(account.user_id, api_tokens.Revocation.ROTATED, audit=False)
    token, key = api_tokens.token_issue(account.user, lifetime=None)
    account.token_rotated_at = timezone.now()
    account.save(update_fields=["token_rotated_at"])
    audit_record(
        actor,
        "service_account.rotate",
        account,
        changes={"token_rotated_at": [None, account.token_rotated_at], "token": [ended or None, token.prefix]},
    )
    return key


@transaction.atomic
def service_account_revoke(actor, account, *, reason: str = "") -> ServiceAccount:
    """The account stops working at once: its token is ended and its user deactivated; the record stays."""
    _require_compliance(actor)
    account = ServiceAccount.objects.select_for_update().select_related("user").get(pk=account.pk)
    if not account.active:
        return account
    api_tokens.tokens_end(account.user_id, api_tokens.Revocation.ACCOUNT_REVOKED, audit=False)
    get_user_model().objects.filter(pk=account.user_id).update(is_active=False)
    account.revoked_at, account.revoked_by = timezone.now(), actor
    account.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(actor, "service_account.revoke", account, reason=reason, changes={"active": [True, False]})
    transaction.on_commit(lambda: cache.delete(_cache_key(account.user_id)))
    return account
