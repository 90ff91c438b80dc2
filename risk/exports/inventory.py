"""The inventory as it stands, or as it stood at a past moment, reconstructed from the audit trail.

Every change to a model or a version is audited with its old and new values (the product's invariant), so the
state at a moment is today's state with every later change undone, newest first: one pass over the events after
that moment, whatever the size of the inventory. A model registered after it is left out; a version's status at
that moment gives the versions then in production.
"""

import csv

from governance.core import access, labels
from governance.core.audit import jsonable, snapshot
from governance.core.models import AuditEvent
from models_registry.models import Model, ModelVersion

FIELDS = [
    "key",
    "name",
    "desk",
    "purpose",
    "model_type",
    "risk_tier",
    "status",
    "owner",
    "validator",
    "last_validated_at",
    "next_validation_due",
]
HEADERS = [
    "Model key",
    "Name",
    "Desk",
    "Purpose",
    "Type",
    "Tier",
    "Status",
    "Owner",
    "Validator",
    "Last validated",
    "Next validation due",
    "Versions in production",
]
MODEL_TYPE, VERSION_TYPE = "models_registry.model", "models_registry.modelversion"
CHUNK = 2000


def _undo(states: dict[str, dict], object_type: str, as_of, progress=None) -> set[str]:
    """Undo, on `states` (object id -> fields), every change recorded after `as_of`; returns the ids created
    after it (they did not exist then)."""
    born_later = set()
    events = (
        AuditEvent.objects.filter(object_type=object_type, timestamp__gt=as_of)
        .order_by("-id")
        .values_list("object_id", "action", "changes")
    )
    for object_id, action, changes in events.iterator(chunk_size=CHUNK):
        if action.endswith(".create"):
            born_later.add(object_id)
        state = states.get(object_id)
        if state is None:
            continue
        for field, change in (changes or {}).items():
            if field in state and isinstance(change, list) and len(change) == 2:
                state[field] = change[0]
    return born_later


def rows(user, as_of=None, progress=lambda p: None):
    """The rows (lists, HEADERS order) of the models `user` may see, today or as of `as_of`."""
    models = access.restrict(Model.objects.all(), user).select_related("desk", "owner", "validator").order_by("key")
    states = {str(m.pk): jsonable(snapshot(m, FIELDS)) for m in models.iterator(chunk_size=CHUNK)}
    progress(30)
    versions = ModelVersion.objects.filter(model_id__in=[int(pk) for pk in states] or [0])
    version_states = {
        str(pk): {"status": status, "model": str(model_id), "version": label}
        for pk, status, model_id, label in versions.values_list("pk", "status", "model_id", "version").iterator(
            chunk_size=CHUNK
        )
    }
    if as_of is not None:
        for pk in _undo(states, MODEL_TYPE, as_of):
            states.pop(pk, None)
        progress(60)
        for pk in _undo(version_states, VERSION_TYPE, as_of):
            version_states.pop(pk, None)
    progress(80)
    in_production: dict[str, list[str]] = {}
    for version in version_states.values():
        if version["status"] == "production":
            in_production.setdefault(version["model"], []).append(version["version"])
    for pk, state in sorted(states.items(), key=lambda item: item[1]["key"]):
        yield [_shown(field, state[field]) for field in FIELDS] + [", ".join(sorted(in_production.get(pk, [])))]


def _shown(field: str, value) -> str:
    if value is None:
        return ""
    shown = labels.label(field, value)
    return shown if shown is not None else str(value)


def write_csv(rows, stream) -> int:
    writer = csv.writer(stream)
    writer.writerow(HEADERS)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


class _BinaryTo:
    """openpyxl saves to a binary file; this hands its bytes to the hashing text stream's file and digest."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, data: bytes) -> int:
        self.stream.raw.write(data)
        self.stream.digest.update(data)
        self.stream.size += len(data)
        return len(data)

    def flush(self):
        pass


def write_xlsx(rows, stream) -> int:
    """A workbook written row by row (openpyxl's write-only mode keeps memory flat)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Inventory")
    sheet.append(HEADERS)
    count = 0
    for row in rows:
        sheet.append(row)
        count += 1
    book.save(_BinaryTo(stream))
    return count
