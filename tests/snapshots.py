"""Expensive fixtures built once per test session, then loaded into each test's transaction.

`world` walks two versions through the whole signed lifecycle (hundreds of queries, half a second). Building it
for every test was most of the suite's time. Instead, the first test that asks for a snapshot builds it the
normal way, inside its own transaction, and the rows the builder added, changed or deleted are read back from
the database. Every later test gets the same rows written by one INSERT per table (a few milliseconds), inside
its own transaction, so they are rolled back with it like anything else the test wrote; and a deep copy of the
Python objects the builder answered, as they were when it returned.

What this relies on, and why it holds:
- Tests that use `db` (not `transactional_db`) all start from the same migrated database: pytest-django rolls
  each one back and runs them before any transactional test, which may flush the database.
- The rows are restored as stored (raw inserts, or COPY on PostgreSQL: no `auto_now`, no signals), so hash
  chains, signatures and database counters read exactly as the builder left them.
- Foreign keys are deferred to commit on PostgreSQL and SQLite alike, so tables load in any order.
- PostgreSQL sequences are not rolled back, so new rows in a later test never take a snapshot row's id; SQLite
  moves its sequence past explicit ids by itself.
- Files the builder stored (evidence) stay in the test media folder, where the restored rows point; their
  bytes are kept too and written back before a test that finds them changed or gone (some tests alter one
  to prove a pack notices).

Transactional tests (real workers, live servers) get no snapshot: their builder runs as it always did, because
what they test (commits, on_commit hooks) is exactly what a restored snapshot skips.

Written here rather than taken from a library: fixture libraries (factory-boy, model_bakery) make rows, they do
not replay a transaction's effects into another transaction, and Django's serialized rollback reloads the whole
database for every test, which is slower than building the world.
"""

import copy
from dataclasses import dataclass, field

from django.apps import apps
from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import FileField

Rows = dict  # {pk: tuple of column values}


def _tables():
    """Every concrete table Django manages, once per model (proxies and unmanaged models share or lack one)."""
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        yield model


def _columns(model):
    return [f for f in model._meta.local_concrete_fields]


def _read(model, using) -> Rows:
    columns = [f.attname for f in _columns(model)]
    pk = model._meta.pk.attname
    index = columns.index(pk)
    return {row[index]: row for row in model._base_manager.using(using).values_list(*columns)}


def _read_all(using) -> dict:
    return {model: _read(model, using) for model in _tables()}


@dataclass
class _Change:
    """What a builder did to one table."""

    model: type
    inserted: list = field(default_factory=list)  # whole rows
    updated: list = field(default_factory=list)  # (pk, {attname: value})
    deleted: list = field(default_factory=list)  # pks
    copied: bytes | None = None  # on PostgreSQL: the inserted rows as COPY's text format, loaded back by COPY


def _diff(before: dict, after: dict) -> list[_Change]:
    changes = []
    for model, rows in after.items():
        old = before.get(model, {})
        change = _Change(model)
        attnames = [f.attname for f in _columns(model)]
        for pk, row in rows.items():
            if pk not in old:
                change.inserted.append(row)
            elif old[pk] != row:
                changed = {a: v for a, v, w in zip(attnames, row, old[pk], strict=True) if v != w}
                change.updated.append((pk, changed))
        change.deleted = [pk for pk in old if pk not in rows]
        if change.inserted or change.updated or change.deleted:
            changes.append(change)
    return changes


def _copy_statement(model, connection, direction: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in _columns(model))
    table = quote(model._meta.db_table)
    if direction == "out":
        return f"COPY (SELECT {columns} FROM {table} WHERE {quote(model._meta.pk.column)} = ANY(%s)) TO STDOUT"
    return f"COPY {table} ({columns}) FROM STDIN"


def _copy_out(changes: list[_Change], using) -> None:
    """On PostgreSQL, keep each table's new rows as COPY writes them: loading the demo firm's 73,000 rows back by
    COPY takes well under a second, where INSERTs built by the ORM took 12 s for every test that used it. Text
    format round-trips every column type exactly (JSON, arrays, timestamps, decimals)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    for change in changes:
        if not change.inserted:
            continue
        index = [f.attname for f in _columns(change.model)].index(change.model._meta.pk.attname)
        pks = [row[index] for row in change.inserted]
        with connection.cursor() as cursor:
            with cursor.cursor.copy(_copy_statement(change.model, connection, "out"), (pks,)) as copy:
                change.copied = b"".join(bytes(chunk) for chunk in copy)


def _apply(changes: list[_Change], using):
    connection = connections[using]
    for change in changes:
        model, manager = change.model, change.model._base_manager.using(using)
        if change.deleted:
            manager.filter(pk__in=change.deleted)._raw_delete(using)
        for pk, values in change.updated:
            manager.filter(pk=pk).update(**values)
        if change.copied is not None:
            with connection.cursor() as cursor:
                with cursor.cursor.copy(_copy_statement(model, connection, "in")) as copy:
                    copy.write(change.copied)
        elif change.inserted:
            fields = _columns(model)
            attnames = [f.attname for f in fields]
            objs = [model.from_db(using, attnames, row) for row in change.inserted]
            size = connection.ops.bulk_batch_size(fields, objs) or len(objs)
            for start in range(0, len(objs), size):
                manager._insert(objs[start : start + size], fields=fields, raw=True, using=using)


def _files(changes: list[_Change]) -> list[tuple]:
    """(storage, name, bytes) of every file a new row points to."""
    found = []
    for change in changes:
        fields = _columns(change.model)
        for i, f in enumerate(fields):
            if not isinstance(f, FileField):
                continue
            for row in change.inserted:
                if row[i]:
                    with f.storage.open(row[i], "rb") as handle:
                        found.append((f.storage, row[i], handle.read()))
    return found


def _put_back(files: list[tuple]):
    for storage, name, content in files:
        if storage.exists(name):
            with storage.open(name, "rb") as handle:
                if handle.read() == content:
                    continue
            storage.delete(name)
        saved = storage.save(name, ContentFile(content))
        assert saved == name, f"{name} came back as {saved}"  # a restored row must find its file


class Snapshot:
    """One builder's rows, files and answer, captured by the first test that needs them."""

    def __init__(self, name: str):
        self.name = name
        self.changes: list[_Change] | None = None
        self.files: list[tuple] = []
        self.answer = None

    def get(self, build, using=DEFAULT_DB_ALIAS):
        """The builder's answer, its rows in the database; built the first time, restored after."""
        if self.changes is None:
            before = _read_all(using)
            answer = build()
            self.changes = _diff(before, _read_all(using))
            _copy_out(self.changes, using)
            self.files = _files(self.changes)
            self.answer = copy.deepcopy(answer)
            return answer
        _apply(self.changes, using)
        _put_back(self.files)
        return copy.deepcopy(self.answer)


_snapshots: dict[str, Snapshot] = {}


def snapshot(name: str, build, request):
    """`build()`'s answer with its rows in this test's database: built once per session (per name), restored
    for every later test. A transactional test always builds (see the module's docstring)."""
    if is_transactional(request):
        return build()
    shot = _snapshots.setdefault(name, Snapshot(name))
    if shot.changes is None:
        request.node.built_snapshot = True  # excused by the slow-test guard (tests/conftest.py)
    return shot.get(build)


def is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool({"transactional_db", "live_server", "django_db_reset_sequences"} & set(request.fixturenames))
