"""The tamper-evident audit trail: audit_record() appends, verify_chain() proves.

Hand-written on purpose: the hash chain is evidence Vigil gives to supervisors, so its canonical form
must be stable and documented (docs/architecture.md), not an implementation detail of a library.
Services call audit_record() explicitly inside their transaction; nothing is captured by signals,
because bulk updates bypass signals and an auditor must be able to rely on completeness. Two interfaces have
no service of their own: Django's admin, audited by its ModelAdmins (governance/core/admin_site.py), and role
and permission memberships, audited by m2m_changed whatever changes them (governance/core/signals.py).
"""

import contextvars
import datetime as dt
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from governance.core import request_context, work
from governance.core.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def jsonable(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def audit_type(obj) -> str:
    """The name under which the audit trail and signatures record an object: "app_label.model", unless the
    model keeps the name it was first recorded under (AUDIT_TYPE) after moving between apps."""
    return getattr(type(obj), "AUDIT_TYPE", None) or obj._meta.label_lower


def canonical_content(event: AuditEvent) -> bytes:
    """The bytes that an event's hash covers: every recorded fact, in a fixed key order."""
    return canonical_bytes(*(getattr(event, name) for name in HASHED_FIELDS))


# The facts an event's hash covers, in the order canonical_bytes takes them (exports read rows as tuples).
HASHED_FIELDS = (
    "timestamp",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "reason",
    "request_id",
    "ip_address",
    "prev_hash",
)


def canonical_bytes(
    timestamp,
    actor_id,
    actor_username,
    action,
    object_type,
    object_id,
    object_repr,
    changes,
    reason,
    request_id,
    ip_address,
    prev_hash,
) -> bytes:
    content = {
        "timestamp": timestamp.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_username": actor_username,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "changes": changes,
        "reason": reason,
        "request_id": request_id,
        "ip_address": ip_address,
        "prev_hash": prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_content(event)).hexdigest()


def diff(before: dict, after: dict) -> dict:
    """Changed fields as {field: [old, new]}, both made JSON-safe. Blank-to-blank is no change."""
    out = {}
    for key in sorted(set(before) | set(after)):
        old, new = jsonable(before.get(key)), jsonable(after.get(key))
        if old != new and not (old in (None, "", [], {}) and new in (None, "", [], {})):
            out[key] = [old, new]
    return out


# Apps above the core that must react to a governed change in the same transaction (the model gate counts
# the changes to each model's decision inputs, so a decision cached before the change is never served after
# it) register here. A listener runs inside the caller's transaction: it must be quick, and if it raises,
# the change is refused with it.
_listeners: list = []


def listen(listener) -> None:
    """`listener(event)` for every audit event, in the transaction that records it."""
    if listener not in _listeners:
        _listeners.append(listener)


def audit_record(
    actor,
    action: str,
    obj=None,
    *,
    changes: dict | None = None,
    reason: str = "",
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
) -> AuditEvent:
    """Append one event to the chain. Must run inside the caller's transaction (atomic is nested here)."""
    ctx = request_context.current()
    # No savepoint: inside a service's transaction the event stands or falls with the change it records.
    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            singleton=1, defaults={"last_hash": GENESIS_HASH, "length": 0}
        )
        authenticated = actor is not None and getattr(actor, "is_authenticated", False)
        event = AuditEvent(
            timestamp=timezone.now(),
            actor=actor if authenticated else None,
            actor_username=actor.get_username() if authenticated else (str(actor) if actor else "system"),
            action=action,
            object_type=object_type or (audit_type(obj) if obj is not None else ""),
            object_id=object_id if object_id is not None else (str(obj.pk) if obj is not None else ""),
            object_repr=(object_repr if object_repr is not None else (str(obj) if obj is not None else ""))[:300],
            changes=jsonable(changes or {}),
            reason=reason,
            request_id=ctx.request_id,
            ip_address=ctx.ip_address,
            prev_hash=head.last_hash,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        head.last_hash = event.hash
        head.length += 1
        head.save(update_fields=["last_hash", "length"])
    for listener in _listeners:
        listener(event)
    work.changed()  # every governed change is audited: whatever it moved, the queue badges recount
    return event


# Who is acting, for the records no caller hands an actor to: the signals that audit role and permission
# membership (governance/core/signals.py), which any interface can change. The admin site sets it for each of
# its requests (governance/core/admin_site.py); elsewhere it is unset and such a change is the system's.
_acting = contextvars.ContextVar("vigil_audit_acting", default=None)


@contextmanager
def acting(actor):
    """Attribute the changes recorded by signals inside this block to `actor`."""
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


def acting_actor():
    return _acting.get()


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    checked: int
    first_broken_id: int | None = None
    problem: str = ""


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the chain in id order, recomputing every hash; report the first event that does not match."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.prev_hash != expected_prev:
                return ChainReport(False, checked, event.id, "previous-hash link does not match the event before it")
            if compute_hash(event) != event.hash:
                return ChainReport(False, checked, event.id, "content does not match its stored hash")
            expected_prev = event.hash
            checked += 1
            last_id = event.id
    head = AuditChainHead.objects.filter(singleton=1).first()
    if head is not None and (head.last_hash != expected_prev or head.length != checked):
        return ChainReport(False, checked, None, "events are missing from the end of the chain")
    return ChainReport(True, checked)


def holds(event: AuditEvent, preceding_hash: str | None) -> bool:
    """verify_chain()'s check of one event: its content matches its hash and it links to the event before it in the
    chain (`preceding_hash`, None for the first event), as recorded, before any redaction is applied for a reader."""
    return event.prev_hash == (preceding_hash or GENESIS_HASH) and compute_hash(event) == event.hash


def snapshot(obj, fields) -> dict:
    """Field values of obj for diff(); many-to-many fields as sorted lists of primary keys."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            out[name] = sorted(str(related) for related in getattr(obj, name).all()) if obj.pk else []
        elif field.is_relation:
            # The related object's name, not its id: auditors read this years later.
            related = getattr(obj, name)
            out[name] = str(related) if related is not None else None
        else:
            out[name] = getattr(obj, name)
    return out
