"""Writing many rows of one model at once: by COPY on PostgreSQL, by bulk_create elsewhere.

`insert_rows(Model, fields, rows)` writes tuples of values in the order of `fields`, inside the caller's
transaction (a batch refused later in that transaction leaves nothing). On PostgreSQL it is one
`COPY table (columns) FROM STDIN` through psycopg 3 on Django's own connection, in the binary format when
every column has a plain type (numbers, text, booleans, times, JSON), the text format otherwise; on other
databases it falls back to `bulk_create` in chunks. Either way:

- a foreign key is given by its field's name (a model instance or its primary key) or by its column
  (`version_id`: the key itself, passed through unchanged);
- datetimes must be aware; they are stored as the same moment in UTC (a naive one raises ValueError);
- a JSON field's value is encoded with the field's encoder, as Django would, and written as JSON text;
  None is SQL NULL;
- fields left out must be nullable without a default (or have a database default, or be the automatic
  primary key): COPY applies no Python default, so leaving out a field that has one raises ValueError,
  on every database alike.

`update_rows(Model, fields, rows)` sets fields on rows given by primary key: one `UPDATE ... FROM unnest(...)` on
PostgreSQL (10,000 outcomes in well under a second, where bulk_update's CASE per row took some 20 s), bulk_update
elsewhere.

No model signals are sent and no `save()` runs, as with bulk_create and bulk_update.
"""

import datetime as dt
import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial

from django.db import connections, models, router, transaction

CHUNK = 5000

# Django's internal field types whose values psycopg writes in COPY's binary format as they come, with the
# PostgreSQL type the column has. A column of any other type switches the whole COPY to the text format.
BINARY_TYPES = {
    "AutoField": "int4",
    "BigAutoField": "int8",
    "SmallAutoField": "int2",
    "IntegerField": "int4",
    "BigIntegerField": "int8",
    "SmallIntegerField": "int2",
    "PositiveIntegerField": "int4",
    "PositiveBigIntegerField": "int8",
    "PositiveSmallIntegerField": "int2",
    "FloatField": "float8",
    "CharField": "varchar",
    "TextField": "text",
    "BooleanField": "bool",
    "DateTimeField": "timestamptz",
    "JSONField": "jsonb",
}


def insert_rows(model_class, fields: Sequence[str], rows: Iterable[Sequence], *, using: str | None = None) -> int:
    """Insert `rows` (each a tuple of values in the order of `fields`); return how many were written."""
    db = using or router.db_for_write(model_class)
    connection = connections[db]
    columns = [_Column(model_class._meta.get_field(name), name) for name in fields]
    _refuse_missing_defaults(model_class, columns)
    with transaction.atomic(using=db, savepoint=False):
        if connection.vendor == "postgresql":
            return _copy(connection, model_class, columns, rows)
        return _bulk_create(model_class, db, columns, rows)


class _Column:
    def __init__(self, field, name: str):
        if not field.concrete or field.many_to_many or field.one_to_many:
            raise ValueError(f"{name} is not a column of {field.model.__name__}.")
        self.field, self.name, self.attname, self.column = field, name, field.attname, field.column
        self.foreign_key = field.is_relation
        self.by_instance = self.foreign_key and name != field.attname  # "version" rather than "version_id"
        self.internal_type = (field.target_field if self.foreign_key else field).get_internal_type()

    def prepare(self, text: bool, connection) -> Callable | None:
        """What turns a given value into the one COPY (or bulk_create) writes; None when it is written as is."""
        if self.by_instance:
            return _pk
        if self.internal_type == "DateTimeField" and (text or connection is None):
            return _aware_utc  # COPY's binary format converts aware times to UTC itself, and refuses naive ones
        if self.internal_type == "JSONField" and connection is not None:
            return partial(_json_text, encoder=self.field.encoder)
        if text and connection is not None and self.internal_type not in BINARY_TYPES:
            return partial(self.field.get_db_prep_save, connection=connection)
        return None


def _pk(value):
    return value.pk if isinstance(value, models.Model) else value


def _aware_utc(value):
    if value is None or value.tzinfo is dt.UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"A naive datetime ({value.isoformat()}) cannot be stored: give its time zone.")
    return value.astimezone(dt.UTC)


def _json_text(value, encoder=None):
    return None if value is None else json.dumps(value, cls=encoder)


def _refuse_missing_defaults(model_class, columns) -> None:
    given = {c.attname for c in columns}
    for field in model_class._meta.concrete_fields:
        if field.attname in given or (field.primary_key and field.get_internal_type().endswith("AutoField")):
            continue
        if field.db_default is not models.NOT_PROVIDED:
            continue
        if not field.null or field.has_default():
            raise ValueError(
                f"{model_class.__name__}.{field.name} is not given and would not get its default: name it in fields."
            )


def _converted(rows, converters):
    """The rows with each converter applied to its column; the rows themselves when there is nothing to convert."""
    if not converters:
        return rows
    return (_convert(row, converters) for row in rows)


def _convert(row, converters) -> list:
    row = list(row)
    for i, convert in converters:
        row[i] = convert(row[i])
    return row


def _copy(connection, model_class, columns, rows) -> int:
    from psycopg import sql

    text = any(c.internal_type not in BINARY_TYPES for c in columns)
    converters = [(i, f) for i, c in enumerate(columns) if (f := c.prepare(text, connection)) is not None]
    statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
        sql.Identifier(model_class._meta.db_table),
        sql.SQL(", ").join(sql.Identifier(c.column) for c in columns),
        sql.SQL("" if text else " (FORMAT BINARY)"),
    )
    written, started = 0, time.monotonic()
    with connection.cursor() as wrapper, connection.wrap_database_errors:
        cursor = wrapper.cursor  # psycopg's own cursor, on the connection (and in the transaction) Django holds
        logged = statement.as_string(cursor) if connection.queries_logged else ""
        if not text:
            cursor.adapters.register_dumper(None, _jsonb_text_dumper())  # JSON arrives as text; this cursor only
        with cursor.copy(statement) as copy:
            if not text:
                copy.set_types([BINARY_TYPES[c.internal_type] for c in columns])
            write = copy.write_row
            for row in _converted(rows, converters):
                try:
                    write(row)
                except TypeError as error:  # psycopg's binary dumpers refuse a value of the wrong kind, or a naive time
                    raise ValueError(f"Row {written} of {model_class.__name__} cannot be written: {error}.") from error
                written += 1
    if logged:  # as Django logs its own queries (DEBUG, assertNumQueries)
        elapsed = time.monotonic() - started
        connection.queries_log.append({"sql": f"{logged} -- {written} rows", "time": f"{elapsed:.3f}"})
    return written


_JSONB_DUMPER = None


def _jsonb_text_dumper():
    """A binary jsonb dumper that takes JSON already encoded as text (psycopg's own would encode it again)."""
    global _JSONB_DUMPER
    if _JSONB_DUMPER is None:
        from psycopg.adapt import Dumper
        from psycopg.postgres import types
        from psycopg.pq import Format

        class JsonbTextBinaryDumper(Dumper):
            format = Format.BINARY
            oid = types["jsonb"].oid

            def dump(self, obj):
                return b"\x01" + obj.encode()  # jsonb's binary format: a version byte, then the text

        _JSONB_DUMPER = JsonbTextBinaryDumper
    return _JSONB_DUMPER


def update_rows(model_class, fields: Sequence[str], rows: Iterable[Sequence], *, using: str | None = None) -> int:
    """Set `fields` on the rows whose primary keys are given: each row is (pk, *values in the order of fields).
    On PostgreSQL one `UPDATE ... FROM unnest(arrays)`, a join on the primary key; on SQLite (3.33 and later) an
    `UPDATE ... FROM` a VALUES list the same way, in chunks; elsewhere bulk_update in chunks (whose CASE per field
    grows with the chunk). Values are converted as insert_rows converts them."""
    db = using or router.db_for_write(model_class)
    connection = connections[db]
    pk = model_class._meta.pk
    columns = [_Column(pk, pk.attname)] + [_Column(model_class._meta.get_field(name), name) for name in fields]
    if any(c.field.primary_key for c in columns[1:]):
        raise ValueError("The primary key says which rows change; it cannot be changed itself.")
    postgres = connection.vendor == "postgresql"
    converters = [
        (i, f) for i, c in enumerate(columns) if (f := c.prepare(True, connection if postgres else None)) is not None
    ]
    rows = list(_converted(rows, converters))
    if not rows:
        return 0
    with transaction.atomic(using=db, savepoint=False):
        if connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 33):
            return _sqlite_update(connection, model_class, [c.field for c in columns], rows)
        if not postgres:
            attnames = [c.attname for c in columns]
            objects = [model_class(**dict(zip(attnames, row, strict=True))) for row in rows]
            model_class.objects.using(db).bulk_update(objects, [c.attname for c in columns[1:]], batch_size=CHUNK)
            return len(rows)
        from psycopg import sql

        table, names = sql.Identifier(model_class._meta.db_table), [sql.Identifier(c.column) for c in columns]
        arrays = sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(_array_type(c, connection))) for c in columns)
        statement = sql.SQL("UPDATE {table} AS t SET {sets} FROM unnest({arrays}) AS v ({names}) WHERE t.{pk} = v.{pk}")
        statement = statement.format(
            table=table,
            sets=sql.SQL(", ").join(sql.SQL("{} = v.{}").format(n, n) for n in names[1:]),
            arrays=arrays,
            names=sql.SQL(", ").join(names),
            pk=names[0],
        )
        with connection.cursor() as cursor:
            cursor.execute(statement.as_string(cursor.cursor), [list(values) for values in zip(*rows, strict=True)])
            return cursor.rowcount


SQLITE_VARIABLES = 32_000  # bound values a statement may hold (32,766 since SQLite 3.32)


def _sqlite_update(connection, model_class, fields, rows) -> int:
    """update_rows on SQLite: bulk_update's CASE per field grows with its chunk, so a day of a model's outcomes
    (thousands of rows) cost seconds (make run's demo seeds weeks of them); a VALUES list joined on the key costs
    what an insert does."""
    quote = connection.ops.quote_name
    table, names = quote(model_class._meta.db_table), [quote(f.column) for f in fields]
    # A VALUES list's columns are column1, column2...; the statement starts with UPDATE (not WITH), or Python's
    # sqlite3 would not count the rows it changed.
    sets = ", ".join(f"{name} = v.column{i}" for i, name in enumerate(names[1:], start=2))
    per = max(1, SQLITE_VARIABLES // len(fields))
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            params = [f.get_db_prep_save(v, connection) for row in chunk for f, v in zip(fields, row, strict=True)]
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([row_sql] * len(chunk))}) AS v "
                f"WHERE {table}.{names[0]} = v.column1",
                params,
            )
            updated += cursor.rowcount
    return updated


def _array_type(column, connection) -> str:
    """The column's PostgreSQL type (the key's where it refers), for the array cast."""
    if column.foreign_key:
        return column.field.target_field.rel_db_type(connection)
    return column.field.db_type(connection)


def _bulk_create(model_class, db, columns, rows) -> int:
    converters = [(i, f) for i, c in enumerate(columns) if (f := c.prepare(False, None)) is not None]
    attnames = [c.attname for c in columns]
    written, chunk = 0, []
    for row in _converted(rows, converters):
        chunk.append(model_class(**dict(zip(attnames, row, strict=True))))
        if len(chunk) == CHUNK:
            model_class.objects.using(db).bulk_create(chunk)
            written, chunk = written + len(chunk), []
    if chunk:
        model_class.objects.using(db).bulk_create(chunk)
        written += len(chunk)
    return written
