"""Dashboard widgets that apps register (issue 22; NetBox's app-registered dashboard widgets are the pattern).

The core knows no feature: each app registers, in its AppConfig.ready(), the widgets about the data it owns, and the
dashboards app (risk/dashboards) lays them out on pages, serves their CSV, their drill-down lists and the API.

One widget, one set of rows. A counting widget names its records (`records(user, filters)`: a queryset through the
access registry, each record annotated with the dimensions it is counted by) and its rows are those records grouped
by the dimensions with how many fall in each. The chart, the table under it, the CSV, the API's answer and the
drill-down list are all made from those rows, and a row's drill-down is the same records filtered to the row's
values: the sum of the chart, the sum of the table, the CSV and the drill-down count cannot disagree.
"""

import datetime as dt
import math
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connections
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from governance.core import history, labels
from governance.core.models import Desk

OVERVIEW, MONITORING, INCIDENTS, MINE = "overview", "monitoring", "incidents", "mine"

# The model's fields a widget or a filter may read as they stood at a past moment, and how the audit trail's JSON
# values read back. Named, not imported: the core sits below the inventory (models_registry).
MODEL_AUDIT_TYPE = "models_registry.model"
MODEL_FIELDS = {
    "status": "text",
    "risk_tier": "int",
    "computed_tier": "int",
    "model_type": "text",
    "last_validated_at": "date",
    "next_validation_due": "date",
    "desk": "text",  # recorded by the desk's name
}


@dataclass(frozen=True)
class Filters:
    """What a dashboard page is narrowed to; every value is in the page's address, so a view can be bookmarked."""

    as_of: dt.date
    desk: str = ""  # a desk's code
    tier: int | None = None
    model_type: str = ""
    business_unit: str = ""  # a desk's business line
    since: dt.date | None = None  # the time range of trends and of events counted ("opened since")
    until: dt.date | None = None
    desk_name: str = ""  # the desk as people read it, for `described` (never in the address)

    @property
    def moment(self) -> dt.datetime | None:
        """None when the page shows today (the live tables); else the end of its day, when records are read as they
        stood (governance/core/history.py)."""
        return None if self.as_of >= timezone.now().date() else history.end_of(self.as_of)

    def model_value(self, field: str, prefix: str = ""):
        """A model's `field` as it stood at the page's moment, for records reached from a model through `prefix`; a
        desk reads as its name."""
        now = F(f"{prefix}desk__name") if field == "desk" else F(f"{prefix}{field}")
        return history.value_at(MODEL_AUDIT_TYPE, field, self.moment, MODEL_FIELDS[field], now=now, outer=f"{prefix}pk")

    def narrow(self, queryset: QuerySet, prefix: str = "") -> QuerySet:
        """`queryset` narrowed to the models the filters choose (reached through `prefix`), as those models stood at
        the page's moment: a model then in tier 1 on that desk counts there, and one registered later not at all."""
        moment = self.moment
        if moment is None:
            return queryset.filter(self.model_q(prefix))
        queryset = queryset.filter(history.existed_at(moment, f"{prefix}created_at"))
        outer, chosen = f"{prefix}pk", {}
        if self.desk:
            chosen["filter_desk__in"] = (
                "desk",
                list(Desk.objects.filter(code=self.desk).values_list("name", flat=True)),
            )
            queryset = history.may_have_been(
                queryset, MODEL_AUDIT_TYPE, "desk", moment, outer, **{f"{prefix}desk__code": self.desk}
            )
        if self.business_unit:
            unit = list(Desk.objects.filter(business_line=self.business_unit).values_list("name", flat=True))
            chosen["filter_unit__in"] = ("desk", unit)
            queryset = history.may_have_been(
                queryset,
                MODEL_AUDIT_TYPE,
                "desk",
                moment,
                outer,
                **{f"{prefix}desk__business_line": self.business_unit},
            )
        if self.tier is not None:
            chosen["filter_tier"] = ("risk_tier", self.tier)
            queryset = history.may_have_been(
                queryset, MODEL_AUDIT_TYPE, "risk_tier", moment, outer, **{f"{prefix}risk_tier": self.tier}
            )
        if self.model_type:
            chosen["filter_type"] = ("model_type", self.model_type)
            queryset = history.may_have_been(
                queryset, MODEL_AUDIT_TYPE, "model_type", moment, outer, **{f"{prefix}model_type": self.model_type}
            )
        for lookup, (field, value) in chosen.items():
            name = lookup.split("__")[0]
            queryset = queryset.alias(**{name: self.model_value(field, prefix)}).filter(**{lookup: value})
        return queryset

    def model_q(self, prefix: str = "") -> Q:
        """The filters on models as they stand now, for records reached from a model through `prefix` ("model__",
        "version__model__"); `narrow` reads them as they stood at the page's moment."""
        q = Q()
        if self.desk:
            q &= Q(**{f"{prefix}desk__code": self.desk})
        if self.tier is not None:
            q &= Q(**{f"{prefix}risk_tier": self.tier})
        if self.model_type:
            q &= Q(**{f"{prefix}model_type": self.model_type})
        if self.business_unit:
            q &= Q(**{f"{prefix}desk__business_line": self.business_unit})
        return q

    def period_q(self, field_name: str) -> Q:
        """Events whose `field_name` (a date-time) falls in the time range, both ends included as whole UTC days."""
        q = Q()
        if self.since:
            q &= Q(**{f"{field_name}__date__gte": self.since})
        if self.until:
            q &= Q(**{f"{field_name}__date__lte": self.until})
        return q

    def params(self) -> dict[str, str]:
        """The non-default values, as the page's address carries them (the day only when it is not today)."""
        out = {}
        if self.as_of != timezone.now().date():
            out["as_of"] = self.as_of.isoformat()
        for name in ("desk", "model_type", "business_unit"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.tier is not None:
            out["tier"] = str(self.tier)
        for name in ("since", "until"):
            if getattr(self, name):
                out[name] = getattr(self, name).isoformat()
        return out

    def described(self) -> str:
        """The filters in words, for captions, CSV headers and packs."""
        parts = []
        if self.desk:
            parts.append(f"desk {self.desk_name or self.desk}")
        if self.business_unit:
            parts.append(f"business unit {self.business_unit}")
        if self.tier is not None:
            parts.append(f"tier {self.tier}")
        if self.model_type:
            parts.append(f"type {(labels.label('model_type', self.model_type) or self.model_type).lower()}")
        if self.since or self.until:
            parts.append(f"from {self.since or 'the first record'} to {self.until or self.as_of}")
        return "; ".join(parts) or "all models in scope"


# The meanings a status can have on a chart; the drawings (risk/dashboards/charts.py, the board pack's
# risk/exports/board_charts.py) give each a fixed colour and pattern.
TONES = frozenset({"good", "mild", "caution", "bad", "worst", "missing", "stale", "pending"})


@dataclass(frozen=True)
class Dimension:
    """What records are counted by: a field or an annotation of the records' queryset."""

    field: str
    label: str  # the column's header
    display: Callable[[object], str] = str  # the value as people read it (a label, never a code)
    values: tuple = ()  # every value in the order shown; those with no record are shown as 0 (age buckets, tiers)
    short: Callable[[object], str] | None = None  # a status as a heatmap's cell says it, when its label is too wide
    # What each declared value means, in the same order as `values` ("good", "caution", "bad", ... see TONES): a
    # status is drawn in its tone's colour and pattern on every chart, whichever other values the data holds.
    tones: tuple[str, ...] = ()

    def __post_init__(self):
        if self.tones and (len(self.tones) != len(self.values) or not set(self.tones) <= TONES):
            raise ValueError(f"dimension {self.field}: one tone of {sorted(TONES)} for each of its values")

    def tone(self, value) -> str | None:
        """The tone of a declared value; None for a dimension without tones or a value it does not declare."""
        return self.tones[self.values.index(value)] if self.tones and value in self.values else None

    def rank(self, value) -> tuple:
        """A value's place in the declared order (undeclared values after, by their text): for sorting rows and
        series, and a status's severity on a heatmap."""
        if value in self.values:
            return (0, self.values.index(value), "")
        return (1, 0, "" if value is None else str(value))


@dataclass(frozen=True)
class Measure:
    """A figure of each group beyond its count, from one numeric value per record (a duration in days, say):
    "median", "p90" (nearest rank), "mean" or "max" of the group's values, None where no record has a value."""

    key: str  # the row's key for it; also the column's key
    label: str
    field: str  # a field or an annotation of the records' queryset, numeric
    how: str = "median"
    display: Callable[[object], str] = lambda value: "" if value is None else f"{value:,.1f}"
    axis_to: float | None = None  # the chart's axis reaches at least this (100 for a share of a limit, in percent)


def _summarise(values: list, how: str):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    if how == "mean":
        return sum(values) / len(values)
    if how == "max":
        return values[-1]
    if how == "p90":
        return values[max(0, math.ceil(0.9 * len(values)) - 1)]
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _median(low, high, count):
    if low is None:
        return None
    return high if count % 2 else (low + high) / 2


# The measures PostgreSQL summarises exactly as `_summarise` does: (the SQL of what is read of a column, how Python
# makes the measure of it). A median is the two middle values, the lower found in ascending order and the upper in
# descending, and how many values there are (an odd number has one middle); the 90th percentile is the nearest rank
# (percentile_disc). A mean's sum depends on the order of its terms, so it stays in Python.
SQL_SUMMARIES = {
    "median": (
        lambda c: [
            f"PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY {c})",
            f"PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY {c} DESC)",
            f"COUNT({c})",
        ],
        _median,
    ),
    "p90": (lambda c: [f"PERCENTILE_DISC(0.9) WITHIN GROUP (ORDER BY {c})"], lambda value: value),
    "max": (lambda c: [f"MAX({c})"], lambda value: value),
}

# The rows read while `reading_once()` is open: a page's widgets and its key risk indicators read the same rows
# (an indicator sums a widget's rows) once per request, never across requests (today's figures are live).
_memo: ContextVar[dict | None] = ContextVar("widget_rows", default=None)


@contextmanager
def reading_once():
    if _memo.get() is not None:  # inside a page that already reads once: share its memo
        yield
        return
    token = _memo.set({})
    try:
        with history.remembering():  # and the objects changed since a past day, read once
            yield
    finally:
        _memo.reset(token)


@dataclass(frozen=True)
class RecordColumn:
    """A column of a widget's drill-down list."""

    field: str
    label: str
    display: Callable[[object], str] = lambda value: "" if value is None else str(value)


@dataclass(frozen=True)
class Widget:
    key: str  # in addresses: /dashboards/widgets/<key>/
    page: str  # OVERVIEW, MONITORING, INCIDENTS or MINE
    title: str
    order: int  # lower first
    records: Callable[[object, Filters], QuerySet]  # (user, filters) -> the records counted, in the user's scope
    dimensions: tuple[Dimension, ...]  # one (bars) or two (stacked bars, or a heatmap's rows and columns)
    caption: Callable[[list[dict], Filters], str]  # (rows, filters) -> the key fact in one sentence
    record_columns: tuple[RecordColumn, ...]
    record_link: Callable[[dict], str]  # a record's values (its columns and link_fields) -> its own page's address
    visible: Callable[[object], bool]  # user -> may this person see this widget (a rule of the app's access.py)
    chart: str = "bar"  # "bar" (stacked by the second dimension), "hbar", "heatmap"
    noun: str = "records"  # what is counted, for the table's header and the drill-down's title
    description: str = ""  # what is counted and how, under the title
    order_records: tuple[str, ...] = ("pk",)
    link_fields: tuple[str, ...] = ()  # what record_link reads beyond the record columns
    measures: tuple[Measure, ...] = ()  # figures of each group beyond its count (median days in a stage, say)
    chart_value: str = "count"  # what the bars show: "count" or a measure's key

    def rows(self, user, filters: Filters) -> list[dict]:
        """Each group of the records with how many fall in it (and its measures), in the dimensions' order."""
        memo = _memo.get()
        key = (self.records, self.dimensions, self.measures, id(user), filters)
        if memo is not None and key in memo:
            return [dict(row) for row in memo[key]]  # copies: a view adds what it shows to its rows
        fields = [d.field for d in self.dimensions]
        records = self.records(user, filters)
        if self.measures:
            rows = self._measured_rows(user, filters, fields, records)
        else:
            selected = [stood(records, f) for f in fields]
            counted = records.order_by().values(*selected).annotate(count=Count("pk", distinct=True))
            found = {tuple(row[f] for f in selected): row["count"] for row in counted}
            rows = [{**dict(zip(fields, key, strict=True)), "count": found.get(key, 0)} for key in self._keys(found)]
        if memo is not None:
            memo[key] = [dict(row) for row in rows]
        return rows

    def _measured_rows(self, user, filters: Filters, fields: list[str], records: QuerySet) -> list[dict]:
        """Counts and measures from one pass over the records' values (a median is not a portable SQL aggregate),
        or on PostgreSQL summarised in the database (`_rows_summarised_in_sql`)."""
        records = records.order_by()
        if connections[records.db].vendor == "postgresql" and all(m.how in SQL_SUMMARIES for m in self.measures):
            return self._rows_summarised_in_sql(user, filters, fields, records)
        groups: dict[tuple, dict] = {}
        measured = list(dict.fromkeys(m.field for m in self.measures))  # a field two measures read is selected once
        values = records.values_list("pk", *[stood(records, f) for f in (*fields, *measured)])
        for pk, *rest in values:
            groups.setdefault(tuple(rest[: len(fields)]), {})[pk] = dict(
                zip(measured, rest[len(fields) :], strict=True)
            )
        out = []
        for key in self._keys(groups):
            members = groups.get(key, {})
            row = {**dict(zip(fields, key, strict=True)), "count": len(members)}
            for measure in self.measures:
                row[measure.key] = _summarise([values[measure.field] for values in members.values()], measure.how)
            out.append(row)
        return out

    def _rows_summarised_in_sql(self, user, filters: Filters, fields: list[str], records) -> list[dict]:
        """The same rows as the pass in Python, summarised by PostgreSQL: tens of thousands of records (every stay in
        a lifecycle stage) are not sent to Python to be sorted there. Each record is counted once (DISTINCT, as the
        pass keys records by pk); a median is the mean of the two middle values, the lower one found in ascending
        and the upper in descending order, and the 90th percentile is the nearest rank (percentile_disc), exactly as
        `_summarise` computes them. The groups and every record together (GROUPING SETS) come from the same scan: a
        widget that also gives its measures over all its records (its caption's) reads that row from the memo."""
        measured = list(dict.fromkeys(m.field for m in self.measures))
        read = [stood(records, f) for f in (*fields, *measured)]
        inner, params = records.values_list("pk", *read).distinct().query.sql_with_params()
        dims = [f"d{i}" for i in range(len(fields))]
        where = {field: f"m{i}" for i, field in enumerate(measured)}
        columns = ", ".join(["pk", *dims, *where.values()])
        reads = [SQL_SUMMARIES[m.how][0](f"r.{where[m.field]}") for m in self.measures]
        selected = [*(f"r.{d}" for d in dims), "COUNT(*)", *(sql for read in reads for sql in read)]
        grouping = f"GROUPING SETS (({', '.join(f'r.{d}' for d in dims)}), ())" if dims else "()"
        flag = f"GROUPING({', '.join(f'r.{d}' for d in dims)})" if dims else "0"
        sql = f"SELECT {flag}, {', '.join(selected)} FROM ({inner}) AS r ({columns}) GROUP BY {grouping}"
        with connections[records.db].cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        groups, overall = {}, None
        for everything, *rest in found:
            count, summaries = rest[len(fields)], iter(rest[len(fields) + 1 :])
            row = {"count": count}
            for measure, read in zip(self.measures, reads, strict=True):
                row[measure.key] = SQL_SUMMARIES[measure.how][1](*(next(summaries) for _sql in read))
            if dims and everything:
                overall = row
            elif count:  # GROUP BY () answers a row of 0 even for no records: the pass in Python finds no group
                groups[tuple(rest[: len(fields)])] = row
        memo = _memo.get()
        if memo is not None and fields:
            whole = [overall] if overall and overall["count"] else []
            memo[(self.records, (), self.measures, id(user), filters)] = whole
        return [
            {
                **dict(zip(fields, key, strict=True)),
                **groups.get(key, {"count": 0, **{m.key: None for m in self.measures}}),
            }
            for key in self._keys(groups)
        ]

    def _keys(self, found) -> list[tuple]:
        """The groups found, and every declared value of a single dimension, in the dimensions' order."""
        if len(self.dimensions) == 1 and self.dimensions[0].values:
            keys = [(value,) for value in self.dimensions[0].values]
            return keys + sorted(k for k in found if k not in set(keys))
        return sorted(found, key=lambda k: tuple(d.rank(v) for d, v in zip(self.dimensions, k, strict=True)))

    def drill(self, user, filters: Filters, cell: dict) -> QuerySet:
        """The records counted in one row (`cell`: a value for each dimension), or all of them (`cell` empty). A
        dimension given a tuple of values takes any of them (the rows a key risk indicator sums)."""
        records = self.records(user, filters)
        lookup = {}
        for d in self.dimensions:
            if d.field in cell:
                name, value = stood(records, d.field), cell[d.field]
                lookup[f"{name}__in" if isinstance(value, tuple) else name] = value
        order = [("-" if n.startswith("-") else "") + stood(records, n.lstrip("-")) for n in self.order_records]
        return records.filter(**lookup).order_by(*order)

    def record_values(self, records: QuerySet) -> "RecordValues":
        """The drill-down's records as dicts of the record columns and link fields, each read as it stood."""
        return RecordValues(records, [*dict.fromkeys([*(c.field for c in self.record_columns), *self.link_fields])])

    def columns(self) -> list[tuple[str, str]]:
        """(key, header) of the table, the CSV and the API's rows: the dimensions, the count, the measures."""
        return (
            [(d.field, d.label) for d in self.dimensions]
            + [("count", self.noun.capitalize())]
            + [(m.key, m.label) for m in self.measures]
        )

    def shown(self, row: dict) -> list[str]:
        """A row's dimension values as people read them."""
        return [self.row_label(row), *(d.display(row[d.field]) for d in self.dimensions[1:])]

    def row_label(self, row: dict) -> str:
        """A row's first dimension as people read it (a widget whose rows carry a name may say it instead)."""
        first = self.dimensions[0]
        return first.display(row[first.field])

    def for_filters(self, user, filters: Filters) -> "Widget":
        """The widget as drawn for this person and these filters: itself, or a variant of it (a heatmap of too many
        models to read shows desks). Every view of a widget's rows asks this first, so they all agree."""
        return self

    def chart_measure(self) -> "Measure | None":
        """The measure the bars show, None when they show counts."""
        return next((m for m in self.measures if m.key == self.chart_value), None)

    def grid(self, rows: list[dict]) -> "Grid":
        """A heatmap's cells from the rows: by the first dimension (rows) and the second (columns). With a third
        dimension (a status in order of severity) a cell is the worst status among its rows; without, their count.
        Every drawing of a heatmap (the page's, the board pack's) reads this one grid."""
        first, second = self.dimensions[0], self.dimensions[1]
        status = self.dimensions[2] if len(self.dimensions) > 2 else None
        ys = list(dict.fromkeys(row[first.field] for row in rows))
        labels = {}
        for row in rows:
            labels.setdefault(row[first.field], self.row_label(row))
        xs = sorted(dict.fromkeys(row[second.field] for row in rows), key=second.rank)
        cells: dict[tuple, Cell] = {}
        for index, row in enumerate(rows):
            if not row["count"]:
                continue
            key, held = (row[first.field], row[second.field]), cells.get((row[first.field], row[second.field]))
            if status:
                level = status.rank(row[status.field])[1] if row[status.field] in status.values else 0
                if held is None or level > held.level:
                    cells[key] = Cell(level, row["count"], status.display(row[status.field]), index)
            else:
                count = row["count"] + (held.count if held else 0)
                cells[key] = Cell(count, count, f"{count:,}", index)
        return Grid(ys, xs, cells, status, labels)

    def shown_measures(self, row: dict) -> list[str]:
        return [m.display(row[m.key]) for m in self.measures]


def stood(records: QuerySet, field: str) -> str:
    """The name under which `records` carry `field` as it stood at the page's moment: `then_<field>` ("__" as "_")
    when the widget's records function annotated one (a page of a past day, governance/core/history.py), else the
    field itself. Rows, drill-downs and record lists read through it and still key their values by `field`."""
    name = "then_" + field.replace("__", "_")
    return name if name in records.query.annotations else field


class RecordValues:
    """A drill-down's records as dicts keyed by the widget's field names, whatever names the queryset read them
    under; sliceable and countable, so Django's Paginator pages it."""

    def __init__(self, records: QuerySet, fields: list[str]):
        self.fields = fields
        self.names = [stood(records, f) for f in fields]
        self.values = records.values(*dict.fromkeys(self.names))

    def count(self) -> int:
        return self.values.count()

    def __len__(self) -> int:
        return self.count()

    def _named(self, row: dict) -> dict:
        return {field: row[name] for field, name in zip(self.fields, self.names, strict=True)}

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._named(row) for row in self.values[index]]
        return self._named(self.values[index])

    def __iter__(self):
        return (self._named(row) for row in self.values)


@dataclass(frozen=True)
class Cell:
    level: int  # the worst status's place in its order, or the count
    count: int
    text: str  # what the cell says
    index: int  # the row (of the widget's rows) it shows: its drill-down


@dataclass(frozen=True)
class Grid:
    row_values: list
    column_values: list
    cells: dict  # (row value, column value) -> Cell
    status: Dimension | None  # the dimension whose worst value a cell shows, None for counts
    row_labels: dict = None  # row value -> its label (Widget.row_label)


_registry: dict[str, Widget] = {}


# Names a page's address uses for its filters: a dimension of the same name would be read as a filter.
RESERVED = frozenset({"as_of", "desk", "business_unit", "tier", "model_type", "since", "until", "page", "format"})


def register(widget: Widget) -> None:
    """Add a widget; registering the same key again replaces it (apps' ready() may run twice)."""
    clashing = RESERVED.intersection(d.field for d in widget.dimensions)
    if clashing:
        raise ValueError(f"widget {widget.key}: dimension {sorted(clashing)} is a filter's name")
    _registry[widget.key] = widget


def all_widgets() -> list[Widget]:
    return sorted(_registry.values(), key=lambda w: (w.page, w.order, w.key))


def get(key: str) -> Widget | None:
    return _registry.get(key)


def visible_widgets(user, page: str | None = None) -> list[Widget]:
    """The widgets `user` may see, on one page or on all, in page order."""
    return [w for w in all_widgets() if (page is None or w.page == page) and w.visible(user)]


def total(rows: Iterable[dict]) -> int:
    return sum(row["count"] for row in rows)


def count_where(rows: Iterable[dict], **values) -> int:
    """How many records the rows count where each named dimension has the given value."""
    return sum(row["count"] for row in rows if all(row.get(k) == v for k, v in values.items()))


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"
