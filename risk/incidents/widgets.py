"""The incident log's dashboard widgets (issue 22, "Incidents and controls"): what is open and how bad, how fast
incidents are detected, mitigated and closed, and what sets them off.

Each counts incidents through the access registry (`access.restrict`: an incident is seen with its model), narrowed
by the page's model filters and, for events, its time range. Durations are computed in the database from the
timestamps Vigil keeps:

- opened: `Incident.opened_at`; closed: `Incident.closed_at`;
- mitigated: the first timeline entry that moved the status to "mitigated" (an incident closed without ever being
  marked mitigated counts as mitigated when it closed);
- started: Vigil records no start of the problem itself. For an incident a monitor opened, the first breaching
  result's slot (the schedule tick whose data breached) is the earliest evidence, and the time to detect runs from
  it; an incident a person reported has no recorded start, so no time to detect.
"""

from django.db.models import (
    Case,
    CharField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse

from governance.core import access, history, widgets
from governance.core.elapsed import HOUR, Elapsed
from governance.core.widgets import Dimension, Measure, RecordColumn, Widget
from risk.incidents.models import Incident, IncidentEntry
from risk.incidents.services import OPEN_STATUSES
from risk.monitoring.models import Monitor, MonitorResult

SEVERITIES = tuple(Incident.Severity.values)  # critical first
SEVERITY_LABELS = dict(Incident.Severity.choices)
STATUS_LABELS = dict(Incident.Status.choices)
DETECTION_LABELS = dict(Incident.Detection.choices)


class DaysSince(Func):
    """Whole UTC days from a date-time's day to a date (the page's day)."""

    arity = 2
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        (start, start_params), (day, day_params) = (compiler.compile(e) for e in self.get_source_expressions())
        if connection.vendor == "postgresql":
            sql = f"(CAST({day} AS date) - CAST(({start} AT TIME ZONE 'UTC') AS date))"
        else:
            sql = f"CAST(julianday({day}) - julianday(date({start})) AS INTEGER)"
        return sql, (*day_params, *start_params)


def severity_label(code) -> str:
    return SEVERITY_LABELS.get(code, code)


def status_label(code) -> str:
    return STATUS_LABELS.get(code, code)


def incidents_in_scope(user, filters):
    """The incidents `user` may see opened by the page's moment, of the models the filters choose as they stood
    then, each with its status and severity as they stood (`then_<field>`, read in place of the fields): both are
    audited as codes on every change (risk/incidents/services.py)."""
    incidents = filters.narrow(Incident.objects.filter(history.existed_at(filters.moment, "opened_at")), "model__")
    return access.restrict(incidents, user).annotate(
        then_status=history.value_at(Incident, "status", filters.moment),
        then_severity=history.value_at(Incident, "severity", filters.moment),
    )


def _day(moment) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _days(value) -> str:
    return "" if value is None else f"{value:,}"


def _hours(value) -> str:
    return "" if value is None else f"{value:,.1f} h"


INCIDENT_COLUMNS = (
    RecordColumn("pk", "Incident", lambda pk: f"INC-{pk:05d}"),
    RecordColumn("title", "Title"),
    RecordColumn("model__key", "Model"),
    RecordColumn("severity", "Severity", severity_label),
    RecordColumn("status", "Status", status_label),
    RecordColumn("opened_at", "Opened", _day),
)


def incident_link(record: dict) -> str:
    return reverse("incidents:detail", args=[record["pk"]])


SEVERITY = Dimension("severity", "Severity", severity_label, SEVERITIES, tones=("worst", "bad", "caution", "mild"))


# --- Open incidents by severity and status -------------------------------------------------------------------


def open_incidents(user, filters):
    """Incidents not closed, opened by the page's day, each with its age in days."""
    return (
        incidents_in_scope(user, filters)
        .filter(then_status__in=OPEN_STATUSES, opened_at__date__lte=filters.as_of)
        .annotate(age_days=DaysSince(F("opened_at"), Value(filters.as_of)))
    )


def _open_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No incident open in scope."
    critical = widgets.count_where(rows, severity=Incident.Severity.CRITICAL)
    oldest = max(row["oldest_days"] for row in rows if row["count"])
    verb = "is" if total == 1 else "are"
    of_them = "it" if total == 1 else "of them"
    return (
        f"{widgets.plural(total, 'incident')} {verb} open, {critical:,} {of_them} critical; "
        f"the oldest opened {widgets.plural(oldest, 'day')} ago."
    )


OPEN_INCIDENTS = Widget(
    key="open-incidents",
    page=widgets.INCIDENTS,
    title="Open incidents by severity",
    order=10,
    records=open_incidents,
    dimensions=(SEVERITY, Dimension("status", "Status", status_label, tuple(OPEN_STATUSES))),
    caption=_open_caption,
    record_columns=(*INCIDENT_COLUMNS, RecordColumn("age_days", "Days open")),
    record_link=incident_link,
    visible=access.reads_firm_dashboards,
    noun="incidents",
    description=(
        "Incidents not yet closed on the models in scope, by severity, stacked by where they stand "
        "(open, investigating, mitigated); with how many days the oldest of each has been open."
    ),
    order_records=("opened_at", "pk"),
    measures=(Measure("oldest_days", "Oldest (days open)", "age_days", "max", _days),),
)


# --- Time to detect, mitigate and close -----------------------------------------------------------------------

MITIGATED_ENTRY = f"→ {Incident.Status.MITIGATED.label}"  # the text incident_update writes for the change


def closed_incidents(user, filters):
    """Incidents closed in the time range, each with its hours to detect, to mitigate and to close."""
    first_breach = MonitorResult.objects.filter(incidents=OuterRef("pk")).order_by("slot").values("slot")[:1]
    mitigated = (
        IncidentEntry.objects.filter(
            incident=OuterRef("pk"), kind=IncidentEntry.Kind.STATUS, text__endswith=MITIGATED_ENTRY
        )
        .order_by("at")
        .values("at")[:1]
    )
    return (
        incidents_in_scope(user, filters)
        .filter(filters.period_q("closed_at"), then_status=Incident.Status.CLOSED, closed_at__date__lte=filters.as_of)
        .annotate(
            hours_to_detect=Elapsed(Subquery(first_breach), F("opened_at"), unit=HOUR),
            hours_to_mitigate=Elapsed(F("opened_at"), Coalesce(Subquery(mitigated), F("closed_at")), unit=HOUR),
            hours_to_close=Elapsed(F("opened_at"), F("closed_at"), unit=HOUR),
        )
    )


def _times_caption(rows, filters) -> str:
    closed = [row for row in rows if row["count"]]
    if not closed:
        return "No incident closed in the period in scope."
    row = closed[0]  # the most severe with any closed
    return (
        f"{severity_label(row['severity'])} incidents closed in a median {_figure(row['close_median'])} hours "
        f"(90th percentile {_figure(row['close_p90'])})."
    )


def _figure(hours) -> str:
    return f"{hours:,.1f}".removesuffix(".0")


INCIDENT_TIMES = Widget(
    key="incident-times",
    page=widgets.INCIDENTS,
    title="Time to detect, mitigate and close",
    order=20,
    records=closed_incidents,
    dimensions=(SEVERITY,),
    caption=_times_caption,
    record_columns=(
        *INCIDENT_COLUMNS,
        RecordColumn("closed_at", "Closed", _day),
        RecordColumn("hours_to_detect", "Hours to detect", _hours),
        RecordColumn("hours_to_mitigate", "Hours to mitigate", _hours),
        RecordColumn("hours_to_close", "Hours to close", _hours),
    ),
    record_link=incident_link,
    visible=access.reads_firm_dashboards,
    noun="incidents closed",
    description=(
        "Incidents closed in the period, by severity, with median hours from opening to mitigation (the first "
        "change of status to mitigated, or the closing if it never was) and to closing. Vigil does not record when "
        "a problem began: the time to detect runs from the first breaching monitor result to the opening, so only "
        "incidents a monitor opened have one; those reported by people do not."
    ),
    order_records=("severity", "closed_at", "pk"),
    measures=(
        Measure("detect_median", "Median hours to detect", "hours_to_detect"),
        Measure("mitigate_median", "Median hours to mitigate", "hours_to_mitigate"),
        Measure("close_median", "Median hours to close", "hours_to_close"),
        Measure("close_p90", "90th percentile hours to close", "hours_to_close", "p90"),
    ),
    chart_value="close_median",
)


# --- Incidents by cause ---------------------------------------------------------------------------------------

PERSON = "person"
CAUSES = (*Monitor.Kind.values, PERSON)
CAUSE_LABELS = {
    **{code: f"{label} monitor breach" for code, label in Monitor.Kind.choices},
    PERSON: "Reported by a person",
}


def incidents_by_cause(user, filters):
    """Incidents opened in the time range, each with what set it off: its monitor's kind, or a person's report."""
    return (
        incidents_in_scope(user, filters)
        .filter(filters.period_q("opened_at"), opened_at__date__lte=filters.as_of)
        .annotate(
            cause=Case(
                When(monitor__isnull=False, then=F("monitor__kind")),
                default=Value(PERSON),
                output_field=CharField(),
            )
        )
    )


def _causes_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No incident opened in the period in scope."
    by_people = widgets.count_where(rows, cause=PERSON)
    top = max((row for row in rows if row["cause"] != PERSON), key=lambda row: row["count"], default=None)
    monitors = total - by_people
    text = f"{widgets.plural(total, 'incident')} opened: {monitors:,} by a monitor's breach, {by_people:,} by people"
    if top is not None and top["count"]:
        kind = dict(Monitor.Kind.choices)[top["cause"]].lower()
        text += f"; {kind} monitors opened the most ({top['count']:,})"
    return text + "."


INCIDENT_CAUSES = Widget(
    key="incident-causes",
    page=widgets.INCIDENTS,
    title="Incidents by cause",
    order=30,
    records=incidents_by_cause,
    dimensions=(Dimension("cause", "Cause", lambda code: CAUSE_LABELS.get(code, code), CAUSES),),
    caption=_causes_caption,
    record_columns=(*INCIDENT_COLUMNS, RecordColumn("detected_by", "Detected by", DETECTION_LABELS.get)),
    record_link=incident_link,
    visible=access.reads_firm_dashboards,
    chart="hbar",
    noun="incidents",
    description=(
        "Incidents opened in the period by what set them off: the kind of monitor whose breach opened them, or a "
        "person's report (Vigil keeps no other category of cause; the root cause is free text written at closing)."
    ),
    order_records=("opened_at", "pk"),
)


def register() -> None:
    for widget in (OPEN_INCIDENTS, INCIDENT_TIMES, INCIDENT_CAUSES):
        widgets.register(widget)
