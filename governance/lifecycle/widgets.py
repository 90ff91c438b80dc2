"""The lifecycle's dashboard widgets (issue 22): how long versions wait in each stage, how long they take from
submission to production, whether the yearly attestations are signed on time; and, for a validator, their own work.

Every widget counts records through the access registry (the versions and models a person may see), narrowed by the
page's filters. Durations come from the transitions Vigil records (`VersionTransition`): a stay in a stage is ended
by a transition out of it and began at the latest earlier transition into it (or, for the first stage, when the
version was registered; the `StageStay` view finds it), computed in the database as a number of days, the same on
PostgreSQL and SQLite.
"""

import datetime as dt
from dataclasses import dataclass, replace

from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    F,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Trim
from django.urls import reverse

from governance.core import access, history, widgets
from governance.core.elapsed import DAY, Elapsed
from governance.core.widgets import Dimension, Measure, RecordColumn, Widget
from governance.lifecycle import access as lifecycle_access
from governance.lifecycle.models import Attestation, StageStay, VersionTransition
from models_registry.choices import LifecycleStatus as S
from models_registry.choices import RiskTier
from models_registry.models import Model, ModelVersion
from risk.validation.models import ValidationRun

STATUS_LABELS = dict(S.choices)
TIERS = tuple(RiskTier.values)


def days_shown(value) -> str:
    """A number of days as people read it: "12", "3.5"; empty where there is none."""
    if value is None:
        return ""
    return f"{value:,.1f}".removesuffix(".0")


def tier_label(tier) -> str:
    return f"Tier {tier}"


def person_name(prefix: str):
    """A person's full name, or their username when they have none (as `display.person` shows them)."""
    full = Trim(Concat(F(f"{prefix}first_name"), Value(" "), F(f"{prefix}last_name"), output_field=CharField()))
    return Coalesce(NullIf(full, Value("")), F(f"{prefix}username"), output_field=CharField())


def version_link(record: dict) -> str:
    return reverse("models_registry:version-detail", args=[record["model_key"], record["version_label"]])


def visible_versions(user, filters):
    """The versions `user` may see that existed at the page's moment, narrowed by the page's model filters (as the
    models stood then), each with the model's desk and tier as they stood (`then_model_...`, read by the record
    columns in place of the fields)."""
    versions = filters.narrow(ModelVersion.objects.filter(history.existed_at(filters.moment)), "model__")
    return access.restrict(versions, user).annotate(
        then_model_desk_name=filters.model_value("desk", "model__"),
        then_model_risk_tier=filters.model_value("risk_tier", "model__"),
    )


def transitions_by(filters):
    """The lifecycle's recorded steps made by the page's moment (every one today)."""
    return VersionTransition.objects.filter(history.recorded_by(filters.moment, "at"))


class Rows(list):
    """A widget's rows, carrying the measures over all of them for the caption (`overall`)."""

    overall: dict


@dataclass(frozen=True)
class OverallWidget(Widget):
    """A widget whose caption gives its measures across every group (the median of all, not of the medians): the
    same widget without dimensions counts all its records as one group."""

    def rows(self, user, filters):
        rows = Rows(super().rows(user, filters))
        everything = Widget.rows(replace(self, dimensions=()), user, filters)
        rows.overall = everything[0] if everything else {}
        return rows


MEDIAN_DAYS = Measure("median_days", "Median days", "days", "median", days_shown)
P90_DAYS = Measure("p90_days", "90th percentile, days", "days", "p90", days_shown)
VERSION_COLUMNS = (
    RecordColumn("model_key", "Model"),
    RecordColumn("version_label", "Version"),
    RecordColumn("model__name", "Name"),
    RecordColumn("model__desk__name", "Desk"),
    RecordColumn("model__risk_tier", "Tier", tier_label),
)


# --- Time in each lifecycle stage ----------------------------------------------------------------------------

# The stages a version may leave, in lifecycle order (a retired version stays retired).
STAGES = (
    S.DRAFT,
    S.SUBMITTED,
    S.IN_VALIDATION,
    S.VALIDATED,
    S.VALIDATED_WITH_CONDITIONS,
    S.REJECTED,
    S.APPROVED,
    S.PILOT,
    S.PRODUCTION,
    S.SUSPENDED,
)
STAGE_PHRASES = {
    S.DRAFT: "in draft",
    S.SUBMITTED: "submitted, waiting for validation to start",
    S.IN_VALIDATION: "in validation",
    S.VALIDATED: "validated, waiting for approval",
    S.VALIDATED_WITH_CONDITIONS: "validated with conditions, waiting for approval",
    S.REJECTED: "rejected",
    S.APPROVED: "approved, waiting for the pilot",
    S.PILOT: "in pilot",
    S.PRODUCTION: "in production",
    S.SUSPENDED: "suspended",
}
STAGE = Dimension("stage", "Stage", lambda code: STATUS_LABELS.get(code, code), tuple(str(s) for s in STAGES))


def stage_stays(user, filters):
    """Each stay of a version in a stage that ended (in the time range, by its end): the transition that ended it
    (the `StageStay` view, which finds when the stay began), with the stage, when the stay began (the version's
    registration for the first stage) and its length in days. A stay ended by the page's moment began before it."""
    began = Coalesce(F("entered_at"), F("version__created_at"), output_field=DateTimeField())
    return (
        StageStay.objects.filter(history.recorded_by(filters.moment, "at"))
        .filter(version__in=visible_versions(user, filters).values("pk"))
        .filter(filters.period_q("at"))
        .annotate(
            stage=F("from_status"),
            began=began,
            days=Elapsed(began, F("at"), unit=DAY),
            model_key=F("version__model__key"),
            version_label=F("version__version"),
        )
    )


def _stage_caption(rows, filters) -> str:
    measured = [row for row in rows if row["count"] and row["median_days"] is not None]
    if not measured:
        return "No version left a lifecycle stage in this period."
    longest = max(measured, key=lambda row: (row["median_days"], row["p90_days"]))
    return (
        f"Versions spend longest {STAGE_PHRASES.get(longest['stage'], longest['stage'])}: "
        f"median {days_shown(longest['median_days'])} days, 90th percentile {days_shown(longest['p90_days'])}."
    )


TIME_IN_STAGE = Widget(
    key="time-in-stage",
    page=widgets.OVERVIEW,
    title="Time in each lifecycle stage",
    order=40,
    records=stage_stays,
    dimensions=(STAGE,),
    caption=_stage_caption,
    record_columns=(
        RecordColumn("model_key", "Model"),
        RecordColumn("version_label", "Version"),
        RecordColumn("stage", "Stage", lambda code: STATUS_LABELS.get(code, code)),
        RecordColumn("began", "Entered", lambda moment: f"{moment:%Y-%m-%d %H:%M} UTC" if moment else ""),
        RecordColumn("at", "Left", lambda moment: f"{moment:%Y-%m-%d %H:%M} UTC"),
        RecordColumn("days", "Days", days_shown),
    ),
    record_link=version_link,
    visible=access.reads_firm_dashboards,
    chart="hbar",
    noun="stays",
    description="How long versions stayed in each stage they left (in the time range, by the day they left it): "
    "the median and the 90th percentile in days, from the lifecycle's recorded transitions.",
    order_records=("at", "pk"),
    measures=(MEDIAN_DAYS, P90_DAYS),
    chart_value="median_days",
)


# --- From submission to production --------------------------------------------------------------------------

TIER = Dimension("risk_tier", "Tier", tier_label, TIERS)


def _first_step(filters, **lookup):
    """When a version first made the step `lookup` describes, by the page's moment (a Subquery over its
    transitions)."""
    steps = transitions_by(filters).filter(version=OuterRef("pk"), **lookup).order_by("at", "pk")
    return Subquery(steps.values("at")[:1], output_field=DateTimeField())


def versions_in_production(user, filters):
    """Versions that reached production (in the time range, by that day), each with the days from its first
    submission for validation to its first step into production."""
    submitted = _first_step(filters, to_status=S.SUBMITTED)
    produced = _first_step(filters, to_status=S.PRODUCTION)
    return (
        visible_versions(user, filters)
        .annotate(submitted_at=submitted, production_at=produced)
        .filter(submitted_at__isnull=False, production_at__isnull=False)
        .filter(filters.period_q("production_at"))
        .annotate(
            days=Elapsed(F("submitted_at"), F("production_at"), unit=DAY),
            risk_tier=F("then_model_risk_tier"),
            model_key=F("model__key"),
            version_label=F("version"),
        )
    )


def _cycle_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No version reached production in this period."
    overall = getattr(rows, "overall", {})
    return (
        f"{widgets.plural(total, 'version')} reached production, a median of "
        f"{days_shown(overall.get('median_days'))} days after submission; 90th percentile "
        f"{days_shown(overall.get('p90_days'))}."
    )


CYCLE_TIME = OverallWidget(
    key="cycle-time",
    page=widgets.OVERVIEW,
    title="From submission to production",
    order=45,
    records=versions_in_production,
    dimensions=(TIER,),
    caption=_cycle_caption,
    record_columns=(
        *VERSION_COLUMNS,
        RecordColumn("submitted_at", "Submitted", lambda moment: f"{moment:%Y-%m-%d}"),
        RecordColumn("production_at", "In production", lambda moment: f"{moment:%Y-%m-%d}"),
        RecordColumn("days", "Days", days_shown),
    ),
    record_link=version_link,
    visible=access.reads_firm_dashboards,
    noun="versions",
    description="Versions that reached production (in the time range, by that day), by tier: the days from their "
    "submission for validation to production, median and 90th percentile.",
    order_records=("production_at", "pk"),
    measures=(MEDIAN_DAYS, P90_DAYS),
    chart_value="median_days",
)


# --- Yearly attestations -------------------------------------------------------------------------------------

ON_TIME, LATE, OVERDUE, NOT_DUE = "on_time", "late", "overdue", "not_due"
OUTCOMES = (
    (ON_TIME, "Completed on time"),
    (LATE, "Completed late"),
    (OVERDUE, "Overdue"),
    (NOT_DUE, "Not yet due"),
)
ATTESTATION_OUTCOME = Dimension(
    "outcome",
    "Outcome",
    dict(OUTCOMES).get,
    tuple(code for code, _label in OUTCOMES),
    tones=("good", "caution", "bad", "pending"),
)


def attestations_due(user, filters):
    """Attestations of the models `user` may see due in the time range (all when none), opened by the page's moment,
    each with its outcome against the page's day: a signature made after the moment was not there yet."""
    models = access.restrict(filters.narrow(Model.objects.all()), user)
    due = Q()
    if filters.since:
        due &= Q(due_date__gte=filters.since)
    if filters.until:
        due &= Q(due_date__lte=filters.until)
    signed = Q(signature__isnull=False) & history.recorded_by(filters.moment, "signature__signed_at")
    return (
        Attestation.objects.filter(due, history.existed_at(filters.moment, "opened_at"), model__in=models)
        .annotate(
            then_signature_signed_at=Case(
                When(signed, then=F("signature__signed_at")), default=None, output_field=DateTimeField()
            )
        )
        .annotate(
            outcome=Case(
                When(then_signature_signed_at__date__lte=F("due_date"), then=Value(ON_TIME)),
                When(then_signature_signed_at__isnull=False, then=Value(LATE)),
                When(due_date__lt=filters.as_of, then=Value(OVERDUE)),
                default=Value(NOT_DUE),
                output_field=CharField(),
            ),
            owner_name=person_name("owner__"),
            model_key=F("model__key"),
        )
    )


def _period_words(filters) -> str:
    if filters.since and filters.until:
        return f"due from {filters.since} to {filters.until}"
    if filters.since:
        return f"due since {filters.since}"
    if filters.until:
        return f"due by {filters.until}"
    return "on record"


def _attestation_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return f"No attestations {_period_words(filters)}."
    late = widgets.count_where(rows, outcome=LATE)
    completed = widgets.count_where(rows, outcome=ON_TIME) + late
    overdue = widgets.count_where(rows, outcome=OVERDUE)
    return (
        f"{completed:,} of {widgets.plural(total, 'attestation')} {_period_words(filters)} "
        f"{'was' if completed == 1 else 'were'} completed, {late:,} late; "
        f"{overdue:,} {'is' if overdue == 1 else 'are'} overdue."
    )


def attestation_link(record: dict) -> str:
    return reverse("models_registry:model-detail", args=[record["model_key"]]) + "?section=attestations"


ATTESTATIONS = Widget(
    key="attestations",
    page=widgets.OVERVIEW,
    title="Yearly attestations",
    order=50,
    records=attestations_due,
    dimensions=(ATTESTATION_OUTCOME,),
    caption=_attestation_caption,
    record_columns=(
        RecordColumn("model_key", "Model"),
        RecordColumn("model__name", "Name"),
        RecordColumn("year", "Year"),
        RecordColumn("owner_name", "Owner"),
        RecordColumn("due_date", "Due", lambda day: day.isoformat()),
        RecordColumn("signature__signed_at", "Signed", lambda moment: f"{moment:%Y-%m-%d}" if moment else "not signed"),
    ),
    record_link=attestation_link,
    visible=access.reads_firm_dashboards,
    noun="attestations",
    description="The yearly attestations of production models due in the time range (all when none), by whether "
    "their owner signed them by the due date.",
    order_records=("due_date", "model__key"),
)


# --- My validations (a validator's own work) -----------------------------------------------------------------

AWAITING_VALIDATOR = (S.SUBMITTED, S.IN_VALIDATION)
DUE_BUCKETS = (
    ("overdue", "Overdue"),
    ("due_30", "Due within 30 days"),
    ("later", "Due later"),
    ("none", "No date set"),
)
DUE = Dimension(
    "due",
    "Validation due",
    dict(DUE_BUCKETS).get,
    tuple(code for code, _label in DUE_BUCKETS),
    tones=("bad", "caution", "good", "missing"),
)


def my_assignments(user, filters):
    """Versions of the models `user` is the validator of that await their validation (submitted, or in validation),
    each in the bucket of the model's validation due date against the page's day (as the work queue dates them);
    the version's status and the model's due date as they stood at the page's moment."""
    day = filters.as_of
    return (
        visible_versions(user, filters)
        .filter(model__validator=user)
        .annotate(
            then_status=history.value_at(ModelVersion, "status", filters.moment),
            then_model_next_validation_due=filters.model_value("next_validation_due", "model__"),
        )
        .filter(then_status__in=AWAITING_VALIDATOR)
        .annotate(
            due=Case(
                When(then_model_next_validation_due__isnull=True, then=Value("none")),
                When(then_model_next_validation_due__lt=day, then=Value("overdue")),
                When(then_model_next_validation_due__lte=day + dt.timedelta(days=30), then=Value("due_30")),
                default=Value("later"),
                output_field=CharField(),
            ),
            model_key=F("model__key"),
            version_label=F("version"),
        )
    )


def _assignments_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "You have no validations assigned awaiting you."
    overdue = widgets.count_where(rows, due="overdue")
    return (
        f"You have {widgets.plural(total, 'validation')} assigned; {overdue:,} {'is' if overdue == 1 else 'are'} "
        "overdue."
    )


MY_ASSIGNMENTS = Widget(
    key="my-assignments",
    page=widgets.MINE,
    title="My validations",
    order=10,
    records=my_assignments,
    dimensions=(DUE,),
    caption=_assignments_caption,
    record_columns=(
        *VERSION_COLUMNS,
        RecordColumn("status", "Status", lambda code: STATUS_LABELS.get(code, code)),
        RecordColumn(
            "model__next_validation_due", "Validation due", lambda day: day.isoformat() if day else "none set"
        ),
    ),
    record_link=version_link,
    visible=lifecycle_access.sees_validator_dashboard,
    chart="hbar",
    noun="versions",
    description="Versions of the models you validate that await you (submitted, or in validation), by when their "
    "validation is due.",
    order_records=("model__next_validation_due", "model__key", "version"),
)


# --- My validation runs --------------------------------------------------------------------------------------

RUN_OUTCOMES = (
    ("passed", "Passed"),
    ("warnings", "Passed with warnings"),
    ("failed", "Failed tests"),
    ("error", "Did not complete"),
    ("in_progress", "Queued or running"),
)
RUN_OUTCOME = Dimension(
    "outcome",
    "Outcome",
    dict(RUN_OUTCOMES).get,
    tuple(code for code, _label in RUN_OUTCOMES),
    tones=("good", "caution", "bad", "worst", "pending"),
)
R = ValidationRun.Status


def my_runs(user, filters):
    """The validation runs `user` requested (in the time range, by when), each with its outcome: a finished run
    failed if any test failed, passed with warnings if any warned. A run's results are a JSON list of tests, each
    with its "outcome"; its text is searched, the same on both databases. A run writes its status and results once,
    when it finishes (risk/validation/runs.py): one not finished by the page's moment was then queued or running."""
    results = Cast("results", TextField())
    finished = Q(finished_at__isnull=False) & history.recorded_by(filters.moment, "finished_at")
    runs = filters.narrow(ValidationRun.objects.filter(history.existed_at(filters.moment)), "version__model__")
    return (
        access.restrict(runs, user)
        .filter(requested_by=user)
        .filter(filters.period_q("created_at"))
        .annotate(
            results_text=results,
            then_status=Case(
                When(finished, then=F("status")),
                When(started_at__isnull=False, started_at__lt=filters.moment, then=Value(R.RUNNING)),
                default=Value(R.QUEUED),
                output_field=CharField(),
            )
            if filters.moment
            else F("status"),
        )
        .annotate(
            outcome=Case(
                When(then_status__in=[R.QUEUED, R.RUNNING], then=Value("in_progress")),
                When(then_status=R.FAILED, then=Value("error")),
                When(results_text__contains='"outcome": "fail"', then=Value("failed")),
                When(results_text__contains='"outcome": "warn"', then=Value("warnings")),
                default=Value("passed"),
                output_field=CharField(),
            ),
            model_key=F("version__model__key"),
            version_label=F("version__version"),
        )
    )


def _runs_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "You requested no validation runs in this period."
    failed = widgets.count_where(rows, outcome="failed")
    warned = widgets.count_where(rows, outcome="warnings")
    errors = widgets.count_where(rows, outcome="error")
    return (
        f"Of your {widgets.plural(total, 'validation run')}, {failed:,} had failed tests and {warned:,} passed with "
        f"warnings; {errors:,} did not complete."
    )


def run_link(record: dict) -> str:
    return reverse("validation:run-detail", args=[record["pk"]])


MY_RUN_OUTCOMES = Widget(
    key="my-run-outcomes",
    page=widgets.MINE,
    title="My validation runs",
    order=20,
    records=my_runs,
    dimensions=(RUN_OUTCOME,),
    caption=_runs_caption,
    record_columns=(
        RecordColumn("pk", "Run"),
        RecordColumn("model_key", "Model"),
        RecordColumn("version_label", "Version"),
        RecordColumn("created_at", "Requested", lambda moment: f"{moment:%Y-%m-%d %H:%M} UTC"),
        RecordColumn("status", "Status", lambda code: dict(R.choices).get(code, code)),
    ),
    record_link=run_link,
    visible=lifecycle_access.sees_validator_dashboard,
    noun="runs",
    description="The validation runs you requested (in the time range, by when), by outcome.",
    order_records=("-created_at", "-pk"),
)


def register() -> None:
    for widget in (TIME_IN_STAGE, CYCLE_TIME, ATTESTATIONS, MY_ASSIGNMENTS, MY_RUN_OUTCOMES):
        widgets.register(widget)
