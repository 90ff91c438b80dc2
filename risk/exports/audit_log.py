"""The audit log as CSV for a period and a scope, streamed to the file (never held in memory), with the hash
chain checked over the whole span exported: every event in the period is read in chain order and its hash
recomputed, the ones in the person's scope and filters are written.

A million events are exported in seconds, byte for byte as the plain algorithm (model instances, canonical_bytes(),
csv.writer) writes them; the tests hold every row to it:
- the period is read in slices of BATCH ids, one query each (progress is recorded between them, on the same
  connection); on PostgreSQL a thread fetches the next slice while this one is checked, and the server formats the
  timestamps, hands `changes` over as its JSON text and says which rows hold no character that json escapes or csv
  quotes (most rows);
- `changes` is decoded once and encoded once, with a separator that occurs nowhere else in the encoding (json
  escapes control characters inside strings): removing it gives the compact form the hash covers, turning it into
  a space the form the CSV shows;
- for a row with nothing to escape or quote, f-strings lay out the canonical content and the CSV line; the others
  are escaped by json and written by csv.writer. An event passes the fast way only if its hash matches; otherwise
  it is checked again the exact way;
- a slice is written to the file in one write (the file hashes what it is given, call by call);
- the garbage collector is paused: an export makes no reference cycles, and each collection would walk every
  object of the process to free none.
"""

import contextlib
import datetime as dt
import gc
import hashlib
import io
import json
from concurrent.futures import ThreadPoolExecutor
from json.encoder import c_make_encoder, encode_basestring
from types import SimpleNamespace

from django.conf import settings
from django.db import connections
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Func,
    Max,
    Min,
    Q,
    TextField,
    Value,
)
from django.db.models.functions import Cast

from governance.core import access, cells
from governance.core.api.serializers import AuditEventSerializer
from governance.core.audit import GENESIS_HASH
from governance.core.models import AuditEvent
from governance.core.redaction import redact_events
from governance.core.selectors import audit_event_list

# The columns of the audit API (one vocabulary for auditors), then the verdict on each row.
COLUMNS = [*AuditEventSerializer.Meta.fields, "hash_verified"]
BATCH = 5000  # ids per slice

# What canonical_bytes() returns, decoded: json.dumps(facts, sort_keys=True, separators=(",", ":"),
# ensure_ascii=False), written out. Filled with action, actor_id, actor_username, changes, ip_address, object_id,
# object_repr, object_type, prev_hash, reason, request_id, timestamp: strings as json encodes them, actor_id and
# ip_address "null" when missing, changes already encoded, the timestamp in UTC with microseconds.
CANONICAL = (
    '{"action":%s,"actor_id":%s,"actor_username":%s,"changes":%s,"ip_address":%s,"object_id":%s,'
    '"object_repr":%s,"object_type":%s,"prev_hash":%s,"reason":%s,"request_id":%s,"timestamp":"%s"}'
)
# Maps to NUL each byte that json escapes (control characters, quote, backslash) or csv quotes (delimiter, quote,
# line breaks) in a string's UTF-8 (whose other characters are bytes above 0x7f).
_PLAIN = bytes(0 if byte < 0x20 or byte in b'",\\' else 1 for byte in range(256))

# NUL never appears in json's output but as this separator (inside strings it is escaped as \u0000).
_SEP = "\0"
_encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",\0", ":\0")).encode
_decode = json.JSONDecoder().raw_decode


def _built_once(encode):
    """`encode`, with json's C encoder built once rather than on each call (twice as fast), if this Python has it."""
    try:
        iterencode = c_make_encoder(
            None, json.JSONEncoder().default, encode_basestring, None, ":\0", ",\0", True, False, True
        )
    except TypeError:  # no C encoder (None), or another signature
        return encode

    def encode_once(value, _join="".join) -> str:
        return _join(iterencode(value, 0))

    sample = {"b": [1, 2.5, None, True, False, 'é\0"\n\\'], "a": {"z": {}, "y": []}, "c": -1e-07, "d": 10**20}
    return encode_once if encode_once(sample) == encode(sample) else encode


_encode = _built_once(_encode)

# Rows as _checked() reads them: the id, the timestamp as the hash covers it (UTC, with microseconds) and as the CSV
# shows it (datetime.isoformat(), or None when it is the former in UTC), whether the strings hold nothing to escape
# or quote, the other hashed facts with `changes` as JSON text, the stored hash.
_FACTS = ("actor_id", "actor_username", "action", "object_type", "object_id", "object_repr")
_FACTS_AFTER = ("reason", "request_id", "ip_address", "prev_hash", "hash")
# The strings the fast way writes as they are (ip_address too), and whether they hold a character that json escapes
# or csv quotes, as _PLAIN tells (PostgreSQL's text holds no NUL).
_STRINGS = ("actor_username", "action", "object_type", "object_id", "object_repr", "reason", "request_id")
# ... and none of them starts with a character a spreadsheet could read as a formula (cells.LEADING: those rows are
# written by cells.writer, which neutralises them): each string follows a \x01, which plain strings never hold.
_PLAIN_SQL = (
    "concat(%(expressions)s) !~ '["
    + "".join(f"\\x{byte:02x}" for byte in range(1, 0x20))
    + "\",\\\\]' AND concat(chr(1), concat_ws(chr(1), %(expressions)s)) !~ '\\x01[\\x09\\x0d''+=@-]'"
)  # the second class is cells.LEADING (tab, carriage return, apostrophe, + = @ and -, last: not a range)
_HASHED = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""


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
    scope = scope_q(params)
    everything = access.sees_everything(user) and not scope  # no per-batch scope query needed
    scoped = audit_event_list(user).filter(scope)
    bounds = span.aggregate(total=Count("id"), first=Min("id"), last=Max("id"))
    total, first_id = bounds["total"] or 1, bounds["first"]
    line = _Line()
    out.write(line(COLUMNS))
    before = AuditEvent.objects.filter(id__lt=first_id or 0).order_by("-id").values_list("hash", flat=True).first()
    expected_prev = before or GENESIS_HASH
    checked = rows = 0
    first_broken, problem, last_id = None, "", 0
    slices = _slices(since, until, first_id or 0, bounds["last"] or -1)
    with _collector_paused(), contextlib.closing(slices):  # closed at once on an error: its thread ends
        for batch in slices:
            if not batch:
                continue
            # The chain first, on the rows as stored (redaction below changes what is shown).
            visible = (
                None
                if everything
                else set(scoped.filter(id__in=[row[0] for row in batch]).values_list("id", flat=True))
            )
            shown, expected_prev, broken = _checked(batch, expected_prev, line, visible)
            if broken and first_broken is None:
                first_broken, problem = broken
            if visible is not None:
                shown = [line(row) for row in _redacted(user, shown)]
            out.write("".join(shown))
            checked += len(batch)
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


@contextlib.contextmanager
def _collector_paused():
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _checked(batch, expected_prev, line, visible):
    """Check a batch of rows (as _slices() reads them) against the chain: returns what to show of it, the hash the
    next event must link to, and the first event that fails (its id and why) or None. What is shown: with `visible`
    None, every row as a CSV line (`line` writes those the f-strings cannot); else the rows whose id is in `visible`,
    as tuples of the CSV's fields with `changes` decoded (to be redacted). One loop, with no call per row that can be
    spared: it runs a million times."""
    out = []
    append = out.append
    sha256, encode, decode, text = hashlib.sha256, _encode, _decode, encode_basestring
    broken = None
    linkable = _plain(expected_prev)
    for (
        event_id,
        timestamp,
        shown_as,
        plain,
        actor_id,
        actor,
        action,
        object_type,
        object_id,
        object_repr,
        changes,
        reason,
        request_id,
        ip_address,
        prev_hash,
        stored,
    ) in batch:
        value = decode(changes)[0]
        encoded = encode(value)
        ip = ip_address or ""
        timestamp_shown = shown_as or timestamp.replace(".000000+", "+")  # isoformat() shows no zero microseconds
        # The fast way, when no string holds a character json escapes or csv quotes (`plain`) and the event links to
        # a hash that holds none either (an intact event's hash is hexadecimal): the f-strings are then exactly what
        # canonical_bytes() and csv.writer make. An event whose hash does not match is checked again the exact way.
        if plain and linkable and prev_hash == expected_prev:
            actor_json = "null" if actor_id is None else actor_id
            ip_json = "null" if ip_address is None else f'"{ip}"'
            compact = encoded.replace(_SEP, "")
            canonical = (
                f'{{"action":"{action}","actor_id":{actor_json},"actor_username":"{actor}","changes":{compact},'
                f'"ip_address":{ip_json},"object_id":"{object_id}","object_repr":"{object_repr}",'
                f'"object_type":"{object_type}","prev_hash":"{prev_hash}","reason":"{reason}",'
                f'"request_id":"{request_id}","timestamp":"{timestamp}"}}'
            )
            if sha256(canonical.encode()).hexdigest() == stored:
                expected_prev = stored
                if visible is None:
                    cell = encoded.replace(_SEP, " ")
                    if '"' in cell or "," in cell:
                        cell = cell.replace('"', '""')
                        append(
                            f"{event_id},{timestamp_shown},{actor},{action},{object_type},{object_id},{object_repr},"
                            f'"{cell}",{reason},{request_id},{ip},{prev_hash},{stored},yes\r\n'
                        )
                    else:
                        append(
                            f"{event_id},{timestamp_shown},{actor},{action},{object_type},{object_id},{object_repr},"
                            f"{cell},{reason},{request_id},{ip},{prev_hash},{stored},yes\r\n"
                        )
                elif event_id in visible:
                    row = (event_id, timestamp_shown, actor, action, object_type, object_id, object_repr, value)
                    append((*row, reason, request_id, ip, prev_hash, stored, "yes"))
                continue
        # The exact way: every string escaped as json escapes it, the row written by csv.writer.
        canonical = CANONICAL % (
            text(action),
            "null" if actor_id is None else actor_id,
            text(actor),
            encoded.replace(_SEP, ""),
            "null" if ip_address is None else text(ip_address),
            text(object_id),
            text(object_repr),
            text(object_type),
            text(prev_hash),
            text(reason),
            text(request_id),
            timestamp,
        )
        intact = sha256(canonical.encode()).hexdigest() == stored
        linked = prev_hash == expected_prev
        if not (intact and linked) and broken is None:
            broken = (event_id, "content does not match its stored hash" if not intact else "link to the event before")
        expected_prev, linkable = stored, intact
        verdict = "yes" if intact and linked else "NO"
        if visible is None:
            cell = encoded.replace(_SEP, " ")
            row = (event_id, timestamp_shown, actor, action, object_type, object_id, object_repr, cell)
            append(line((*row, reason, request_id, ip, prev_hash, stored, verdict)))
        elif event_id in visible:
            row = (event_id, timestamp_shown, actor, action, object_type, object_id, object_repr, value)
            append((*row, reason, request_id, ip, prev_hash, stored, verdict))
    return out, expected_prev, broken


def _plain(value: str) -> bool:
    """Whether json and csv write `value` as it is (between quotes for json)."""
    return b"\0" not in value.encode().translate(_PLAIN)


def _plain_strings(strings) -> bool:
    """Whether the fast way may write these strings as they are: json and csv write them unchanged and none starts
    with a character a spreadsheet could read as a formula (cells.writer neutralises those)."""
    return _plain("".join(strings)) and not any(value[:1] in cells.LEADING for value in strings)


def row_of(event, verified: bool) -> tuple:
    """One event as a row of COLUMNS, as the export writes it (the timestamp in UTC, `changes` as sorted JSON, the
    verdict "yes" or "NO"): the audit trail page's download is made of these."""
    changes = json.dumps(event.changes, sort_keys=True, ensure_ascii=False)
    head = (event.id, event.timestamp.astimezone(dt.UTC).isoformat(), event.actor_username, event.action)
    facts = (event.object_type, event.object_id, event.object_repr, changes, event.reason, event.request_id)
    return (*head, *facts, event.ip_address or "", event.prev_hash, event.hash, "yes" if verified else "NO")


def csv_lines(rows):
    """The header, then each row of COLUMNS as a CSV line through the neutralising writer (cells.writer)."""
    line = _Line()
    yield line(COLUMNS)
    for row in rows:
        yield line(row)


class _Line:
    """One CSV line from csv.writer, text that could be read as a formula neutralised (cells.writer)."""

    def __init__(self):
        self.buffer = io.StringIO()
        self.writer = cells.writer(self.buffer)

    def __call__(self, row) -> str:
        self.writer.writerow(row)
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def _redacted(user, rows) -> list:
    """Rows (tuples of the CSV's fields, `changes` decoded) redacted as the audit API redacts them for `user`."""
    events = [SimpleNamespace(id=row[0], object_repr=row[6], changes=row[7], row=row) for row in rows]
    return [
        (*e.row[:6], e.object_repr, json.dumps(e.changes, sort_keys=True, ensure_ascii=False), *e.row[8:])
        for e in redact_events(user, events)
    ]


def _server_formats(connection) -> bool:
    """Whether the server can format the timestamps as this connection reads them (PostgreSQL, in UTC)."""
    return connection.vendor == "postgresql" and settings.USE_TZ and connection.timezone_name == "UTC"


def _slices(since, until, first: int, last: int):
    """The rows of the events from `since` to `until` with ids first..last, in order, as lists of at most BATCH rows
    (some may be empty). On PostgreSQL a thread fetches each slice while the caller works on the one before, through
    the same connection (its queries wait for each other), so that they see the same transaction."""
    connection = connections[AuditEvent.objects.db]
    starts = range(first, last + 1, BATCH)
    span = AuditEvent.objects.filter(timestamp__gte=since, timestamp__lt=until).order_by("id")
    if connection.vendor == "postgresql":
        # Each slice is read through the primary key's index alone: with statistics not yet updated (after a bulk
        # load) PostgreSQL would also read the timestamp index over the whole period for each slice, so the period is
        # compared on an expression no index covers. (SQLite reads the range of ids as it is.)
        at = ExpressionWrapper(F("timestamp") + Value(dt.timedelta(0)), output_field=DateTimeField())
        span = AuditEvent.objects.alias(_at=at).filter(_at__gte=since, _at__lt=until).order_by("id")
    if not _server_formats(connection):
        rows = span.annotate(_changes=Cast("changes", TextField())).values_list(
            "id", "timestamp", *_FACTS, "_changes", *_FACTS_AFTER
        )
        for start in starts:
            yield [
                (
                    row[0],
                    row[1].astimezone(dt.UTC).isoformat(timespec="microseconds"),
                    row[1].isoformat(),
                    _plain_strings((*row[3:8], *row[9:11], row[11] or "")),
                    *row[2:],
                )
                for row in rows.filter(id__gte=start, id__lt=start + BATCH)
            ]
        return
    # The server writes the timestamps as the hash covers them (in UTC, as this connection reads them: _checked()
    # shows them without zero microseconds, as datetime.isoformat() does) and hands `changes` over as its JSON text.
    rows = span.annotate(
        _hashed=Func(F("timestamp"), template=_HASHED, output_field=CharField()),
        _shown=Value(None, output_field=CharField()),
        _plain=Func(*_STRINGS, "ip_address", template=_PLAIN_SQL, output_field=BooleanField()),
        _changes=Cast("changes", TextField()),
    ).values_list("id", "_hashed", "_shown", "_plain", *_FACTS, "_changes", *_FACTS_AFTER)
    queries = (rows.filter(id__gte=start, id__lt=start + BATCH).query.sql_with_params() for start in starts)
    connection.ensure_connection()
    driver = connection.connection  # psycopg's connection, which serialises the queries of several threads

    def fetch(query):
        with driver.cursor() as cursor:
            return cursor.execute(*query).fetchall()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-export") as pool:
        fetched = None
        for query in queries:
            following = pool.submit(fetch, query)  # fetched while the caller works on the one before
            if fetched is not None:
                yield fetched.result()
            fetched = following
        if fetched is not None:
            yield fetched.result()
