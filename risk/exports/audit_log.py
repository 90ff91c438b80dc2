"""The audit log as CSV for a period and a scope, streamed to the file (never held in memory), with the hash
chain checked over the whole span exported: every event in the period is read in chain order and its hash
recomputed, the ones in the person's scope and filters are written."""

import csv
import hashlib
import itertools
import json
from types import SimpleNamespace

from django.db.models import Q

from governance.core import access
from governance.core.api.serializers import AuditEventSerializer
from governance.core.audit import GENESIS_HASH, HASHED_FIELDS, canonical_bytes
from governance.core.models import AuditEvent
from governance.core.redaction import redact_events
from governance.core.selectors import audit_event_list

# The columns of the audit API (one vocabulary for auditors), then the verdict on each row.
COLUMNS = [*AuditEventSerializer.Meta.fields, "hash_verified"]
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
    """Write the CSV to the text stream `out`; returns rows written and the chain check of the span.

    Rows are read as tuples, not model instances (an export of a million events spends its time here)."""
    since, until = params["since"], params["until"]
    span = AuditEvent.objects.filter(timestamp__gte=since, timestamp__lt=until).order_by("id")
    scope = scope_q(params)
    everything = access.sees_everything(user) and not scope  # no per-batch scope query needed
    scoped = audit_event_list(user).filter(scope)
    total = span.count() or 1
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    first_id = span.values_list("id", flat=True).first()
    before = AuditEvent.objects.filter(id__lt=first_id or 0).order_by("-id").values_list("hash", flat=True).first()
    expected_prev = before or GENESIS_HASH
    checked = rows = 0
    first_broken, problem, last_id = None, "", 0
    # One query read through a server-side cursor, BATCH rows at a time (a query per batch made PostgreSQL range-scan
    # the period and sort it again for each one).
    cursor = span.values_list("id", *HASHED_FIELDS, "hash").iterator(chunk_size=BATCH)
    while True:
        batch = list(itertools.islice(cursor, BATCH))
        if not batch:
            break
        verdicts = {}
        for row in batch:  # the chain first, on the rows as stored (redaction below changes what is shown)
            event_id, facts, stored = row[0], row[1:-1], row[-1]
            linked = facts[-1] == expected_prev
            intact = hashlib.sha256(canonical_bytes(*facts)).hexdigest() == stored
            if first_broken is None and not (linked and intact):
                first_broken = event_id
                problem = "content does not match its stored hash" if not intact else "link to the event before"
            verdicts[event_id] = linked and intact
            expected_prev = stored
            checked += 1
        if everything:
            shown = [_event(row) for row in batch]
        else:
            visible = set(scoped.filter(id__in=[row[0] for row in batch]).values_list("id", flat=True))
            shown = redact_events(user, [_event(row) for row in batch if row[0] in visible])
        for e in shown:
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
        rows += len(shown)
        last_id = batch[-1][0]
        progress(min(99, int(100 * checked / total)))
    return {
        "rows": rows,
        "chain": {
            "checked": checked,
            "intact": first_broken is None,
            "first_broken_id": first_broken,
            "problem": problem,
            "first_id": first_id,
            "last_id": last_id or None,
        },
    }


def _event(row) -> SimpleNamespace:
    return SimpleNamespace(id=row[0], **dict(zip(HASHED_FIELDS, row[1:-1], strict=True)), hash=row[-1])
