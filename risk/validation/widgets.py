"""Validation's dashboard widgets (issue 22, Model risk overview): the findings still open and how old they are, those
past their remediation date, and the risks compliance accepted with when each falls to be looked at again.

Each counts findings through the access registry (`access.restrict`: the findings of versions the reader may see,
none for a trader), narrowed by the page's model filters through the finding's version, and groups them by
annotations computed in the database against the page's day (`filters.as_of`), so a drill-down is the same query
filtered. "Open on the page's day" is read from the record: raised by then, and not closed or accepted by then.

The exceptions to the policy a model carries (a tier set against the tiering rule) are the inventory's widget
(models_registry/widgets.py, "Policy exceptions"); the accepted risks here are the findings' exceptions.
"""

import datetime as dt

from django.db.models import Case, CharField, Q, Value, When
from django.urls import reverse

from governance.core import access, history, indicators, widgets
from governance.core.widgets import Dimension, RecordColumn, Widget
from models_registry import access as inventory_access
from models_registry.choices import LifecycleStatus
from risk.validation.models import Finding

MODEL = "version__model__"  # from a finding to its model, for the page's model filters
SEVERITY_LABELS = dict(Finding.Severity.choices)
STATUS_LABELS = dict(Finding.Status.choices)
SEVERITIES = tuple(Finding.Severity.values)  # worst first: high, medium, low
WORST = SEVERITIES[0]


def _day(value) -> str:
    return value.isoformat() if value else ""


def _moment_day(value) -> str:
    return value.date().isoformat() if value else ""


FINDING_COLUMNS = (
    RecordColumn("id", "Reference", lambda pk: f"Finding #{pk}"),
    RecordColumn("title", "Title"),
    RecordColumn(f"{MODEL}key", "Model"),
    RecordColumn("version__version", "Version"),
    RecordColumn("severity", "Severity", lambda code: SEVERITY_LABELS.get(code, code)),
    RecordColumn("status", "Status", lambda code: STATUS_LABELS.get(code, code)),
    RecordColumn("raised_at", "Raised", _moment_day),
    RecordColumn("due_date", "Due", _day),
)


def finding_link(record: dict) -> str:
    return reverse("validation:finding-detail", args=[record["id"]])


SEVERITY = Dimension(
    "severity", "Severity", lambda code: SEVERITY_LABELS.get(code, code), SEVERITIES, tones=("bad", "caution", "mild")
)


def findings_in_scope(user, filters):
    """The findings of versions the reader may see raised by the page's moment, of the models the page's filters
    name as they stood then, each with its status as it stood for the record lists (`then_status`, read in place of
    the field: every change of it is audited as a code, risk/validation/findings.py). Whether a finding was open is
    read from its own timestamps (raised, closed or accepted: `closed_at`), which a closing sets once."""
    found = filters.narrow(Finding.objects.filter(history.existed_at(filters.moment, "raised_at")), MODEL)
    return access.restrict(found, user).annotate(then_status=history.value_at(Finding, "status", filters.moment))


def open_findings(user, filters):
    """Findings open on the page's day (raised by then, and not closed or risk-accepted by then), raised in the
    page's period when it names one."""
    day = filters.as_of
    return findings_in_scope(user, filters).filter(
        Q(status__in=Finding.ACTIVE) | Q(closed_at__date__gt=day),
        filters.period_q("raised_at"),
        raised_at__date__lte=day,
    )


# --- Open findings by severity and age ------------------------------------------------------------------------

AGE_BUCKETS = (
    ("0_30", "0-30 days"),
    ("31_90", "31-90 days"),
    ("91_180", "91-180 days"),
    ("over_180", "Over 180 days"),
)
AGE = Dimension("age", "Open for", dict(AGE_BUCKETS).get, tuple(code for code, _label in AGE_BUCKETS))


def findings_by_age(user, filters):
    """Open findings, each in the bucket of the days since it was raised, counted to the page's day."""
    day = filters.as_of
    return open_findings(user, filters).annotate(
        age=Case(
            When(raised_at__date__gte=day - dt.timedelta(days=30), then=Value("0_30")),
            When(raised_at__date__gte=day - dt.timedelta(days=90), then=Value("31_90")),
            When(raised_at__date__gte=day - dt.timedelta(days=180), then=Value("91_180")),
            default=Value("over_180"),
            output_field=CharField(),
        )
    )


def _age_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No findings open in scope."
    worst = widgets.count_where(rows, severity=WORST)
    old = widgets.count_where(rows, age="over_180")
    return (
        f"{widgets.plural(total, 'finding')} open, {worst:,} {SEVERITY_LABELS[WORST].lower()} severity; "
        f"{old:,} open more than 180 days."
    )


FINDINGS_BY_AGE = Widget(
    key="findings-by-age",
    page=widgets.OVERVIEW,
    title="Open findings by age",
    order=40,
    records=findings_by_age,
    dimensions=(AGE, SEVERITY),
    caption=_age_caption,
    record_columns=FINDING_COLUMNS,
    record_link=finding_link,
    visible=access.reads_firm_dashboards,
    noun="findings",
    description="Validation findings neither closed nor risk-accepted, by days since they were raised, stacked by "
    "severity.",
    order_records=("raised_at", "id"),
)


# --- Findings past their remediation date ----------------------------------------------------------------------

PAST_DUE_BUCKETS = (
    ("1_30", "1-30 days past due"),
    ("31_90", "31-90 days past due"),
    ("over_90", "Over 90 days past due"),
)
PAST_DUE = Dimension(
    "past_due", "Past due by", dict(PAST_DUE_BUCKETS).get, tuple(code for code, _label in PAST_DUE_BUCKETS)
)


def findings_past_due(user, filters):
    """Open findings whose remediation due date is before the page's day, by how many days it has passed."""
    day = filters.as_of
    return (
        open_findings(user, filters)
        .filter(due_date__lt=day)
        .annotate(
            past_due=Case(
                When(due_date__gte=day - dt.timedelta(days=30), then=Value("1_30")),
                When(due_date__gte=day - dt.timedelta(days=90), then=Value("31_90")),
                default=Value("over_90"),
                output_field=CharField(),
            )
        )
    )


def _past_due_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No open finding is past its remediation date."
    worst = widgets.count_where(rows, severity=WORST)
    long_past = widgets.count_where(rows, past_due="over_90")
    return (
        f"{widgets.plural(total, 'open finding')} {'is' if total == 1 else 'are'} past the remediation due date, "
        f"{worst:,} of them {SEVERITY_LABELS[WORST].lower()} severity; {long_past:,} by more than 90 days."
    )


FINDINGS_PAST_DUE = Widget(
    key="findings-past-due",
    page=widgets.OVERVIEW,
    title="Findings past their remediation date",
    order=50,
    records=findings_past_due,
    dimensions=(PAST_DUE, SEVERITY),
    caption=_past_due_caption,
    record_columns=FINDING_COLUMNS,
    record_link=finding_link,
    visible=access.reads_firm_dashboards,
    noun="findings",
    description="Open findings whose remediation due date has passed, by how long ago, stacked by severity.",
    order_records=("due_date", "id"),
)


# --- Risk acceptances by when they fall to be reviewed ------------------------------------------------------------

EXPIRY_BUCKETS = (
    ("expired", "Expired"),
    ("within_30", "Within 30 days"),
    ("in_31_60", "In 31-60 days"),
    ("in_61_90", "In 61-90 days"),
    ("later", "Later"),
    ("none", "No revalidation date"),
)
EXPIRY = Dimension("expiry", "Expires", dict(EXPIRY_BUCKETS).get, tuple(code for code, _label in EXPIRY_BUCKETS))


def risk_acceptances(user, filters):
    """Findings whose risk compliance accepted (a signed acceptance) by the page's day, of models not retired then;
    accepted in the page's period when it names one.

    An acceptance records no end of its own: it stands until the model is next validated, when the validator must
    weigh the accepted finding again, so it expires on the model's next validation due date (as it stood)."""
    day = filters.as_of
    due = f"then_{MODEL.replace('__', '_')}next_validation_due"  # read by the record columns in place of the field
    return (
        findings_in_scope(user, filters)
        .filter(filters.period_q("closed_at"), status=Finding.Status.RISK_ACCEPTED, closed_at__date__lte=day)
        .annotate(
            then_model_status=filters.model_value("status", MODEL),
            **{due: filters.model_value("next_validation_due", MODEL)},
        )
        .exclude(then_model_status=LifecycleStatus.RETIRED)
        .annotate(
            expiry=Case(
                When(**{f"{due}__isnull": True}, then=Value("none")),
                When(**{f"{due}__lt": day}, then=Value("expired")),
                When(**{f"{due}__lte": day + dt.timedelta(days=30)}, then=Value("within_30")),
                When(**{f"{due}__lte": day + dt.timedelta(days=60)}, then=Value("in_31_60")),
                When(**{f"{due}__lte": day + dt.timedelta(days=90)}, then=Value("in_61_90")),
                default=Value("later"),
                output_field=CharField(),
            )
        )
    )


def _expiry_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No risk acceptances in scope."
    soon = widgets.count_where(rows, expiry="within_30")
    expired = widgets.count_where(rows, expiry="expired")
    return (
        f"{widgets.plural(soon, 'risk acceptance')} {'expires' if soon == 1 else 'expire'} within 30 days; "
        f"{expired:,} {'has' if expired == 1 else 'have'} expired."
    )


RISK_ACCEPTANCES_EXPIRING = Widget(
    key="risk-acceptances-expiring",
    page=widgets.OVERVIEW,
    title="Risk acceptances expiring",
    order=60,
    records=risk_acceptances,
    dimensions=(EXPIRY,),
    caption=_expiry_caption,
    record_columns=(
        *FINDING_COLUMNS,
        RecordColumn("closed_at", "Accepted", _moment_day),
        RecordColumn(f"{MODEL}next_validation_due", "Expires", _day),
    ),
    record_link=finding_link,
    visible=access.reads_firm_dashboards,
    chart="hbar",
    noun="risk acceptances",
    description="Findings whose risk compliance accepted, by when the acceptance expires: the model's next "
    "validation, when the finding must be weighed again.",
    order_records=(f"{MODEL}next_validation_due", "id"),
)


# --- An owner's or developer's own open findings ---------------------------------------------------------------

DUE_STATE = Dimension(
    "due_state",
    "Remediation",
    {"past_due": "Past its due date", "due_30": "Due within 30 days", "later": "Due later"}.get,
    ("past_due", "due_30", "later"),
    tones=("bad", "caution", "good"),
)


def my_open_findings(user, filters):
    """Open findings on the models the reader owns or builds, or that they were given to remediate."""
    day = filters.as_of
    mine = inventory_access.own_models_q(user, MODEL) | Q(owner=user)
    return (
        open_findings(user, filters)
        .filter(pk__in=Finding.objects.filter(mine).values("pk"))
        .annotate(
            due_state=Case(
                When(due_date__lt=day, then=Value("past_due")),
                When(due_date__lte=day + dt.timedelta(days=30), then=Value("due_30")),
                default=Value("later"),
                output_field=CharField(),
            )
        )
    )


def _my_findings_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No open finding on your models."
    past = widgets.count_where(rows, due_state="past_due")
    worst = widgets.count_where(rows, severity=WORST)
    return (
        f"{widgets.plural(total, 'open finding')} on your models, {worst:,} of {SEVERITY_LABELS[WORST].lower()} "
        f"severity; {past:,} past {'its' if past == 1 else 'their'} due date."
    )


MY_OPEN_FINDINGS = Widget(
    key="my-open-findings",
    page=widgets.MINE,
    title="Open findings on your models",
    order=40,
    records=my_open_findings,
    dimensions=(SEVERITY, DUE_STATE),
    caption=_my_findings_caption,
    record_columns=FINDING_COLUMNS,
    record_link=finding_link,
    visible=inventory_access.sees_own_models_dashboard,
    noun="findings",
    description="Open findings on the models you own or build, or given to you to remediate, by severity and due date.",
    order_records=("due_date", "pk"),
    link_fields=("pk",),
)


# The key risk indicator read from the past-due widget: findings of the worst severity left past their due date.
WORST_PAST_DUE = indicators.Indicator(
    key="worst-findings-past-due",
    label=f"{SEVERITY_LABELS[WORST]}-severity findings past due",
    widget=FINDINGS_PAST_DUE.key,
    cells=({"severity": WORST},),
    amber=1,
    red=3,
    description="Open findings of the worst severity whose remediation due date has passed.",
)


def register() -> None:
    for widget in (FINDINGS_BY_AGE, FINDINGS_PAST_DUE, RISK_ACCEPTANCES_EXPIRING, MY_OPEN_FINDINGS):
        widgets.register(widget)
    indicators.register(WORST_PAST_DUE)
