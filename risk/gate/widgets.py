"""The gate's dashboard widgets (issue 22): what the gate blocks now and why (the monitoring health page), and, on a
trader's own dashboard, what it answers for their desk's models.

Each model's answer is the gate's own (`decisions.decisions_for`: the decision trading systems are served, from the
cache while its inputs have not moved), never re-derived here. A blocked model is counted once, by the first of its
reasons in BLOCK_ORDER; every reason is listed in its drill-down row.
"""

from django.db.models import Case, CharField, Value, When

from governance.core import access, widgets
from governance.core.widgets import Dimension, RecordColumn, Widget
from models_registry.choices import LifecycleStatus
from models_registry.widgets import MODEL_COLUMNS, model_link, models_in_scope
from risk.gate import decisions
from risk.gate.access import reads_desk_gate_dashboard

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
IN_CAPTION = {
    "kill_switch": "by the kill switch",
    "open_critical_incident": "for an open critical incident",
    "suspended": "suspended",
    "pilot_ended": "with their pilot ended",
    "validation_overdue": "with their validation overdue",
    "not_approved": "not approved for use",
}


def reason_label(code: str) -> str:
    if code == ALLOWED:
        return "Allowed"
    text = decisions.REASONS.get(code, code)
    return f"Blocked: {text}"


def _first_reason(codes: list[str]) -> str:
    return next((code for code in BLOCK_ORDER if code in codes), codes[0])


def with_gate(models):
    """`models` (a queryset) annotated with what the gate answers for each now: `gate` ("allowed", or the reason it is
    counted by) and `gate_reasons` (every reason, in the gate's words)."""
    listed = list(models.select_related("desk"))
    served = decisions.decisions_for(listed)
    by_state, by_reasons = {}, {}
    for model in listed:
        codes = [r["code"] for r in served[model.pk].body["reasons"]]
        state = _first_reason(codes) if codes else ALLOWED
        by_state.setdefault(state, []).append(model.pk)
        by_reasons.setdefault("; ".join(decisions.REASONS.get(c, c) for c in codes) or "—", []).append(model.pk)
    return models.filter(pk__in=[m.pk for m in listed]).annotate(
        gate=_case(by_state, ALLOWED), gate_reasons=_case(by_reasons, "—")
    )


def _case(groups: dict[str, list[int]], default: str):
    whens = [When(pk__in=pks, then=Value(value)) for value, pks in groups.items()]
    return Case(*whens, default=Value(default), output_field=CharField()) if whens else Value(default, CharField())


GATE_COLUMNS = (*MODEL_COLUMNS, RecordColumn("gate_reasons", "The gate's reasons"))


# --- What the gate blocks now -----------------------------------------------------------------------------------


def blocked(user, filters):
    """Models in scope, not retired, that the gate blocks now, each with the reason it is counted by."""
    models = models_in_scope(user, filters).exclude(status=LifecycleStatus.RETIRED)
    return with_gate(models).exclude(gate=ALLOWED)


def _reasons_text(rows) -> str:
    counted = sorted((row for row in rows if row["count"]), key=lambda row: -row["count"])
    return ", ".join(f"{row['count']:,} {IN_CAPTION.get(row['gate'], row['gate'])}" for row in counted)


def _blocks_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "The gate blocks no model in scope now."
    return f"The gate blocks {widgets.plural(total, 'model')} now: {_reasons_text(rows)}."


GATE_BLOCKS = Widget(
    key="gate-blocks",
    page=widgets.MONITORING,
    title="What the gate blocks now",
    order=40,
    records=blocked,
    dimensions=(Dimension("gate", "Reason", reason_label, BLOCK_ORDER),),
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


def desk_models(user, filters):
    """The trader's desk's models in their scope, each with what the gate answers for it now."""
    profile = getattr(user, "profile", None)
    desk_id = getattr(profile, "desk_id", None)
    models = models_in_scope(user, filters).filter(desk_id=desk_id) if desk_id else models_in_scope(user, filters)
    return with_gate(models if desk_id else models.none())


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


MY_DESK_MODELS = Widget(
    key="my-desk-models",
    page=widgets.MINE,
    title="My desk's models at the gate",
    order=10,
    records=desk_models,
    dimensions=(Dimension("gate", "The gate answers", reason_label, (ALLOWED, *BLOCK_ORDER)),),
    caption=_desk_caption,
    record_columns=GATE_COLUMNS,
    record_link=model_link,
    visible=reads_desk_gate_dashboard,
    chart="hbar",
    noun="models",
    description="Your desk's models you may trade on: does the gate allow each now, and if not, why.",
    order_records=("key",),
)


def register() -> None:
    for widget in (GATE_BLOCKS, MY_DESK_MODELS):
        widgets.register(widget)
