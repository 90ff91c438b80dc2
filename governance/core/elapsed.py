"""The time between two moments as a number, computed in the database, the same figure on PostgreSQL and SQLite:
the dashboards' durations (days in a lifecycle stage, hours to close an incident) are medians of it."""

from django.db.models import FloatField, Func

SECOND, HOUR, DAY = 1.0, 3600.0, 86400.0


class Elapsed(Func):
    """From `start` to `end` (date-times; None when either is None) in units of `unit` seconds, rounded to `places`
    decimals. Hand-written: Django's subtraction of two date-times gives an interval on PostgreSQL and nothing usable
    on SQLite, and medians need a plain number."""

    arity = 2
    output_field = FloatField()

    def __init__(self, start, end, *, unit: float, places: int = 3):
        super().__init__(start, end, output_field=FloatField())
        self.unit, self.places = float(unit), int(places)

    def as_sql(self, compiler, connection, **extra):  # PostgreSQL
        (start, start_params), (end, end_params) = (compiler.compile(e) for e in self.get_source_expressions())
        seconds = f"EXTRACT(EPOCH FROM ({end} - {start}))"
        sql = f"CAST(ROUND(CAST({seconds} / {self.unit!r} AS numeric), {self.places}) AS double precision)"
        return sql, (*end_params, *start_params)

    def as_sqlite(self, compiler, connection, **extra):
        (start, start_params), (end, end_params) = (compiler.compile(e) for e in self.get_source_expressions())
        return f"ROUND((julianday({end}) - julianday({start})) * 86400.0 / {self.unit!r}, {self.places})", (
            *end_params,
            *start_params,
        )
