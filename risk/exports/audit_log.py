"""The audit log as CSV for a period and a scope, streamed to the file (never held in memory), with the hash
chain checked over the whole span exported: every event in the period is read in chain order and its hash
recomputed, the ones in the person's scope and filters are written."""

import csv
import json

from django.db.models import Q

from governance.core.audit import GENESIS_HASH, compute_hash
from governance.core.models import AuditEvent
from governance.core.redaction import redact_events
from governance.core.selectors import audit_event_list

COLUMNS = [
    "id",
    "timestamp",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "reason",
    "request_id",
    "ip_address",
    "prev_hash",
    "hash",
    "hash_verified",
]
BATCH = 5000


def scope_q(params: dict) -> Q:
    q = Q()
    if params.get("model_id"):
        q &= Q(object_type="models_registry.model", object_id=str(params["model_id"])) | Q(
            object_type="models_registry.modelversion", object_id__in=params.get("version_ids", [])
        )
    if params.get("actor"):
        q &= Q(actor_username=params["actor"])
    if params.get("action"):
        q &= Q(action__startswith=params["action"])
    return q


def write(user, params: dict, out, progress) -> dict:
    """Write the CSV to the text stream `out`; returns rows written and the chain check of the span."""
    since, until = params["since"], params["until"]
    span = AuditEvent.objects.filter(timestamp__gte=since, timestamp__lt=until).order_by("id")
    scoped = audit_event_list(user).filter(scope_q(params))
    total = span.count() or 1
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    before = AuditEvent.objects.filter(id__lt=span.values("id")[:1]).order_by("-id").values_list("hash", flat=True)
    expected_prev = (before.first() if span.exists() else None) or GENESIS_HASH
    checked = rows = 0
    first_broken, problem, last_id = None, "", 0
    while True:
        batch = list(span.filter(id__gt=last_id).select_related("actor")[:BATCH])
        if not batch:
            break
        verdicts = {}
        for event in batch:  # the chain first, on the rows as stored (redaction below changes what is shown)
            linked = event.prev_hash == expected_prev
            intact = compute_hash(event) == event.hash
            if first_broken is None and not (linked and intact):
                first_broken = event.id
                problem = "content does not match its stored hash" if not intact else "link to the event before"
            verdicts[event.id] = linked and intact
            expected_prev = event.hash
            checked += 1
        visible = set(scoped.filter(id__in=[e.id for e in batch]).values_list("id", flat=True))
        for e in redact_events(user, [e for e in batch if e.id in visible]):
            writer.writerow(
                [
                    e.id,
                    e.timestamp.isoformat(),
                    e.actor_username,
                    e.action,
                    e.object_type,
                    e.object_id,
                    e.object_repr,
                    json.dumps(e.changes, sort_keys=True, ensure_ascii=False),
                    e.reason,
                    e.request_id,
                    e.ip_address or "",
                    e.prev_hash,
                    e.hash,
                    "yes" if verdicts[e.id] else "NO",
                ]
            )
            rows += 1
        last_id = batch[-1].id
        progress(min(99, int(100 * checked / total)))
    return {
        "rows": rows,
        "chain": {
            "checked": checked,
            "intact": first_broken is None,
            "first_broken_id": first_broken,
            "problem": problem,
            "first_id": None if not checked else span.values_list("id", flat=True).first(),
            "last_id": last_id or None,
        },
    }
