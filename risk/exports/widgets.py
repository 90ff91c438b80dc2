"""The exports' dashboard widgets (issue 22, "Incidents and controls"): what was exported this year and how it went,
and where the RTS 6 self-assessment of the year stands.

An export is seen by the person who asked for it only (risk/exports/access.py: it holds what their scope let them
see), so the exports widget counts the reader's own exports: two people see two different counts. The
self-assessments are the firm's, read by compliance, auditors and senior managers (`reads_self_assessments`).
Neither is about one model: the page's model filters do not narrow them.
"""

import datetime as dt

from django.db.models import Case, CharField, DateTimeField, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from governance.core import access, history, widgets
from governance.core.models import AuditEvent, Job
from governance.core.widgets import Dimension, RecordColumn, Widget
from risk.exports.access import reads_self_assessments
from risk.exports.models import Export, SelfAssessment

KIND_LABELS = dict(Export.Kind.choices)
QUEUED, RUNNING, SUCCEEDED, FAILED, EXPIRED = (*Job.Status.values, "expired")
STATES = (SUCCEEDED, FAILED, EXPIRED, RUNNING, QUEUED)
STATE_LABELS = {**dict(Job.Status.choices), EXPIRED: "Expired (file removed or past its keep-until)"}


def _moment(filters) -> dt.datetime:
    """The end of the page's day, or now if sooner: when an export's file counts as expired."""
    end = dt.datetime.combine(filters.as_of + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    return min(timezone.now(), end)


def _in_range(filters, field: str) -> Q:
    """The time range when the page gives one, else the page's year."""
    if filters.since or filters.until:
        return filters.period_q(field)
    return Q(**{f"{field}__year": filters.as_of.year})


def _job_state(filters):
    """The export's job's status, as it stood at the page's moment: a job records when it started and finished
    (governance/core/jobs.py), so one not finished then was running, or still queued."""
    moment = filters.moment
    if moment is None:
        return F("job__status")
    return Case(
        When(job__finished_at__lt=moment, then=F("job__status")),
        When(job__started_at__lt=moment, then=Value(RUNNING)),
        default=Value(QUEUED),
        output_field=CharField(),
    )


def exports_of_the_year(user, filters):
    """The reader's own exports asked for in the range, each with its state as the export's page tells it
    (`services.state`): expired once its file is removed or past its keep-until, else its job's status; as it
    stood at the end of the page's day when that is past."""
    moment = _moment(filters)
    return (
        access.restrict(Export.objects.filter(_in_range(filters, "created_at")), user)
        .filter(created_at__lt=moment)
        .annotate(
            state=Case(
                When(Q(purged_at__lt=moment) | Q(expires_at__lte=moment), then=Value(EXPIRED)),
                When(job__isnull=True, then=Value(QUEUED)),
                default=_job_state(filters),
                output_field=CharField(),
            )
        )
    )


def _exports_caption(rows, filters) -> str:
    total = widgets.total(rows)
    when = "in the period" if filters.since or filters.until else f"in {filters.as_of.year}"
    if not total:
        return f"You asked for no export {when}."
    failed = widgets.count_where(rows, state=FAILED)
    expired = widgets.count_where(rows, state=EXPIRED)
    return (
        f"You asked for {widgets.plural(total, 'export')} {when}: {widgets.count_where(rows, state=SUCCEEDED):,} "
        f"succeeded, {failed:,} failed, {expired:,} expired."
    )


EXPORTS_OF_THE_YEAR = Widget(
    key="exports-of-the-year",
    page=widgets.INCIDENTS,
    title="Exports of the year",
    order=60,
    records=exports_of_the_year,
    dimensions=(
        Dimension("kind", "Kind", lambda code: KIND_LABELS.get(code, code), tuple(Export.Kind.values)),
        Dimension("state", "Status", lambda code: STATE_LABELS.get(code, code), STATES),
    ),
    caption=_exports_caption,
    record_columns=(
        RecordColumn("pk", "Export", lambda pk: f"EXP-{pk:05d}"),
        RecordColumn("kind", "Kind", lambda code: KIND_LABELS.get(code, code)),
        RecordColumn("state", "Status", lambda code: STATE_LABELS.get(code, code)),
        RecordColumn("created_at", "Asked for", lambda at: f"{at:%Y-%m-%d %H:%M} UTC"),
        RecordColumn("file_name", "File"),
    ),
    record_link=lambda record: reverse("exports:detail", kwargs={"pk": record["pk"]}),
    visible=access.reads_firm_dashboards,
    noun="exports",
    description=(
        "The exports you asked for this year (or in the period), by kind and how they went. Only your own: an "
        "export is seen by the person who asked for it, so these are not the firm's totals."
    ),
    order_records=("created_at", "pk"),
)


# --- RTS 6 self-assessments -----------------------------------------------------------------------------------

PREPARED, COMPLIANCE_SIGNED, SIGNED_OFF = "prepared", "compliance_signed", "signed_off"
STAGES = (
    (PREPARED, "Prepared, awaiting compliance's signature"),
    (COMPLIANCE_SIGNED, "Signed by compliance, awaiting a senior manager"),
    (SIGNED_OFF, "Signed off by compliance and a senior manager"),
)
STAGE_LABELS = dict(STAGES)


def self_assessments(user, filters):
    """The self-assessments of the page's year (or of the years the time range touches), each with its stage; as
    they stood at the page's moment: prepared by then (a first preparation is audited; a later one moves
    `prepared_at`), signed by then."""
    first = filters.since.year if filters.since else filters.as_of.year
    last = filters.until.year if filters.until else filters.as_of.year
    moment = filters.moment
    found = access.restrict(SelfAssessment.objects.filter(year__gte=min(first, last), year__lte=last), user)
    if moment is not None:
        prepared = AuditEvent.objects.filter(
            object_type=SelfAssessment.AUDIT_TYPE,
            object_id=Cast(OuterRef("pk"), CharField()),
            action="self_assessment.prepare",
            timestamp__lt=moment,
        ).order_by("-id")
        found = found.filter(Exists(prepared)).annotate(
            then_prepared_at=Case(
                When(prepared_at__lt=moment, then=F("prepared_at")),
                default=Subquery(prepared.values("timestamp")[:1]),
                output_field=DateTimeField(),
            )
        )
    by_compliance = Q(compliance_signature__isnull=False) & history.recorded_by(
        moment, "compliance_signature__signed_at"
    )
    by_senior = Q(senior_signature__isnull=False) & history.recorded_by(moment, "senior_signature__signed_at")
    return found.annotate(
        stage=Case(
            When(~by_compliance, then=Value(PREPARED)),
            When(~by_senior, then=Value(COMPLIANCE_SIGNED)),
            default=Value(SIGNED_OFF),
            output_field=CharField(),
        )
    )


def _assessments_caption(rows, filters) -> str:
    years = (
        f"{filters.since.year}-{(filters.until or filters.as_of).year}"
        if filters.since and filters.since.year != (filters.until or filters.as_of).year
        else str((filters.until or filters.as_of).year)
    )
    total = widgets.total(rows)
    if not total:
        return f"No RTS 6 self-assessment is prepared for {years}."
    done = widgets.count_where(rows, stage=SIGNED_OFF)
    assessments = widgets.plural(total, "RTS 6 self-assessment")
    return f"{done:,} of {assessments} for {years} signed off; {total - done:,} not yet."


SELF_ASSESSMENTS = Widget(
    key="self-assessments",
    page=widgets.INCIDENTS,
    title="RTS 6 self-assessment of the year",
    order=70,
    records=self_assessments,
    dimensions=(Dimension("stage", "Stage", STAGE_LABELS.get, tuple(code for code, _label in STAGES)),),
    caption=_assessments_caption,
    record_columns=(
        RecordColumn("year", "Year"),
        RecordColumn("stage", "Stage", STAGE_LABELS.get),
        RecordColumn("prepared_at", "Prepared", lambda at: f"{at:%Y-%m-%d %H:%M} UTC"),
    ),
    record_link=lambda record: reverse("exports:self-assessment", kwargs={"year": record["year"]}),
    visible=reads_self_assessments,
    chart="hbar",
    noun="self-assessments",
    description=(
        "The RTS 6 Art. 9 self-assessment of this year (or of the years of the period) by how far its two "
        "sign-offs have gone: compliance first, then a senior manager."
    ),
    order_records=("year",),
)


def register() -> None:
    for widget in (EXPORTS_OF_THE_YEAR, SELF_ASSESSMENTS):
        widgets.register(widget)
