"""The inventory as it stands, or as it stood at a past moment, reconstructed from the audit trail.

Every change to a model or a version is audited with its old and new values (the product's invariant), so the
state at a moment is today's state with every later change undone, newest first: one pass over the events after
that moment, whatever the size of the inventory. A model registered after it is left out; a version's status at
that moment gives the versions then in production.
"""

import datetime as dt

from django.contrib.auth import get_user_model

from governance.core import access, cells, labels
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
COLUMN_FIELDS = [*FIELDS, "in_production"]
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
    """The rows (lists, HEADERS order) of the models `user` may see, today or as of `as_of`, with typed values:
    the tier a number, the validation dates dates, people by their full names (their username when they have
    none), coded values by their labels."""
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
    names = _full_names({state[field] for state in states.values() for field in PEOPLE} - {None})
    for pk, state in sorted(states.items(), key=lambda item: item[1]["key"]):
        row = [_typed(field, state[field], names) for field in FIELDS]
        yield row + [", ".join(sorted(in_production.get(pk, [])))]


PEOPLE = ("owner", "validator")
DATES = ("last_validated_at", "next_validation_due")
NUMBERS = ("risk_tier",)


def _full_names(usernames: set[str]) -> dict[str, str]:
    """Full names by username (audit records name people by username: they outlive renames)."""
    found = get_user_model().objects.filter(username__in=[name for name in usernames if len(name) <= 150])
    return {
        user.username: user.get_full_name() or user.username
        for user in found.only("username", "first_name", "last_name")
    }


def _typed(field: str, value, names: dict[str, str]):
    if value is None or value == "":
        return None
    if field in PEOPLE:
        return names.get(value, value)
    if field in DATES:
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
    if field in NUMBERS:
        return int(value)
    shown = labels.label(field, value)
    return shown if shown is not None else str(value)


def _text(field: str, value) -> str:
    """A typed value as the CSV shows it: the tier by its label, dates in ISO 8601."""
    if value is None:
        return ""
    if field in NUMBERS:
        shown = labels.label(field, value)
        return shown if shown is not None else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(rows, stream, meta: dict | None = None) -> int:
    writer = cells.writer(stream)
    writer.writerow(HEADERS)
    count = 0
    for row in rows:
        writer.writerow([_text(field, value) for field, value in zip(COLUMN_FIELDS, row, strict=True)])
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


# Column widths in characters (the sheet is written row by row, so they are set before any row), and how
# numbers and dates read.
WIDTHS = [26, 36, 22, 22, 22, 9, 26, 24, 24, 14, 18, 22]
TIER_FORMAT = '"Tier "0'
DATE_FORMAT = "yyyy-mm-dd"


def sheet_title(meta: dict) -> str:
    as_of = meta.get("as_of")
    return f"Inventory as of {as_of:%Y-%m-%d}" if as_of else "Inventory"


def about_rows(meta: dict) -> list[tuple[str, str]]:
    """What the extract is: the moment it shows, when and where it was made, for whom."""
    as_of = meta.get("as_of")
    return [
        ("Model inventory", ""),
        ("As of (UTC)", f"{as_of:%Y-%m-%d %H:%M:%S}, rebuilt from the audit trail" if as_of else "when it was made"),
        ("Made (UTC)", meta.get("generated_at", "")),
        ("Made by Vigil instance", meta.get("instance", "")),
        ("Export", meta.get("reference", "")),
        ("Asked for by", meta.get("requested_by", "")),
        ("Scope", "the models the person who asked for it may see"),
    ]


def write_xlsx(rows, stream, meta: dict | None = None) -> int:
    """A workbook written row by row (openpyxl's write-only mode keeps memory flat): the inventory (header frozen,
    tier and dates typed, with their formats) and a sheet saying what it is (as of, made when, where, for whom)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, NamedStyle
    from openpyxl.utils import get_column_letter

    meta = meta or {}
    book = Workbook(write_only=True)
    header, tier, day = NamedStyle("vigil header"), NamedStyle("vigil tier"), NamedStyle("vigil date")
    header.font = Font(bold=True)
    tier.number_format, day.number_format = TIER_FORMAT, DATE_FORMAT
    for style in (header, tier, day):
        book.add_named_style(style)
    styles = ["vigil tier" if f in NUMBERS else "vigil date" if f in DATES else None for f in COLUMN_FIELDS]
    sheet = book.create_sheet(sheet_title(meta))
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.oddHeader.center.text = f"{sheet_title(meta)} · {meta.get('instance', '')}"
    sheet.append([cells.xlsx_cell(sheet, name, "vigil header") for name in HEADERS])
    count = 0
    for row in rows:
        sheet.append([cells.xlsx_cell(sheet, value, style) for value, style in zip(row, styles, strict=True)])
        count += 1
    about = book.create_sheet("About this extract")
    about.column_dimensions["A"].width, about.column_dimensions["B"].width = 26, 60
    for name, value in [*about_rows(meta), ("Models", count)]:
        about.append([cells.xlsx_cell(about, name, "vigil header"), cells.xlsx_cell(about, value)])
    book.save(_BinaryTo(stream))
    return count
