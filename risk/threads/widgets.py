"""Challenge as evidence on the model risk overview (issue 24): the threads validators opened on the models in
scope, by validator, and whether each led to a change, with the median hours to resolution.

A challenge "led to a change" when, between its opening and its resolution (or the page's moment while it is open),
the model got a finding, a validation run, a new version or a change of its use restrictions, or when an incident or
a finding was raised from the thread. The same rule as the model page's figures (selectors.challenge_figures), here
in SQL so the chart, table, CSV, API and drill-down share one queryset.
"""

from django.db.models import Case, CharField, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from governance.core import access, widgets
from governance.core.elapsed import HOUR, Elapsed
from governance.core.models import AuditEvent
from governance.core.widgets import Dimension, Measure, RecordColumn, Widget
from models_registry.models import ModelVersion
from risk.threads.models import Thread
from risk.validation.models import Finding, ValidationRun

OUTCOMES = ("changed", "no change", "open")
OUTCOME_LABELS = {"changed": "Led to a change", "no change": "Resolved, no change", "open": "Still open"}


def _within(field: str) -> dict:
    return {f"{field}__gte": OuterRef("opened_at"), f"{field}__lte": OuterRef("end_at")}


def challenges(user, filters):
    """Threads a validator opened, in the period, on the models the filters choose, as they stood at the moment."""
    moment = filters.moment
    now = moment or timezone.now()
    threads = access.restrict(Thread.objects.filter(challenge=True), user)
    threads = filters.narrow(threads, "model__").filter(filters.period_q("opened_at"), opened_at__lte=now)
    resolved = Q(resolved_at__isnull=False, resolved_at__lte=now)
    model = OuterRef("model")
    changed = (
        Exists(Finding.objects.filter(version__model=model, **_within("raised_at")))
        | Exists(ValidationRun.objects.filter(version__model=model, **_within("created_at")))
        | Exists(ModelVersion.objects.filter(model=model, **_within("created_at")))
        | Exists(
            AuditEvent.objects.filter(
                object_type="models_registry.model",
                object_id=Cast(OuterRef("model_id"), CharField()),
                action="model.update",
                changes__has_key="use_restrictions",
                **_within("timestamp"),
            )
        )
        | Q(finding__raised_at__lte=now)
        | Q(incident__opened_at__lte=now)
    )
    return threads.annotate(
        end_at=Case(When(resolved, then=F("resolved_at")), default=Value(now)),
        validator=F("opened_by__username"),
        hours_to_resolve=Case(When(resolved, then=Elapsed(F("opened_at"), F("resolved_at"), unit=HOUR, places=1))),
    ).annotate(
        outcome=Case(
            When(changed, then=Value("changed")), When(resolved, then=Value("no change")), default=Value("open")
        )
    )


def _caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No validator opened a thread on the models in scope."
    led = widgets.count_where(rows, outcome="changed")
    return f"{widgets.plural(total, 'challenge')} by validators; {led:,} led to a change."


def _hours(value) -> str:
    return "" if value is None else f"{value:,.1f} h"


CHALLENGE = Widget(
    key="validator-challenge",
    page=widgets.OVERVIEW,
    title="Challenge by validators",
    order=90,
    records=challenges,
    dimensions=(
        Dimension("validator", "Validator"),
        Dimension("outcome", "Outcome", lambda code: OUTCOME_LABELS.get(code, code), OUTCOMES),
    ),
    caption=_caption,
    record_columns=(
        RecordColumn("pk", "Thread", lambda pk: f"TH-{pk:05d}"),
        RecordColumn("title", "Title"),
        RecordColumn("model__key", "Model"),
        RecordColumn("validator", "Validator"),
        RecordColumn("opened_at", "Opened", lambda at: "" if at is None else f"{at:%Y-%m-%d %H:%M} UTC"),
        RecordColumn("outcome", "Outcome", lambda code: OUTCOME_LABELS.get(code, code)),
        RecordColumn("hours_to_resolve", "Hours to resolve", _hours),
    ),
    record_link=lambda record: reverse("threads:detail", args=[record["pk"]]),
    visible=access.reads_firm_dashboards,
    chart="hbar",
    noun="challenges",
    description=(
        "Threads a validator opened on the models in scope in the period, by validator: those that led to a change "
        "(a finding, a restriction of use, a new validation run or version while open, or an incident or finding "
        "raised from the thread), those resolved without one, and those still open; with the median hours from "
        "opening to resolution."
    ),
    order_records=("opened_at", "pk"),
    measures=(Measure("resolve_median", "Median hours to resolve", "hours_to_resolve"),),
)


def register() -> None:
    widgets.register(CHALLENGE)
