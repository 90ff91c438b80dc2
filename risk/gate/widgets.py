"""The gate's dashboard widgets (issue 22): what the gate blocks now and why (the monitoring health page), and, on a
trader's own dashboard, what it answers for their desk's models and how much of each pilot's limit the day used.

Each model's answer is the gate's own, never re-derived here: its recorded decision (GateDecision) as of the end of the
page's day, and today the decision trading systems are served (`decisions.decisions_for`) for any model whose record is
not current. A blocked model is counted once, by the first of its
reasons in BLOCK_ORDER; every reason is listed in its drill-down row.
"""

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import (
    Case,
    CharField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from governance.core import access, history, widgets
from governance.core.models import Desk
from governance.core.templatetags.display import money
from governance.core.widgets import Dimension, Measure, RecordColumn, Widget
from models_registry.choices import TRADER_VISIBLE_STATUSES, LifecycleStatus
from models_registry.models import Model, ModelVersion
from models_registry.widgets import MODEL_COLUMNS, model_link, models_in_scope
from risk.gate import decisions, generations
from risk.gate.access import reads_desk_gate_dashboard
from risk.gate.models import GateDecision
from risk.monitoring.models import Trade

ALLOWED = "allowed"
# The reason a blocked model is counted by, when it has several: the stop that holds it first. A kill switch suspends
# the versions it stops (so "suspended" comes with it), an incident may suspend them by policy; the cause counts.
BLOCK_ORDER = (
    "kill_switch",
    "open_critical_incident",
    "suspended",
    "pilot_ended",
    "validation_overdue",
    "not_approved",
)
# Each answer's colour and pattern on every chart (risk/dashboards/charts.py TONE_STYLES): allowed apart from every
# reason to block, the kill switch the gravest.
TONES = {
    ALLOWED: "good",
    "kill_switch": "worst",
    "open_critical_incident": "bad",
    "suspended": "stale",
    "pilot_ended": "pending",
    "validation_overdue": "caution",
    "not_approved": "missing",
}
IN_CAPTION = {
    "kill_switch": "by the kill switch",
    "open_critical_incident": "for an open critical incident",
    "suspended": "suspended",
    "pilot_ended": "with their pilot ended",
    "validation_overdue": "with their validation overdue",
    "not_approved": "not approved for use",
}


def reason_label(code: str) -> str:
    """An answer of the gate beside "Allowed" (a desk's models at the gate): "Blocked: " and the reason."""
    if code == ALLOWED:
        return "Allowed"
    return f"Blocked: {decisions.REASONS.get(code, code)}"


def block_label(code: str) -> str:
    """A reason to block where every row is blocked (what the gate blocks, its title says so): the reason alone,
    which on a phone leaves the bars the width "Blocked: " took."""
    text = decisions.REASONS.get(code, code)
    return text[:1].upper() + text[1:]


def _first_reason(codes: list[str]) -> str:
    return next((code for code in BLOCK_ORDER if code in codes), codes[0])


# A reason's code in the JSON text of a decision's reasons (a quote inside a message is escaped, so only keys match).
CODE = re.compile(r'"code":\s*"([^"\\]*)"')


def _codes(reasons_text: str | None) -> list[str]:
    return CODE.findall(reasons_text or "")


def _decisions_as_of(models, filters) -> dict[int, tuple[bool, list[str]]]:
    """model id -> (allowed, its reasons' codes): the gate's recorded decision (GateDecision, its newest revision
    decided before the end of the page's day), read for every model in one query. Today, a model whose recorded
    decision is not the one the gate would serve now (never recorded, its inputs changed since, or a date it
    depended on passed) gets the gate's own answer (`decisions.decisions_for`, which records it): the recorded
    decisions are kept current by the commit of every change and the periodic refresh, so these are few. A past day
    reads the record as it stood."""
    end = dt.datetime.combine(filters.as_of + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    newest = GateDecision.objects.filter(model=OuterRef("pk"), decided_at__lt=end).order_by("-revision")
    ids = models.order_by().annotate(decision=Subquery(newest.values("pk")[:1])).values("decision")
    # The reasons as JSON text, their codes picked out (parsing thousands of bodies was most of the page's time).
    reasons = Cast(KeyTransform("reasons", "body"), TextField())
    recorded = {
        row["model_id"]: row
        for row in GateDecision.objects.filter(pk__in=ids).values(
            "model_id", "allowed", "generation", "valid_until", reasons=reasons
        )
    }
    now = timezone.now()
    if end <= now:
        return {pk: (row["allowed"], _codes(row["reasons"])) for pk, row in recorded.items()}
    model_ids = list(models.order_by().values_list("pk", flat=True))
    current = generations.read(model_ids)
    out, stale = {}, []
    for pk in model_ids:
        row = recorded.get(pk)
        if row is None or row["generation"] != current[pk] or (row["valid_until"] and row["valid_until"] <= now):
            stale.append(pk)
        else:
            out[pk] = (row["allowed"], _codes(row["reasons"]))
    if stale:
        listed = Model.objects.filter(pk__in=stale).select_related("desk")
        for pk, served in decisions.decisions_for(listed, now, {pk: current[pk] for pk in stale}).items():
            out[pk] = (served.allowed, [r["code"] for r in served.body["reasons"]])
    return out


def _states(models, filters, blocked_only: bool = False) -> dict[int, tuple[str, str]]:
    """model id -> (the state it is counted by: "allowed" or its first reason, every reason in the gate's words)."""
    out = {}
    for pk, (allowed, codes) in _decisions_as_of(models, filters).items():
        state = _first_reason(codes) if codes else ALLOWED
        if not (blocked_only and (allowed or state == ALLOWED)):
            out[pk] = (state, "; ".join(decisions.REASONS.get(c, c) for c in codes) or "—")
    return out


def with_gate(models, filters, blocked_only: bool = False):
    """`models` (a queryset) annotated with what the gate answered for each at the end of the page's day (now, for
    today): `gate` ("allowed", or the reason it is counted by) and `gate_reasons` (every reason, in the gate's
    words). `blocked_only`: only the models it blocked. For drill-down lists; a widget's counts need no query."""
    by_state, by_reasons = {}, {}
    for pk, (state, reasons) in _states(models, filters, blocked_only).items():
        by_state.setdefault(state, []).append(pk)
        by_reasons.setdefault(reasons, []).append(pk)
    counted = [pk for pks in by_state.values() for pk in pks]
    return models.filter(pk__in=counted).annotate(
        gate=_case({k: v for k, v in by_state.items() if k != ALLOWED}, ALLOWED),
        gate_reasons=_case({k: v for k, v in by_reasons.items() if k != "—"}, "—"),
    )


@dataclass(frozen=True)
class GateWidget(Widget):
    """Models counted by what the gate answered: the counts come straight from the decisions read (no statement
    listing thousands of models to group them); a drill-down filters `records`, made from the same decisions."""

    models: Callable = None  # (user, filters) -> the models counted, before the gate is asked
    blocked_only: bool = False

    def rows(self, user, filters) -> list[dict]:
        counted = Counter(
            state for state, _reasons in _states(self.models(user, filters), filters, self.blocked_only).values()
        )
        return [
            {"gate": key[0], "count": counted.get(key[0], 0)}
            for key in self._keys({(k,): n for k, n in counted.items()})
        ]


def _case(groups: dict[str, list[int]], default: str):
    whens = [When(pk__in=pks, then=Value(value)) for value, pks in groups.items()]
    return Case(*whens, default=Value(default), output_field=CharField()) if whens else Value(default, CharField())


GATE_COLUMNS = (*MODEL_COLUMNS, RecordColumn("gate_reasons", "The gate's reasons"))


# --- What the gate blocks now -----------------------------------------------------------------------------------


def _not_retired(user, filters):
    return models_in_scope(user, filters).exclude(then_status=LifecycleStatus.RETIRED)  # retired then


def blocked(user, filters):
    """Models in scope, not retired, that the gate blocks now, each with the reason it is counted by."""
    return with_gate(_not_retired(user, filters), filters, blocked_only=True)


def _reasons_text(rows) -> str:
    counted = sorted((row for row in rows if row["count"]), key=lambda row: -row["count"])
    return ", ".join(f"{row['count']:,} {IN_CAPTION.get(row['gate'], row['gate'])}" for row in counted)


def _blocks_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "The gate blocks no model in scope now."
    return f"The gate blocks {widgets.plural(total, 'model')} now: {_reasons_text(rows)}."


GATE_BLOCKS = GateWidget(
    models=_not_retired,
    blocked_only=True,
    key="gate-blocks",
    page=widgets.MONITORING,
    title="What the gate blocks now",
    order=40,
    records=blocked,
    dimensions=(Dimension("gate", "Reason", block_label, BLOCK_ORDER, tones=tuple(TONES[r] for r in BLOCK_ORDER)),),
    caption=_blocks_caption,
    record_columns=GATE_COLUMNS,
    record_link=model_link,
    visible=access.reads_firm_dashboards,
    chart="hbar",
    noun="models",
    description=(
        "Models not retired that the gate answers blocked for now, by reason: the kill switch, an open critical "
        "incident, a suspension, a pilot ended, a validation overdue, no version approved. A model blocked for "
        "several reasons is counted by the first of these; its row lists them all."
    ),
    order_records=("risk_tier", "key"),
)


# --- My desk's models at the gate (traders) -----------------------------------------------------------------------


def _desk_id(user):
    return getattr(getattr(user, "profile", None), "desk_id", None)


def _on_desk(queryset, desk_id, filters, prefix: str = ""):
    """`queryset` narrowed to the records of models on the desk `desk_id` at the page's moment (on a past day the
    trail names the desk a model was on, as `Filters.narrow` reads it)."""
    if filters.moment is None:
        return queryset.filter(**{f"{prefix}desk_id": desk_id})
    names = Desk.objects.filter(pk=desk_id).values("name")
    return queryset.alias(on_desk_then=filters.model_value("desk", prefix)).filter(on_desk_then__in=names)


def _desk_models(user, filters):
    """The trader's desk's models they may trade on (approved, pilot, production, or suspended: a trader's own
    scope), as they stood at the page's moment: a model approved since was not theirs to trade then."""
    desk_id = _desk_id(user)
    if not desk_id:
        return Model.objects.none()
    models = models_in_scope(user, filters).filter(then_status__in=TRADER_VISIBLE_STATUSES)
    return _on_desk(models, desk_id, filters)


def desk_models(user, filters):
    """The trader's desk's models in their scope, each with what the gate answers for it now."""
    return with_gate(_desk_models(user, filters), filters)


def _desk_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No model of your desk is approved for use."
    allowed = widgets.count_where(rows, gate=ALLOWED)
    blocked_rows = [row for row in rows if row["gate"] != ALLOWED]
    text = f"The gate allows {allowed:,} of your desk's {widgets.plural(total, 'model')} now"
    if total == allowed:
        return text + "."
    return f"{text}; it blocks {total - allowed:,}: {_reasons_text(blocked_rows)}."


MY_DESK_MODELS = GateWidget(
    models=_desk_models,
    key="my-desk-models",
    page=widgets.MINE,
    title="My desk's models at the gate",
    order=10,
    records=desk_models,
    dimensions=(
        Dimension(
            "gate",
            "The gate answers",
            reason_label,
            (ALLOWED, *BLOCK_ORDER),
            tones=tuple(TONES[r] for r in (ALLOWED, *BLOCK_ORDER)),
        ),
    ),
    caption=_desk_caption,
    record_columns=GATE_COLUMNS,
    record_link=model_link,
    visible=reads_desk_gate_dashboard,
    chart="hbar",
    noun="models",
    description="Your desk's models you may trade on: does the gate allow each now, and if not, why.",
    order_records=("key",),
)


# --- My desk's pilots: how much of each limit the day used (traders) -------------------------------------------------


def _day(filters) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(filters.as_of, dt.time.min, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def desk_pilots(user, filters):
    """The versions of the trader's desk in pilot, in their scope, each with its limit (`pilot.max_notional`, the one
    the gate serves), the notional it traded on the page's day (the sum of quantity x price of the trades it reported
    with a time that UTC day) and that as a percentage of the limit."""
    desk_id = _desk_id(user)
    if not desk_id:
        return ModelVersion.objects.none()
    start, end = _day(filters)
    moment = filters.moment
    # The trades it reported with a time that day, and, on a past day, received by its end (a late batch was not
    # known then).
    trades = Trade.objects.filter(version=OuterRef("pk"), timestamp__gte=start, timestamp__lt=end)
    if moment is not None:
        trades = trades.filter(batch__received_at__lt=moment)
    traded = trades.order_by().values("version").annotate(total=Sum(F("quantity") * F("price"))).values("total")
    versions = ModelVersion.objects.filter(pilot__isnull=False)
    if moment is None:
        versions = versions.filter(status=LifecycleStatus.PILOT)
    else:  # in pilot then, by the trail of its transitions
        versions = versions.filter(history.existed_at(moment), history.existed_at(moment, "pilot__created_at"))
        versions = versions.alias(status_then=history.value_at(ModelVersion, "status", moment)).filter(
            status_then=LifecycleStatus.PILOT
        )
    versions = _on_desk(filters.narrow(versions, "model__"), desk_id, filters, "model__")
    return (
        access.restrict(versions, user)
        .annotate(
            pilot_of=Concat(F("model__key"), Value(" "), F("version"), output_field=CharField()),
            key=F("model__key"),
            max_notional=F("pilot__max_notional"),
            traded=Coalesce(Subquery(traded, output_field=FloatField()), Value(0.0)),
        )
        .annotate(
            used=ExpressionWrapper(
                F("traded") * 100.0 / Cast(F("pilot__max_notional"), FloatField()), output_field=FloatField()
            )
        )
    )


def _percent(value) -> str:
    return "" if value is None else f"{value:,.1f} %"


def _share(used: float) -> str:
    """A share of a limit as a trader reads it: whole percents, never "0 %" for a little nor "100 %" for not all."""
    if used < 1:
        return "less than 1 %"
    return f"{min(round(used), 99) if used < 100 else round(used):,} %"


def _pilots_caption(rows, filters) -> str:
    if not rows:
        return "No model of your desk is in pilot."
    most = max(rows, key=lambda row: (row["used"] or 0, row["pilot_of"]))
    day = "today" if filters.moment is None else f"on {filters.as_of.isoformat()}"
    pilots = f"Your desk has {widgets.plural(len(rows), 'version')} in pilot"
    if not most["used"]:
        yet = " yet" if filters.moment is None else ""
        limits = "its limit" if len(rows) == 1 else "their limits"
        return f"{pilots}; nothing traded{yet} {day} against {limits}."
    return f"{pilots}; the most used, {most['pilot_of']}, traded {_share(most['used'])} of its maximum notional {day}."


MY_PILOT_LIMITS = Widget(
    key="my-pilot-limits",
    page=widgets.MINE,
    title="My desk's pilot limits",
    order=20,
    records=desk_pilots,
    dimensions=(Dimension("pilot_of", "Version in pilot"),),
    caption=_pilots_caption,
    record_columns=(
        RecordColumn("key", "Model"),
        RecordColumn("version", "Version"),
        RecordColumn("max_notional", "Maximum notional", money),
        RecordColumn("traded", "Traded on the day", money),
        RecordColumn("used", "Used", _percent),
        RecordColumn("pilot__end_date", "Pilot ends", lambda day: day.isoformat()),
    ),
    record_link=model_link,
    visible=reads_desk_gate_dashboard,
    chart="hbar",
    noun="versions",
    description=(
        "Each version of your desk in pilot: the notional it traded on the day (quantity x price of the trades it "
        "reported, UTC), as a percentage of the maximum notional its pilot allows."
    ),
    order_records=("model__key", "version"),
    measures=(Measure("used", "Used (% of the maximum notional)", "used", how="mean", display=_percent, axis_to=100),),
    chart_value="used",
)


def register() -> None:
    for widget in (GATE_BLOCKS, MY_DESK_MODELS, MY_PILOT_LIMITS):
        widgets.register(widget)
