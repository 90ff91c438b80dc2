"""Reads for the export pages: the models and versions a person may pick, through the access registry (a model out
of their scope is never offered, exactly as it is never exported); the audit trail page's events and its choices."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.urls import reverse

from governance.core import access
from governance.core.models import AuditEvent
from governance.core.selectors import audit_event_list, with_preceding_hash
from models_registry.choices import LifecycleStatus
from models_registry.models import Model, ModelVersion
from models_registry.selectors import model_list
from risk.exports.supervisor_packs import ALGORITHMIC

# The pickers list at most this many entries (a browser's list, not a search): beyond it the key is still typed.
PICKER_LIMIT = 2000


def model_choices(user, *, algorithmic: bool = False) -> list[tuple[str, str]]:
    """(key, "name · desk") of the models `user` may see, by key; with `algorithmic`, trading models only."""
    models = model_list(user)
    if algorithmic:
        models = models.filter(purpose__in=ALGORITHMIC)
    rows = models.order_by("key").values_list("key", "name", "desk__name")[:PICKER_LIMIT]
    return [(key, f"{name} · {desk}") for key, name, desk in rows]


def version_choices(user) -> list[tuple[str, str]]:
    """(label, "model key label · status") of the versions `user` may see, by model key and newest first."""
    versions = access.restrict(ModelVersion.objects.filter(model__in=model_list(user)), user)
    rows = versions.order_by("model__key", "-created_at").values_list("version", "model__key", "status")
    return [(label, f"{key} {label} · {LifecycleStatus(status).label}") for label, key, status in rows[:PICKER_LIMIT]]


# --- The audit trail page and its CSV (the same rows: one selector) --------------------------------------------

NO_ONE = "(none)"  # the person filter's value for events no signed-in person caused (never a username: parentheses)
_MODEL, _VERSION = Model._meta.label_lower, ModelVersion._meta.label_lower  # their names in the audit trail


def audit_trail(user, *, model: str = "", person: str = "", action: str = "", since=None, until=None) -> QuerySet:
    """The firm-wide audit trail for those who may read it (none for anyone else), newest first, narrowed by: a model
    (its events and its versions'), a person (by username; NO_ONE for Vigil's own), an action, and a period of UTC
    days (`since` and `until` included). Each event carries the hash of the one before it (`preceding_hash`)."""
    if not access.can_read_audit_trail(user):
        return AuditEvent.objects.none()
    events = audit_event_list(user)
    if model:
        models = access.ids_as_text(Model.objects.filter(key=model))
        versions = access.ids_as_text(ModelVersion.objects.filter(model__key=model))
        events = events.filter(
            Q(object_type=_MODEL, object_id__in=models) | Q(object_type=_VERSION, object_id__in=versions)
        )
    if person == NO_ONE:
        events = events.filter(actor__isnull=True)
    elif person:
        events = events.filter(actor__username=person)
    if action:
        events = events.filter(action=action)
    if since:
        events = events.filter(timestamp__gte=_day_start(since))
    if until:
        events = events.filter(timestamp__lt=_day_start(until + dt.timedelta(days=1)))
    return with_preceding_hash(events.select_related("actor").order_by("-id"))


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def audit_actions() -> list[str]:
    """The actions recorded so far (read from the action's index)."""
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


def audit_people() -> list[tuple[str, str]]:
    """(username, "Full name (username)") of everyone who has an account, by username."""
    rows = get_user_model().objects.order_by("username").values_list("username", "first_name", "last_name")
    return [(name, f"{first} {last} ({name})".strip() if first or last else name) for name, first, last in rows]


def audit_object_links(user, events) -> dict[int, str]:
    """{event id: the page of the model or version it is about} for the models and versions `user` may see: at most
    one query for each kind, whatever the number of events."""
    ids = {kind: {e.object_id for e in events if e.object_type == kind} for kind in (_MODEL, _VERSION)}
    pages = {}
    if ids[_MODEL]:
        found = access.restrict(Model.objects.filter(pk__in=_numbers(ids[_MODEL])), user).values_list("pk", "key")
        pages[_MODEL] = {str(pk): reverse("models_registry:model-detail", args=[key]) for pk, key in found}
    if ids[_VERSION]:
        versions = access.restrict(ModelVersion.objects.filter(pk__in=_numbers(ids[_VERSION])), user)
        pages[_VERSION] = {
            str(pk): reverse("models_registry:version-detail", args=[key, label])
            for pk, key, label in versions.values_list("pk", "model__key", "version")
        }
    return {e.id: pages[e.object_type][e.object_id] for e in events if e.object_id in pages.get(e.object_type, {})}


def _numbers(texts) -> list[int]:
    return [int(text) for text in texts if text.isdigit() and len(text) <= 18]
