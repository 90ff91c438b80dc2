"""The inventory's dashboard widgets (issue 22): what the board asks first. How many models, of what risk, where in
their lifecycle; how many of those in use hold a validation still in date; which are overdue or coming due.

Each counts models through the access registry (`access.restrict`), narrowed by the page's filters, and groups them
by annotations computed in the database against the page's day, so a drill-down is the same query filtered.
"""

import datetime as dt

from django.db.models import Case, CharField, F, Q, Value, When
from django.urls import reverse

from governance.core import access, indicators, widgets
from governance.core.widgets import Dimension, RecordColumn, Widget
from models_registry.choices import LifecycleStatus, RiskTier
from models_registry.models import Model

STATUS_LABELS = dict(LifecycleStatus.choices)
TIERS = tuple(RiskTier.values)


def tier_label(tier) -> str:
    return f"Tier {tier}"


# What the inventory's widgets read of a model, as it stood on the page's day (governance/core/history.py): each is
# annotated as `then_<field>`, which the rows, drill-downs and record lists read in place of the field.
AS_STOOD = ("status", "risk_tier", "computed_tier", "last_validated_at", "next_validation_due")


def models_in_scope(user, filters):
    """The models in `user`'s scope that the filters choose, with their fields as they stood on the page's day (a
    model registered later is left out)."""
    models = access.restrict(filters.narrow(Model.objects.all()), user)
    return models.annotate(
        **{f"then_{field}": filters.model_value(field) for field in AS_STOOD},
        then_desk_name=filters.model_value("desk"),
    )


MODEL_COLUMNS = (
    RecordColumn("key", "Model"),
    RecordColumn("name", "Name"),
    RecordColumn("desk__name", "Desk"),
    RecordColumn("risk_tier", "Tier", tier_label),
    RecordColumn("status", "Status", lambda code: STATUS_LABELS.get(code, code)),
    RecordColumn("next_validation_due", "Next validation due", lambda day: day.isoformat() if day else "none set"),
)


def model_link(record: dict) -> str:
    return reverse("models_registry:model-detail", args=[record["key"]])


TIER = Dimension("risk_tier", "Tier", tier_label, TIERS)
STATUS = Dimension("status", "Status", lambda code: STATUS_LABELS.get(code, code), tuple(LifecycleStatus.values))


# --- Inventory by tier and status ---------------------------------------------------------------------------


def _inventory_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No models in scope."
    tier_one = widgets.count_where(rows, risk_tier=1)
    in_production = widgets.count_where(rows, risk_tier=1, status=LifecycleStatus.PRODUCTION)
    if not tier_one:
        return f"{widgets.plural(total, 'model')} in scope, none in tier 1."
    return (
        f"{widgets.plural(total, 'model')} in scope; {tier_one:,} in tier 1, {in_production:,} of them in production."
    )


INVENTORY = Widget(
    key="inventory-by-tier",
    page=widgets.OVERVIEW,
    title="Inventory by tier and status",
    order=10,
    records=models_in_scope,
    dimensions=(TIER, STATUS),
    caption=_inventory_caption,
    record_columns=MODEL_COLUMNS,
    record_link=model_link,
    visible=access.reads_firm_dashboards,
    noun="models",
    description="Every model in scope by its risk tier, stacked by where it stands in its lifecycle.",
    order_records=("risk_tier", "key"),
)


# --- Inventory by desk ----------------------------------------------------------------------------------------------

DESK = Dimension("desk__name", "Desk")


def _desk_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No models in scope."
    by_desk: dict[str, int] = {}
    for row in rows:
        by_desk[row["desk__name"]] = by_desk.get(row["desk__name"], 0) + row["count"]
    largest = max(by_desk, key=lambda name: (by_desk[name], name))
    return (
        f"{widgets.plural(total, 'model')} across {widgets.plural(len(by_desk), 'desk')}; "
        f"{largest} holds the most ({by_desk[largest]:,})."
    )


INVENTORY_BY_DESK = Widget(
    key="inventory-by-desk",
    page=widgets.OVERVIEW,
    title="Inventory by desk",
    order=15,
    records=models_in_scope,
    dimensions=(DESK, TIER),
    caption=_desk_caption,
    record_columns=MODEL_COLUMNS,
    record_link=model_link,
    visible=access.reads_firm_dashboards,
    chart="hbar",
    noun="models",
    description="Every model in scope by the desk that owns it, stacked by risk tier.",
    order_records=("desk__name", "risk_tier", "key"),
)


# --- Validation coverage of the models in use --------------------------------------------------------------

IN_DATE, EXPIRED, NEVER = "in_date", "expired", "never"
COVERAGE = Dimension(
    "coverage",
    "Validation",
    {IN_DATE: "In date", EXPIRED: "Expired", NEVER: "Never validated"}.get,
    (IN_DATE, EXPIRED, NEVER),
    tones=("good", "bad", "worst"),
)


# In use: in pilot or in production, where the gate lets a model trade. An approved model waits for its pilot (the
# gate answers it "not approved for use" until then), so this widget and the gate's count the same models as in use.
IN_USE = (LifecycleStatus.PILOT, LifecycleStatus.PRODUCTION)


def models_in_use(user, filters):
    """Models in pilot or in production, each with whether its validation is in date on the page's day."""
    return (
        models_in_scope(user, filters)
        .filter(then_status__in=IN_USE)
        .annotate(
            coverage=Case(
                When(then_last_validated_at__isnull=True, then=Value(NEVER)),
                When(
                    Q(then_next_validation_due__isnull=True) | Q(then_next_validation_due__gte=filters.as_of),
                    then=Value(IN_DATE),
                ),
                default=Value(EXPIRED),
                output_field=CharField(),
            )
        )
    )


def _coverage_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No models in use in scope."
    covered = widgets.count_where(rows, coverage=IN_DATE)
    tier_one = widgets.count_where(rows, risk_tier=1)
    tier_one_not = tier_one - widgets.count_where(rows, risk_tier=1, coverage=IN_DATE)
    share = f"{covered / total:.0%} of the {widgets.plural(total, 'model')} in use {'has' if total == 1 else 'have'}"
    share += " a validation in date"
    if not tier_one:
        return f"{share}; none of them is in tier 1."
    if not tier_one_not:
        return f"{share}; every tier-1 model among them does."
    return f"{share}; {widgets.plural(tier_one_not, 'tier-1 model')} {'does' if tier_one_not == 1 else 'do'} not."


VALIDATION_COVERAGE = Widget(
    key="validation-coverage",
    page=widgets.OVERVIEW,
    title="Validation coverage of models in use",
    order=20,
    records=models_in_use,
    dimensions=(TIER, COVERAGE),
    caption=_coverage_caption,
    record_columns=(*MODEL_COLUMNS, RecordColumn("last_validated_at", "Last validated")),
    record_link=model_link,
    visible=access.reads_firm_dashboards,
    noun="models",
    description="Models in pilot or in production, by tier: is their last validation still in date?",
    order_records=("risk_tier", "key"),
)


# --- Validations overdue and coming due ----------------------------------------------------------------------

DUE_BUCKETS = (
    ("overdue_over_30", "Overdue by more than 30 days"),
    ("overdue", "Overdue by up to 30 days"),
    ("due_30", "Due within 30 days"),
    ("due_60", "Due in 31-60 days"),
    ("due_90", "Due in 61-90 days"),
    ("later", "Due later"),
    ("none", "No date set"),
)
DUE = Dimension(
    "due",
    "Next validation",
    dict(DUE_BUCKETS).get,
    tuple(code for code, _label in DUE_BUCKETS),
    tones=("worst", "bad", "caution", "mild", "pending", "good", "missing"),
)


def models_by_due_date(user, filters):
    """Models not retired, each in the bucket of its next validation date against the page's day."""
    day = filters.as_of
    return (
        models_in_scope(user, filters)
        .exclude(then_status=LifecycleStatus.RETIRED)
        .annotate(
            due=Case(
                When(then_next_validation_due__isnull=True, then=Value("none")),
                When(then_next_validation_due__lt=day - dt.timedelta(days=30), then=Value("overdue_over_30")),
                When(then_next_validation_due__lt=day, then=Value("overdue")),
                When(then_next_validation_due__lte=day + dt.timedelta(days=30), then=Value("due_30")),
                When(then_next_validation_due__lte=day + dt.timedelta(days=60), then=Value("due_60")),
                When(then_next_validation_due__lte=day + dt.timedelta(days=90), then=Value("due_90")),
                default=Value("later"),
                output_field=CharField(),
            )
        )
    )


def _due_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No models in scope."
    long_overdue = widgets.count_where(rows, due="overdue_over_30")
    overdue = long_overdue + widgets.count_where(rows, due="overdue")
    soon = widgets.count_where(rows, due="due_30")
    return (
        f"{overdue:,} of {widgets.plural(total, 'model')} {'is' if overdue == 1 else 'are'} overdue for validation, "
        f"{long_overdue:,} by more than a month; {soon:,} more fall due within 30 days."
    )


VALIDATION_DUE = Widget(
    key="validation-due",
    page=widgets.OVERVIEW,
    title="Validations overdue and coming due",
    order=30,
    records=models_by_due_date,
    dimensions=(DUE,),
    caption=_due_caption,
    record_columns=MODEL_COLUMNS,
    record_link=model_link,
    visible=access.reads_firm_dashboards,
    chart="hbar",
    noun="models",
    description="Models not retired, by their next validation date against today: overdue, and due in 30, 60, 90 days.",
    order_records=("next_validation_due", "key"),
)


# --- Policy exceptions: tiers set against the rule --------------------------------------------------------------

# The exceptions to the governance policy Vigil records on a model: a risk tier other than the tiering rule's (set
# by compliance or by the validator at sign-off, with a justification on the record). Lowered is the one a
# supervisor asks about: less scrutiny than the rule asks for. Findings whose risk compliance accepted are the other
# kind of exception; they have their own widget (risk acceptances expiring).
LOWERED, RAISED = "lowered", "raised"
OVERRIDE = Dimension(
    "override",
    "Tier against the rule",
    {LOWERED: "Lowered (less scrutiny)", RAISED: "Raised (more scrutiny)"}.get,
    (LOWERED, RAISED),
)


def models_overridden(user, filters):
    """Models not retired whose risk tier, on the page's day, was not the one the tiering rule computed."""
    return (
        models_in_scope(user, filters)
        .exclude(then_status=LifecycleStatus.RETIRED)
        .exclude(then_risk_tier=F("then_computed_tier"))
        .annotate(
            override=Case(
                When(then_risk_tier__gt=F("then_computed_tier"), then=Value(LOWERED)),  # tier 3 is the least risk
                default=Value(RAISED),
                output_field=CharField(),
            )
        )
    )


def _override_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "Every model in scope carries the tier its tiering rule computed."
    lowered = widgets.count_where(rows, override=LOWERED)
    return (
        f"{widgets.plural(total, 'model')} {'carries' if total == 1 else 'carry'} a tier other than the rule's; "
        f"{lowered:,} lowered (less scrutiny than the rule asks), {total - lowered:,} raised."
    )


TIER_OVERRIDES = Widget(
    key="tier-overrides",
    page=widgets.OVERVIEW,
    title="Policy exceptions: tiers set against the rule",
    order=35,
    records=models_overridden,
    dimensions=(OVERRIDE, TIER),
    caption=_override_caption,
    record_columns=(*MODEL_COLUMNS, RecordColumn("computed_tier", "Rule's tier", tier_label)),
    record_link=model_link,
    visible=access.reads_firm_dashboards,
    chart="hbar",
    noun="models",
    description="Models not retired whose risk tier is not the one the tiering rule computed, by direction and tier.",
    order_records=("risk_tier", "key"),
)


# --- Key risk indicators read from these widgets -----------------------------------------------------------------

TIER_ONE_OVERDUE = indicators.Indicator(
    key="tier1-overdue",
    label="Tier-1 models overdue for validation",
    widget=VALIDATION_DUE.key,
    cells=({"due": "overdue"}, {"due": "overdue_over_30"}),
    narrow={"tier": 1},
    amber=1,
    red=2,
    description="Tier-1 models (not retired) whose next validation date has passed.",
)
TIER_ONE_UNCOVERED = indicators.Indicator(
    key="tier1-in-use-unvalidated",
    label="Tier-1 models in use without a validation in date",
    widget=VALIDATION_COVERAGE.key,
    cells=({"coverage": EXPIRED}, {"coverage": NEVER}),
    narrow={"tier": 1},
    amber=1,
    red=1,
    description="Tier-1 models in pilot or in production whose validation has expired or never was.",
)


def register() -> None:
    for widget in (INVENTORY, INVENTORY_BY_DESK, VALIDATION_COVERAGE, VALIDATION_DUE, TIER_OVERRIDES):
        widgets.register(widget)
    for indicator in (TIER_ONE_OVERDUE, TIER_ONE_UNCOVERED):
        indicators.register(indicator)
