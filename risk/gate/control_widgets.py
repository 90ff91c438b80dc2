"""The kill switch's dashboard widgets (issue 22, "Incidents and controls"): has every algorithmic model had its kill
switch tested lately, and how often was the switch used.

Which models a kill-switch test covers, and how often: `killswitch.kill_switch_test` reads, under a rolled-back
firm-wide block, the gate's decision of every model the gate allowed (a version in pilot or production), and keeps
each model's outcome in the test's `detail`; the schedule (governance/core/schedules.py) runs it on the first Monday
of each month, so at most 35 days pass between two runs. Of those models, RTS 6 asks it of the algorithmic ones
(purpose alpha signal or execution: they decide orders; `models_registry.choices.ALGORITHMIC_PURPOSES`). A model
counts as tested by a run in which the gate blocked it because of the kill switch; a run that failed to block it
is no test of its switch.

The tests and the engagements are firm-wide records compliance and auditors read (risk/gate/access.py): the widgets
are shown to those of them who read the firm's dashboards (`access.reads_control_dashboards`).
"""

import datetime as dt

from django.db.models import Case, CharField, DateTimeField, Q, Value, When
from django.urls import reverse

from governance.core import access, history, widgets
from governance.core.models import Desk
from governance.core.widgets import MODEL_AUDIT_TYPE, Dimension, RecordColumn, Widget
from models_registry.choices import ALGORITHMIC_PURPOSES, LifecycleStatus
from models_registry.models import Model
from risk.gate.access import reads_control_dashboards
from risk.gate.killswitch import LIVE
from risk.gate.models import KillSwitch, KillSwitchTest

TEST_EVERY = dt.timedelta(days=35)  # the longest gap between two first Mondays: the schedule's period
DUE_SOON = dt.timedelta(days=7)  # a monthly test is always due within 30 days: "due soon" is the last week

WITHIN, DUE, OVERDUE, NEVER = "within_policy", "due_soon", "overdue", "never"
TEST_AGES = (
    (WITHIN, "Tested within policy"),
    (DUE, "Due within 7 days"),
    (OVERDUE, f"Overdue (last test over {TEST_EVERY.days} days ago)"),
    (NEVER, "Never tested"),
)
STATUS_LABELS = dict(LifecycleStatus.choices)


def last_tested(as_of: dt.date) -> dict[str, dt.datetime]:
    """Each model's key -> the last run up to `as_of` in which the gate blocked it by the kill switch."""
    last: dict[str, dt.datetime] = {}
    runs = KillSwitchTest.objects.filter(run_at__date__lte=as_of).order_by("-run_at", "-id")
    for run_at, detail in runs.values_list("run_at", "detail"):
        for checked in (detail or {}).get("models") or []:
            if checked.get("blocked") and "kill_switch" in (checked.get("reasons") or []):
                last.setdefault(checked.get("model"), run_at)
    return last


def _age(run_at: dt.datetime | None, as_of: dt.date) -> str:
    if run_at is None:
        return NEVER
    due = run_at.date() + TEST_EVERY
    if due < as_of:
        return OVERDUE
    return DUE if due <= as_of + DUE_SOON else WITHIN


def algorithmic_models_by_test_age(user, filters):
    """Algorithmic models in use (pilot or production) the reader may see, each with the age of its last test; the
    model's purpose, status and desk as they stood at the page's moment (`then_<field>`)."""
    models = access.restrict(filters.narrow(Model.objects.all()), user).annotate(
        then_purpose=history.value_at(MODEL_AUDIT_TYPE, "purpose", filters.moment),
        then_status=filters.model_value("status"),
        then_desk_name=filters.model_value("desk"),
    )
    models = models.filter(then_purpose__in=ALGORITHMIC_PURPOSES, then_status__in=LIVE)
    tested = last_tested(filters.as_of)
    keys = [key for key in models.values_list("key", flat=True) if key in tested]
    by_age: dict[str, list[str]] = {}
    for key in keys:
        by_age.setdefault(_age(tested[key], filters.as_of), []).append(key)
    return models.annotate(
        test_age=Case(
            *(When(key__in=found, then=Value(age)) for age, found in by_age.items()),
            default=Value(NEVER),
            output_field=CharField(),
        ),
        last_test=Case(
            *(When(key=key, then=Value(tested[key])) for key in keys),
            default=None,
            output_field=DateTimeField(),
        ),
    )


def _tests_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "No algorithmic model in use in scope."
    never = widgets.count_where(rows, test_age=NEVER)
    overdue = widgets.count_where(rows, test_age=OVERDUE)
    has = "has" if never == 1 else "have"
    return (
        f"{widgets.plural(never, 'algorithmic model')} {has} never had {'its' if never == 1 else 'their'} kill switch "
        f"tested; {overdue:,} more {'is' if overdue == 1 else 'are'} overdue, of {total:,} in use."
    )


def model_link(record: dict) -> str:
    return reverse("models_registry:model-detail", args=[record["key"]])


KILL_SWITCH_TESTS = Widget(
    key="kill-switch-tests",
    page=widgets.INCIDENTS,
    title="Kill-switch tests of algorithmic models",
    order=40,
    records=algorithmic_models_by_test_age,
    dimensions=(
        Dimension(
            "test_age",
            "Last kill-switch test",
            dict(TEST_AGES).get,
            tuple(c for c, _l in TEST_AGES),
            tones=("good", "caution", "bad", "worst"),
        ),
    ),
    caption=_tests_caption,
    record_columns=(
        RecordColumn("key", "Model"),
        RecordColumn("name", "Name"),
        RecordColumn("desk__name", "Desk"),
        RecordColumn("status", "Status", lambda code: STATUS_LABELS.get(code, code)),
        RecordColumn("last_test", "Last tested", lambda at: f"{at:%Y-%m-%d %H:%M} UTC" if at else "never"),
    ),
    record_link=model_link,
    visible=reads_control_dashboards,
    chart="hbar",
    noun="models",
    description=(
        "Algorithmic models (alpha signals and execution) in pilot or production, by their last kill-switch test "
        "that blocked them. The test runs the first Monday of each month: a model is overdue "
        f"{TEST_EVERY.days} days after its last."
    ),
    order_records=("key",),
)


# --- Kill-switch engagements ----------------------------------------------------------------------------------

SCOPES = (KillSwitch.Scope.ALL, KillSwitch.Scope.DESK, KillSwitch.Scope.MODEL)
SCOPE_LABELS = {KillSwitch.Scope.ALL: "Firm-wide", KillSwitch.Scope.DESK: "A desk", KillSwitch.Scope.MODEL: "A model"}


def engagements(user, filters):
    """Kill-switch engagements in the time range; with model filters, those that reached a model matching them
    (every firm-wide stop, a stop of a matching model's desk, a stop of a matching model), the models as they stood
    at the page's moment. A release after the moment had not happened then (`then_released_at`)."""
    found = access.restrict(KillSwitch.objects.filter(filters.period_q("engaged_at")), user).filter(
        engaged_at__date__lte=filters.as_of
    )
    released = Q(released_at__isnull=False) & history.recorded_by(filters.moment, "released_at")
    found = found.annotate(
        then_released_at=Case(When(released, then="released_at"), default=None, output_field=DateTimeField())
    )
    if filters.model_q():
        matching = filters.narrow(Model.objects.all())
        desks = Desk.objects.filter(
            name__in=matching.annotate(then_desk=filters.model_value("desk")).values("then_desk")
        )
        found = found.filter(
            Q(scope=KillSwitch.Scope.ALL)
            | Q(scope=KillSwitch.Scope.DESK, desk__in=desks)
            | Q(scope=KillSwitch.Scope.MODEL, model__in=matching)
        )
    return found


def _uses_caption(rows, filters) -> str:
    total = widgets.total(rows)
    if not total:
        return "The kill switch was not used in the period."
    parts = ", ".join(
        f"{widgets.count_where(rows, scope=scope):,} {label}"
        for scope, label in (("all", "firm-wide"), ("desk", "of a desk"), ("model", "of one model"))
    )
    return f"The kill switch was engaged {widgets.plural(total, 'time')} in the period: {parts}."


def engagement_link(record: dict) -> str:
    return reverse("gate:kill-switch-detail", kwargs={"pk": record["pk"]})


KILL_SWITCH_USES = Widget(
    key="kill-switch-uses",
    page=widgets.INCIDENTS,
    title="Kill-switch engagements",
    order=50,
    records=engagements,
    dimensions=(Dimension("scope", "Scope", SCOPE_LABELS.get, SCOPES),),
    caption=_uses_caption,
    record_columns=(
        RecordColumn("pk", "Engagement"),
        RecordColumn("scope_key", "Stopped"),
        RecordColumn("reason", "Reason"),
        RecordColumn("engaged_at", "Engaged", lambda at: f"{at:%Y-%m-%d %H:%M} UTC"),
        RecordColumn("released_at", "Released", lambda at: f"{at:%Y-%m-%d %H:%M} UTC" if at else "still engaged"),
    ),
    record_link=engagement_link,
    visible=reads_control_dashboards,
    noun="engagements",
    description="Each use of the kill switch engaged in the period, by what it stopped: every model, a desk, a model.",
    order_records=("engaged_at", "pk"),
)


def register() -> None:
    for widget in (KILL_SWITCH_TESTS, KILL_SWITCH_USES):
        widgets.register(widget)
