"""The gate's hot path: a trading system asks about the same model many times a second, so whether a caller may
read a model is remembered per (caller, model key), and a cached answer costs one query after authentication.

The entry holds the model's id, whether the caller was a superuser, and the stamp of the counts it was checked
under (generations.read_for_caller): the model's decision counts and its access count, the caller's access
count and the firm-wide one. A request reads the counts afresh (one query, which also gives the decision's
generation) and uses the entry only when the stamp is the same. Only a "may read" is remembered: a refusal is
checked in full each time, so a new grant, role or model is seen at once and needs no count.

What moves the counts, inside the transaction that makes the change (`connect()`, and the audit listener in
generations.py for the model's own counts):
- a caller: the user (active, superuser), their roles (group membership), their profile (desk, access window),
  their service account and its scope;
- a model: the model (desk, owner, validator, status through its audited change), its developers, its object
  grants (guardian rows, for users or groups) and its hand grants;
- everyone: a role group renamed or deleted, and a reverse-side membership clear.

A cache miss, a cache error, an entry from other counts: the request takes the full check of governance.core.access,
as every other endpoint does. Nothing is ever allowed on an error. Authentication is untouched: a deleted token, an
inactive user or an auditor outside their window is refused before the gate runs, on every request.
"""

import logging
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import Http404

from governance.core import access
from governance.core.models import UserProfile
from models_registry import selectors as registry
from models_registry.models import (
    Model,
    ModelAccessGrant,
    ModelGroupObjectPermission,
    ModelUserObjectPermission,
    ServiceAccount,
)
from risk.gate import decisions, generations
from risk.gate.generations import ACCESS_ALL, access_model_key, access_user_key

logger = logging.getLogger("vigil.gate")


class Stamped(NamedTuple):
    """Who asked about which model, and the counts (generations.read_for_caller) their answer was given under."""

    user_id: int
    model_id: int
    superuser: bool
    stamp: str


def _cache_key(user_id: int, model_key: str) -> str:
    return f"vigil:gate:reader:{user_id}:{model_key}"


def serve(user, model_key: str) -> decisions.Served:
    """The decision of `model_key` for `user`; Http404 when the model is absent or out of their scope."""
    return serve_stamped(user, model_key)[0]


def serve_stamped(user, model_key: str) -> tuple[decisions.Served, Stamped | None]:
    """serve(), and what the answer was given under when it is known (for fast_lane.py to replay it)."""
    if not access.is_active(user):
        raise Http404("Not found.")
    entry = _remembered(user.pk, model_key)
    if entry is not None:
        model_id, was_superuser, stamp = entry
        generation, current = generations.read_for_caller(model_id, user.pk)
        # The superuser flag is compared too: it is read with the token on every request, and can be changed
        # by a bare UPDATE that no signal sees.
        if current == stamp and was_superuser == user.is_superuser:
            served = decisions.cached(model_id, generation)
            if served is None:
                model = Model.objects.select_related("desk").filter(pk=model_id).first()
                served = None if model is None else decisions.decision_for(model, generation=generation)
            if served is not None:
                return served, Stamped(user.pk, model_id, was_superuser, stamp)
    return _check(user, model_key)


def _check(user, model_key: str) -> tuple[decisions.Served, Stamped | None]:
    """The full check (governance.core.access, as every endpoint), remembered when it allows."""
    model_id = Model.objects.filter(key=model_key).values_list("pk", flat=True).first()
    if model_id is None:
        raise Http404("Not found.")
    # The counts first, then everything the check reads, afresh: a change committed in between moves the counts,
    # so an entry is never older than its stamp. The request's user object will not do: authentication read it,
    # and its roles, before the counts.
    generation, stamp = generations.read_for_caller(model_id, user.pk)
    caller = get_user_model().objects.filter(pk=user.pk).first()
    model = registry.model_get_for_user(caller, model_key)
    if model.pk != model_id:  # the key moved to another model in between: answer, remember nothing
        return decisions.decision_for(model), None
    served = decisions.decision_for(model, generation=generation)
    _remember(user.pk, model_key, (model_id, caller.is_superuser, stamp))
    return served, Stamped(user.pk, model_id, caller.is_superuser, stamp)


def _remembered(user_id: int, model_key: str) -> tuple | None:
    try:
        entry = cache.get(_cache_key(user_id, model_key))
    except Exception:  # noqa: BLE001 - a failing cache only costs the full check
        logger.warning("gate reader cache unreadable; checking in full", exc_info=True)
        return None
    return entry if isinstance(entry, tuple) and len(entry) == 3 else None


def _remember(user_id: int, model_key: str, entry: tuple) -> None:
    try:
        cache.set(_cache_key(user_id, model_key), entry, settings.VIGIL_GATE_CACHE_SECONDS)
    except Exception:  # noqa: BLE001 - not remembered: the next request checks in full again
        logger.warning("gate reader cache not written", exc_info=True)


# --- What moves the access counts -----------------------------------------------------------------------------


def _on_save_or_delete(keys_of):
    def receiver(sender, instance, update_fields=None, **kwargs):
        if update_fields is not None and set(update_fields) <= {"last_login"}:
            return  # a sign-in stamps the user: nothing the gate checks
        generations.bump_access(keys_of(instance))

    return receiver


def _on_m2m(keys_of_instance, keys_of_pks):
    """A many-to-many change, from either side: `keys_of_pks` maps the other side's ids; a clear from the other
    side names no ids, so it moves the firm-wide count."""

    def receiver(sender, instance, action, reverse, pk_set, **kwargs):
        if action not in ("post_add", "post_remove", "post_clear"):
            return
        if not reverse:
            generations.bump_access(keys_of_instance(instance))
        else:
            generations.bump_access([ACCESS_ALL] if pk_set is None else keys_of_pks(pk_set))

    return receiver


def connect() -> None:
    """Called from the app's ready(). Receivers run inside the changing transaction, after the write."""
    User = get_user_model()
    by_user = _on_save_or_delete(lambda user: [access_user_key(user.pk)])
    by_user_id = _on_save_or_delete(lambda row: [access_user_key(row.user_id)])
    by_model = _on_save_or_delete(lambda model: [access_model_key(model.pk)])
    by_grant = _on_save_or_delete(lambda grant: [access_model_key(grant.content_object_id)])
    by_hand_grant = _on_save_or_delete(lambda grant: [access_model_key(grant.model_id)])
    everyone = _on_save_or_delete(lambda group: [ACCESS_ALL])
    for sender, receiver in (
        (User, by_user),
        (UserProfile, by_user_id),
        (ServiceAccount, by_user_id),
        (Model, by_model),
        (ModelUserObjectPermission, by_grant),
        (ModelGroupObjectPermission, by_grant),
        (ModelAccessGrant, by_hand_grant),
        (Group, everyone),
    ):
        uid = f"gate-access-{sender._meta.label_lower}"
        post_save.connect(receiver, sender=sender, weak=False, dispatch_uid=uid)
        post_delete.connect(receiver, sender=sender, weak=False, dispatch_uid=uid)
    for through, receiver in (
        (
            User.groups.through,
            _on_m2m(lambda user: [access_user_key(user.pk)], lambda user_ids: map(access_user_key, user_ids)),
        ),
        (
            Model.developers.through,
            _on_m2m(lambda model: [access_model_key(model.pk)], lambda model_ids: map(access_model_key, model_ids)),
        ),
        (
            ServiceAccount.scope_models.through,
            # From the model's side the ids are accounts, not users: rare enough to move everyone's count.
            _on_m2m(lambda account: [access_user_key(account.user_id)], lambda account_ids: [ACCESS_ALL]),
        ),
    ):
        m2m_changed.connect(receiver, sender=through, weak=False, dispatch_uid=f"gate-access-{through._meta.label}")
