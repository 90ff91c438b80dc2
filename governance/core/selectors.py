"""Reads of core records (the audit trail), restricted to what the user may see."""

from django.db.models import QuerySet

from governance.core import access
from governance.core.audit import audit_type
from governance.core.models import AuditEvent
from governance.core.redaction import redact_events
from governance.core.roles import Role, user_roles


def audit_event_list(user) -> QuerySet:
    """Compliance, auditors and administrators read the whole trail; others the events of what they can see
    (each app registered which of its object types count), and their own."""
    roles = user_roles(user)
    if access.sees_everything(user):
        return AuditEvent.objects.all()
    if not roles or roles == {Role.TRADER}:
        return AuditEvent.objects.filter(actor=user)  # their own logins and actions only
    return AuditEvent.objects.filter(access.audit_scope_q(user))


def object_timeline(user, obj, limit: int = 50) -> list[AuditEvent]:
    """The newest audit events about one object that `user` may read: the same scope as the audit API, so a
    page never shows what /api/v1/audit-events/ would withhold (a trader reads only their own actions), with
    the names of objects outside the user's scope redacted."""
    events = audit_event_list(user).filter(object_type=audit_type(obj), object_id=str(obj.pk))
    return redact_events(user, events.select_related("actor").order_by("-id")[:limit])


def can_verify_chain(user) -> bool:
    return access.sees_everything(user)
