"""Reads of core records (the audit trail), restricted to what the user may see."""

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, QuerySet, Subquery

from governance.core import access
from governance.core.audit import audit_type
from governance.core.models import AuditEvent
from governance.core.redaction import redact_events


def audit_event_list(user) -> QuerySet:
    """Compliance, auditors and administrators read the whole trail; others the events of what they can see
    (each app registered which of its object types count), and their own."""
    if access.sees_everything(user):
        return AuditEvent.objects.all()
    if access.reads_only_own_audit_events(user):
        return AuditEvent.objects.filter(actor=user)  # their own logins and actions only
    return AuditEvent.objects.filter(access.audit_scope_q(user))


def with_preceding_hash(events: QuerySet) -> QuerySet:
    """Each event with the hash of the event before it in the chain (`preceding_hash`), in the same query (one probe
    of the primary key's index per row), so that the rows a page or a file shows are checked with audit.holds() at
    no extra query, however many they are."""
    before = AuditEvent.objects.filter(id__lt=OuterRef("id")).order_by("-id").values("hash")[:1]
    return events.annotate(preceding_hash=Subquery(before))


def object_timeline(user, obj, limit: int = 50) -> list[AuditEvent]:
    """The newest audit events about one object that `user` may read: the same scope as the audit API, so a
    page never shows what /api/v1/audit-events/ would withhold (a trader reads only their own actions), with
    the names of objects outside the user's scope redacted."""
    events = audit_event_list(user).filter(object_type=audit_type(obj), object_id=str(obj.pk))
    return with_full_names(redact_events(user, events.select_related("actor").order_by("-id")[:limit]))


# Audit changes name people by username (stable for auditors); pages show them by full name.
PEOPLE_FIELDS = {
    "owner",
    "validator",
    "developers",
    "user",
    "raised_by",
    "closed_by",
    "granted_by",
    "revoked_by",
    "created_by",
    "uploaded_by",
    "requested_by",
    "published_by",
}


def _usernames(value, field):
    """Usernames recorded under a people field, at any depth (a risk's snapshot holds its owner)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _usernames(item, key)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _usernames(item, field)
    elif isinstance(value, str) and field in PEOPLE_FIELDS:
        yield value


def _renamed(value, field, names):
    if isinstance(value, dict):
        return {key: _renamed(item, key, names) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_renamed(item, field, names) for item in value]
    if isinstance(value, str) and field in PEOPLE_FIELDS:
        return names.get(value, value)
    return value


def with_full_names(events: list) -> list:
    """The events with the people in their changes named by full name (one query; rows are never edited)."""
    found = {name for event in events for name in _usernames(event.changes or {}, None)}
    if not found:
        return events
    names = {
        u.username: u.get_full_name() or u.username
        for u in get_user_model().objects.filter(username__in=[n for n in found if len(n) <= 150])
    }
    for event in events:
        event.changes = _renamed(event.changes or {}, None, names)
    return events


def can_verify_chain(user) -> bool:
    return access.can_read_audit_trail(user)
