"""Monitoring's dashboard widgets (issue 22, the monitoring health page): which models' monitors are in what state,
how many breaches each week brought, and which models are in breach now.

The state of a monitor is read as the monitoring overview reads it (selectors.py): its newest result, on the active
monitors of versions in pilot, production or suspended (`live_monitors`). Every count goes through the access
registry and the page's model filters, and is grouped by annotations computed in the database, so a drill-down is
the same query filtered to a cell.
"""

import datetime as dt
from dataclasses import dataclass, replace

from django.db.models import CharField, Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Substr, TruncWeek
from django.urls import reverse

from governance.core import access, indicators, widgets
from governance.core.models import Desk
from governance.core.widgets import Dimension, RecordColumn, Widget, stood
from models_registry import access as inventory_access
from models_registry.widgets import MODEL_COLUMNS, TIER, models_in_scope, tier_label
from risk.monitoring import selectors
from risk.monitoring.measures import MEASURES
from risk.monitoring.models import Monitor, MonitorResult

# A monitor's state on the heatmap, mildest first: a cell shows the worst state among its monitors. "No result" (a
# monitor never evaluated, or not in the chosen days) ranks above OK: nobody knows that it is fine. "Insufficient data"
# (evaluated, but the model reported too little to judge) ranks above it: the model is live and not reporting. The
# four outcomes keep the monitoring overview's order (selectors.SEVERITY).
NO_RESULT = "none"
STATES = ("ok", NO_RESULT, "insufficient", "warn", "breach")
STATE_LABELS = {
    "ok": "OK",
    NO_RESULT: "No result",
    "insufficient": "Insufficient data",
    "warn": "Warning",
    "breach": "Breach",
}
# What a phone's heatmap cell says (about 40 pixels wide: a word a line, risk/dashboards/charts.py); a desktop's
# cells, the hover text and the table say the whole label. Never "None": it read as a Python None.
STATE_SHORT = {"ok": "OK", NO_RESULT: "No result", "insufficient": "Insuf. data", "warn": "Warn", "breach": "Breach"}
# Each state's colour and pattern on every chart (risk/dashboards/charts.py TONE_STYLES): "insufficient data" is a
# live model that stopped reporting enough, a stale reading.
STATE_TONES = ("good", "missing", "stale", "caution", "bad")
KIND_LABELS = dict(Monitor.Kind.choices)


def _monitor_link(record: dict) -> str:
    return reverse("monitoring:monitor-detail", args=[record["pk"]])


def _model_monitoring_link(record: dict) -> str:
    return reverse("models_registry:model-detail", args=[record["key"]]) + "?section=monitoring"


MONITOR_COLUMNS = (
    RecordColumn("model_key", "Model"),
    RecordColumn("version__version", "Version"),
    RecordColumn("kind", "Kind", lambda code: KIND_LABELS.get(code, code)),
    RecordColumn("measure", "Measure", lambda code: MEASURES[code].label if code in MEASURES else code),
    RecordColumn("stream", "Reads"),
    RecordColumn("version__model__risk_tier", "Tier", tier_label),
)


# --- Monitor health by model and kind --------------------------------------------------------------------------

# More monitored models than this in scope with no desk chosen: the heatmap shows a row per desk (a row per model
# would be thousands of rows nobody reads, and thousands of cells to send); a desk chosen shows its models.
MAX_MODEL_ROWS = 40


def monitors_by_state(user, filters):
    """The live monitors in scope, each with its model's key and its state as of the end of the page's day: its
    newest result's outcome, or, when the page gives days (since, until), the worst outcome among its results in
    them; "none" when it has no such result."""
    if filters.since or filters.until:
        outcome = selectors.worst_outcome(filters.since, filters.until, filters.as_of)
    else:
        outcome = selectors.latest_outcome(filters.as_of)
    monitors = live_monitors(user, filters).annotate(
        model_key=F("version__model__key"), status=Coalesce(outcome, Value(NO_RESULT))
    )
    if filters.moment is None:
        return monitors
    # A past day: the model's tier and desk as they stood (read by the rows, the record columns and the ordering).
    return monitors.annotate(
        then_version_model_risk_tier=filters.model_value("risk_tier", "version__model__"),
        then_version_model_desk_name=filters.model_value("desk", "version__model__"),
    )


def live_monitors(user, filters):
    """The live monitors in scope that the page's model filters choose: today, as they stand (the denormalised
    columns, fast at 5,000 models); on a past day, as they stood at its end (selectors.live_monitors)."""
    return filters.narrow(selectors.live_monitors(user, filters.moment), "version__model__")


def live_models(user, filters):
    """The models in scope (as they stood, models_in_scope) with a version live at the page's moment."""
    models = models_in_scope(user, filters)
    if filters.moment is None:
        return models.filter(versions__status__in=selectors.MONITORED).distinct()
    return models.filter(pk__in=selectors.versions_live_at(filters.moment).values("model_id"))


def monitors_by_desk(user, filters):
    """The same monitors, each with its model's desk (its code: a drill-down narrows the page to it); on a past day
    the desk it was on then (the trail names it)."""
    monitors = monitors_by_state(user, filters)
    if filters.moment is None:
        return monitors.annotate(desk=F("version__model__desk__code"))
    code = Desk.objects.filter(name=OuterRef("then_version_model_desk_name")).values("code")[:1]
    return monitors.annotate(desk=Subquery(code))


def _when(filters) -> str:
    if filters.since or filters.until:
        return "in the days chosen"
    return "now" if selectors.is_current(filters.as_of) else f"at the end of {filters.as_of.isoformat()}"


def _worst_by(rows, field: str) -> tuple[set, set, set]:
    """(every value of `field` counted, those with a monitor in breach, those with one in warning but none in
    breach)."""
    counted = {row[field] for row in rows if row["count"]}
    breach = {row[field] for row in rows if row["count"] and row["status"] == "breach"}
    warn = {row[field] for row in rows if row["count"] and row["status"] == "warn"} - breach
    return counted, breach, warn


def _heatmap_caption(rows, filters) -> str:
    models, breach, warn = _worst_by(rows, "model_key")
    if not models:
        return "No monitored model in scope."
    text = (
        f"{len(breach):,} of {widgets.plural(len(models), 'model')} {'has' if len(breach) == 1 else 'have'} "
        f"a monitor in breach {_when(filters)}; {len(warn):,} more in warning."
    )
    return text + (f" A row for each model of desk {filters.desk_name or filters.desk}." if filters.desk else "")


def _desk_caption(models: int):
    def caption(rows, filters) -> str:
        desks, breach, warn = _worst_by(rows, "desk")
        return (
            f"{models:,} live models in scope: a row for each desk, its worst state of each kind; choose a desk "
            f"(or open a cell) to see its models. {len(breach):,} of {widgets.plural(len(desks), 'desk')} "
            f"{'has' if len(breach) == 1 else 'have'} a monitor in breach {_when(filters)}; "
            f"{len(warn):,} more in warning."
        )

    return caption


@dataclass(frozen=True)
class HeatmapWidget(Widget):
    """Monitor health as a heatmap: a row per model (named as people read them, tier 1 first, then by desk), or,
    with no desk chosen and more than MAX_MODEL_ROWS models, a row per desk. One grouped query either way."""

    def for_filters(self, user, filters) -> Widget:
        if self.dimensions[0].field != "model_key":
            return self
        # The live models in scope (a model with no monitor has no row): counted with a desk chosen too, so the page
        # reads as many statements whatever it is narrowed to.
        models = live_models(user, filters).count()
        if filters.desk or models <= MAX_MODEL_ROWS:
            return self
        return replace(
            self,
            records=monitors_by_desk,
            dimensions=(Dimension("desk", "Desk"), *self.dimensions[1:]),
            caption=_desk_caption(models),
            order_records=("version__model__desk__name", *self.order_records),
        )

    def rows(self, user, filters) -> list[dict]:
        first = self.dimensions[0].field
        records = self.records(user, filters)
        desk_name = F(stood(records, "version__model__desk__name"))  # as it stood on a past day
        if first == "desk":
            named = {"name": desk_name}
            order = ("name",)
        else:
            named = {
                "name": F("version__model__name"),
                "tier": F(stood(records, "version__model__risk_tier")),
                "desk_name": desk_name,
            }
            order = ("tier", "desk_name", "name")
        counted = (
            records.order_by().annotate(**named).values(first, *named, "kind", "status").annotate(count=Count("pk"))
        )
        kind, status = self.dimensions[1], self.dimensions[2]

        def place(row):
            return (*(row[f] or "" for f in order), row[first], kind.rank(row["kind"]), status.rank(row["status"]))

        rows = sorted(counted, key=place)
        # The row's label: its name (its key or code when it has none); a name two rows share says the key too.
        names = {}
        for row in rows:
            names.setdefault(row["name"] or row[first], set()).add(row[first])
        for row in rows:
            name = row.pop("name") or row[first]
            row["label"] = name if len(names[name]) == 1 else f"{name} ({row[first]})"
            for extra in ("tier", "desk_name"):
                row.pop(extra, None)
        return rows

    def row_label(self, row) -> str:
        return row.get("label") or super().row_label(row)


HEATMAP = HeatmapWidget(
    key="monitoring-heatmap",
    page=widgets.MONITORING,
    title="Monitor health by model and kind",
    order=10,
    records=monitors_by_state,
    dimensions=(
        Dimension("model_key", "Model"),
        Dimension("kind", "Kind", lambda code: KIND_LABELS.get(code, code), tuple(selectors.KIND_ORDER)),
        Dimension("status", "State", STATE_LABELS.get, STATES, short=STATE_SHORT.get, tones=STATE_TONES),
    ),
    caption=_heatmap_caption,
    record_columns=(*MONITOR_COLUMNS, RecordColumn("status", "State", STATE_LABELS.get)),
    record_link=_monitor_link,
    visible=access.reads_firm_dashboards,
    chart="heatmap",
    noun="monitors",
    description=(
        "Each monitored model (pilot, production, suspended) by kind of monitor: the worst state among its monitors "
        "of that kind, from OK, no result, insufficient data, warning to breach; tier 1 first, then by desk. Their "
        "newest results as of the page's day, or, with a time range, the worst result in it. No result: a monitor "
        "not yet evaluated (or not in the chosen days). A blank cell: the model has no monitor of that kind. With "
        f"no desk chosen and more than {MAX_MODEL_ROWS} models, a row per desk."
    ),
    order_records=("version__model__risk_tier", "version__model__key", "kind", "measure", "stream"),
    link_fields=("pk",),
)


# --- Breaches per week ------------------------------------------------------------------------------------------

WEEKS = 12


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _days(filters) -> tuple[dt.date, dt.date]:
    """The days counted: the page's range, else the 12 ISO weeks up to its day (the first from its Monday)."""
    end = filters.until or filters.as_of
    start = filters.since or _monday(end) - dt.timedelta(weeks=WEEKS - 1)
    return start, end


def weeks(filters) -> list[str]:
    """The Monday of every ISO week the range touches, as text (YYYY-MM-DD), oldest first."""
    start, end = _days(filters)
    monday, out = _monday(start), []
    while monday <= end:
        out.append(monday.isoformat())
        monday += dt.timedelta(weeks=1)
    return out


def _breach_results(user, filters):
    """The results in breach of the monitors in scope, in the range, known by the end of the page's day."""
    start, end = _days(filters)
    monitors = filters.narrow(access.restrict(Monitor.objects.all(), user), "version__model__")
    # Every monitor (compliance, no filter): no need to join the results to the monitors at all.
    scoped = Q(monitor__in=monitors) if monitors.query.where else Q()
    return MonitorResult.objects.filter(
        scoped,
        outcome=MonitorResult.Outcome.BREACH,
        # A range on the column itself (a partial index serves it), not on its date: slot__date casts every row.
        slot__gte=dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC),
        slot__lt=selectors.day_end(end),
        evaluated_at__lt=selectors.day_end(filters.as_of),  # what was known by the end of the page's day
    )


def breaches(user, filters):
    """The results in breach of the monitors in scope, in the range, each with its ISO week's Monday as text."""
    return _breach_results(user, filters).annotate(
        week=Substr(Cast(TruncWeek("slot"), CharField()), 1, 10),  # "YYYY-MM-DD": its Monday
        model_key=F("monitor__version__model__key"),
    )


@dataclass(frozen=True)
class WeeklyWidget(Widget):
    """A widget counted by ISO week: every week of the page's range is a row, those without a record at 0."""

    def rows(self, user, filters) -> list[dict]:
        # Counted without the drill-down's columns (no join to versions and models) and grouped by the week's start
        # itself: a large firm has tens of thousands of breaches a quarter.
        counted = (
            _breach_results(user, filters)
            .order_by()
            .annotate(monday=TruncWeek("slot"))
            .values("monday")
            .annotate(count=Count("*"))  # rows, not ids: the index holds no id, and each result is one row
        )
        found = {row["monday"].date().isoformat(): row["count"] for row in counted}
        return [{"week": week, "count": found.get(week, 0)} for week in weeks(filters)]


def _figure(value) -> str:
    return "" if value is None else f"{value:,.4g}"


def _weekly_caption(rows, filters) -> str:
    start, end = _days(filters)
    span = f"the {widgets.plural(len(rows), 'week')} from {start.isoformat()} to {end.isoformat()}"
    total = widgets.total(rows)
    if not total:
        return f"No monitor result in breach in {span}."
    worst = max(rows, key=lambda row: (row["count"], row["week"]))
    return (
        f"{widgets.plural(total, 'monitor result')} in breach in {span}; "
        f"the worst week, from {worst['week']}, had {worst['count']:,}."
    )


BREACHES_PER_WEEK = WeeklyWidget(
    key="breaches-per-week",
    page=widgets.MONITORING,
    title="Breaches per week",
    order=20,
    records=breaches,
    dimensions=(Dimension("week", "Week from"),),
    caption=_weekly_caption,
    record_columns=(
        RecordColumn("slot", "Result at (UTC)", lambda moment: f"{moment:%Y-%m-%d %H:%M}"),
        RecordColumn("model_key", "Model"),
        RecordColumn("monitor__version__version", "Version"),
        RecordColumn("monitor__measure", "Measure", lambda code: MEASURES[code].label if code in MEASURES else code),
        RecordColumn("monitor__stream", "Reads"),
        # The value against the threshold the result was graded with (its recorded configuration: a threshold
        # changed since does not rewrite why a past result breached).
        RecordColumn("value", "Value", _figure),
        RecordColumn("config__breach", "Breach threshold", _figure),
    ),
    record_link=lambda record: reverse("monitoring:monitor-detail", args=[record["monitor_id"]]),
    visible=access.reads_firm_dashboards,
    noun="results in breach",
    description=(
        "Monitor results in breach per ISO week (Monday to Sunday, UTC), over the page's time range or the 12 weeks "
        "up to today; every monitor in scope, live or since retired."
    ),
    order_records=("-slot", "-pk"),
    link_fields=("monitor_id",),
)


# --- Models in breach now, and for over a week --------------------------------------------------------------------

LONG_BREACH_DAYS = 7


def models_in_breach(user, filters):
    """Models in scope with at least one live monitor whose newest result (as of the end of the page's day) is a
    breach."""
    breaching = (
        selectors.live_monitors(user, filters.moment)
        .annotate(latest=selectors.latest_outcome(filters.as_of))
        .filter(latest="breach")
    ).values("version__model_id")
    return models_in_scope(user, filters).filter(pk__in=breaching)


def models_in_long_breach(user, filters):
    """Models in scope with a live monitor in breach for more than LONG_BREACH_DAYS days at the end of the page's
    day: its newest results are breaches, and the first of them is for a tick more than that before the day's end
    (a result that is not a breach ends the run; the next breach starts a new one)."""
    end = selectors.day_end(filters.as_of)
    breaching = (
        selectors.live_monitors(user, filters.moment)
        .annotate(since=selectors.breach_since(filters.as_of))
        .filter(since__lt=end - dt.timedelta(days=LONG_BREACH_DAYS))
    ).values("version__model_id")
    return models_in_scope(user, filters).filter(pk__in=breaching)


def _in_breach_caption(rows, filters) -> str:
    total = widgets.total(rows)
    when = _when(filters)
    if not total:
        return f"No model in scope has a monitor in breach {when}."
    tier_one = widgets.count_where(rows, risk_tier=1)
    return (
        f"{widgets.plural(total, 'model')} {'has' if total == 1 else 'have'} a monitor in breach {when}; "
        f"{tier_one:,} of them in tier 1."
    )


def _long_breach_caption(rows, filters) -> str:
    total = widgets.total(rows)
    when = "today" if selectors.is_current(filters.as_of) else f"on {filters.as_of.isoformat()}"
    if not total:
        return f"No model in scope has had a monitor in breach for more than {LONG_BREACH_DAYS} days {when}."
    tier_one = widgets.count_where(rows, risk_tier=1)
    return (
        f"{widgets.plural(total, 'model')} {'has' if total == 1 else 'have'} had a monitor in breach for more than "
        f"{LONG_BREACH_DAYS} days {when}; {tier_one:,} of them in tier 1."
    )


MODELS_IN_BREACH = Widget(
    key="models-in-breach",
    page=widgets.MONITORING,
    title="Models in breach now",
    order=30,
    records=models_in_breach,
    dimensions=(TIER,),
    caption=_in_breach_caption,
    record_columns=MODEL_COLUMNS,
    record_link=_model_monitoring_link,
    visible=access.reads_firm_dashboards,
    noun="models",
    description=(
        "Models with a monitor whose newest result (as of the page's day) is a breach, by risk tier; each opens its "
        "monitoring tab."
    ),
    order_records=("risk_tier", "key"),
)

MODELS_IN_LONG_BREACH = Widget(
    key="models-in-long-breach",
    page=widgets.MONITORING,
    title=f"Models in breach for over {LONG_BREACH_DAYS} days",
    order=35,
    records=models_in_long_breach,
    dimensions=(TIER,),
    caption=_long_breach_caption,
    record_columns=MODEL_COLUMNS,
    record_link=_model_monitoring_link,
    visible=access.reads_firm_dashboards,
    noun="models",
    description=(
        f"Models with a monitor whose results have been breaches without a break for more than {LONG_BREACH_DAYS} "
        "days at the end of the page's day (the first breach of the run more than that before), by risk tier."
    ),
    order_records=("risk_tier", "key"),
)


# --- An owner's or developer's own models ------------------------------------------------------------------------


def my_monitors(user, filters):
    """The live monitors of the models the reader owns or builds, each with its state."""
    mine = Monitor.objects.filter(inventory_access.own_models_q(user, "version__model__")).values("pk")
    return monitors_by_state(user, filters).filter(pk__in=mine)


def _my_monitors_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "None of your models has a live monitor."
    breach, warn = widgets.count_where(rows, status="breach"), widgets.count_where(rows, status="warn")
    return f"Your models have {widgets.plural(total, 'live monitor')}: {breach:,} in breach, {warn:,} in warning."


MY_MONITORS = Widget(
    key="my-monitors",
    page=widgets.MINE,
    title="Monitoring of your models",
    order=30,
    records=my_monitors,
    dimensions=(Dimension("status", "State", STATE_LABELS.get, STATES, tones=STATE_TONES),),
    caption=_my_monitors_caption,
    record_columns=(*MONITOR_COLUMNS, RecordColumn("status", "State", STATE_LABELS.get)),
    record_link=_monitor_link,
    visible=inventory_access.sees_own_models_dashboard,
    chart="hbar",
    noun="monitors",
    description="The live monitors of the models you own or build, by the state of their newest result.",
    order_records=("version__model__key", "kind", "measure", "stream"),
    link_fields=("pk",),
)


# The key risk indicator read from the models-in-long-breach widget. Its key is the one policies already set
# thresholds for: until issue 22's review it counted models in breach now, which a breach of one tick raised.
MODELS_IN_BREACH_OVER_7_DAYS = indicators.Indicator(
    key="models-in-breach",
    label=f"Models in breach for over {LONG_BREACH_DAYS} days",
    widget=MODELS_IN_LONG_BREACH.key,
    cells=(),
    amber=1,
    red=3,
    description=(
        f"Models in pilot, production or suspended with a monitor whose results have been breaches for more than "
        f"{LONG_BREACH_DAYS} days without a break, at the end of the day."
    ),
)


def register() -> None:
    for widget in (HEATMAP, BREACHES_PER_WEEK, MODELS_IN_BREACH, MODELS_IN_LONG_BREACH, MY_MONITORS):
        widgets.register(widget)
    indicators.register(MODELS_IN_BREACH_OVER_7_DAYS)
