"""A dashboard page as of a past day, rebuilt from the audit trail (issue 22), against what the page showed that day.

A seeded random firm lives through a few weeks with the clock set back (time-machine): each day its people register
models, walk versions through the lifecycle, date validations, raise, remediate, close and accept findings, report,
mitigate and close incidents, sign attestations, ask for exports whose jobs run or give up, prepare and sign the RTS 6
self-assessment, test, engage and release the kill switch, and start validation runs that finish or fail; and the
production jobs run: the monitoring cycle evaluates the live versions' monitors (late results among them), the gate's
refresh records its decisions, and a pilot of the trader's desk reports its trades (a late batch now and then); all
through the services. At the end of each day every widget's rows are read live, for several
people and filters, and the key risk indicators are recorded by the daily snapshot job. Back in the present, each of
those days is rebuilt (`Filters(as_of=day)`, a past day) and must give the same rows, and the snapshot job run again
for the day must record the same values.
"""

import datetime as dt
import random

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from governance.core import indicators, jobs, widgets
from governance.core.models import UserProfile
from governance.core.widgets import Filters
from governance.lifecycle import revalidation
from governance.lifecycle.models import Attestation
from models_registry import services as inventory
from models_registry.choices import TRADER_VISIBLE_STATUSES
from models_registry.models import Model, ModelVersion
from risk.dashboards import snapshots
from risk.dashboards.models import IndicatorSnapshot
from risk.exports import self_assessment
from risk.exports import services as exports
from risk.exports.models import Export, SelfAssessment
from risk.gate import decisions, killswitch
from risk.gate.models import KillSwitch
from risk.incidents import services as incidents
from risk.incidents.models import Incident
from risk.monitoring import evaluation, proposals
from risk.monitoring import selectors as monitoring_selectors
from risk.monitoring.evaluation import Measured, Reading
from risk.monitoring.models import Monitor
from risk.validation import findings, runs
from risk.validation import services as evidence
from risk.validation.models import Finding, ValidationRun
from tests.factories import PASSWORD, DeskFactory, UserFactory, make_model, make_version
from tests.risk import monitoring_data

DAYS = 7
STATUSES = ["submitted", "in_validation", "validated", "approved", "pilot", "production", "rejected"]


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


class Firm:
    """The people and desks of the simulated firm; its models and records are made as the days go by."""

    def __init__(self):
        self.desk = DeskFactory(code="hist-eq", name="History Equities", business_line="Equities")
        self.other = DeskFactory(code="hist-rates", name="History Rates", business_line="Fixed income")
        make = lambda name, role, **kw: UserFactory(username=name, roles=[role], **kw)  # noqa: E731
        self.compliance = make("h-compliance", "compliance")
        self.compliance2 = make("h-compliance2", "compliance")  # a tier-1 model's approval needs two
        self.validators = [make("h-validator", "validator"), make("h-validator2", "validator")]
        self.developers = [make("h-developer", "developer"), make("h-developer2", "developer")]
        self.owners = [make("h-owner", "owner"), make("h-owner2", "owner")]
        self.trader = make("h-trader", "trader", desk=self.desk)
        self.auditor = make("h-auditor", "auditor")
        self.senior = make("h-senior", "owner")
        UserProfile.objects.update_or_create(user=self.senior, defaults={"senior_manager": True})
        self.models: list = []
        self.turns: dict = {}

    def turn(self, action) -> int:
        """How many times `action` ran before: the controls take their steps in turn."""
        self.turns[action] = self.turns.get(action, -1) + 1
        return self.turns[action]

    def readers(self):
        return [self.compliance, self.trader, self.validators[0], self.owners[0], self.developers[1], self.auditor]


def _register(firm, rng, day):
    n = len(firm.models)
    side = rng.randrange(2)
    model = make_model(
        firm.compliance,
        key=f"hist-{n}",
        owner=firm.owners[side],
        developers=[firm.developers[side]],
        validator=firm.validators[rng.randrange(2)],
        desk=firm.desk if rng.random() < 0.6 else firm.other,
        notional_at_stake=str(rng.choice([5_000_000, 50_000_000, 900_000_000])),
        purpose=rng.choice(["alpha", "execution", "risk"]),
    )
    firm.models.append(model)
    return model


def _walk(firm, rng, day, status=None):
    model = Model.objects.get(pk=rng.choice(firm.models).pk)
    developer = model.developers.first()
    label = f"{day:%m%d}.{rng.randrange(10**6)}"
    make_version(developer, model, label=label, status=status or rng.choice(STATUSES))


def _date_validation(firm, rng, day):
    model = Model.objects.get(pk=rng.choice(firm.models).pk)
    last = day - dt.timedelta(days=rng.randint(0, 400))
    inventory.model_update(
        firm.compliance,
        model,
        last_validated_at=last,
        next_validation_due=last + dt.timedelta(days=rng.choice([90, 180, 365])),
        reason="Dates from the validation file.",
    )


def _override_tier(firm, rng, day):
    model = Model.objects.get(pk=rng.choice(firm.models).pk)
    tier = rng.choice([1, 2, 3])
    inventory.model_update(
        firm.compliance, model, tier_override=tier, tier_override_justification="Desk usage grew.", reason="Tiering."
    )


def _raise_finding(firm, rng, day):
    versions = list(ModelVersion.objects.filter(model__in=firm.models).select_related("model"))
    if not versions:
        return
    version = rng.choice(versions)
    findings.finding_raise(
        version.model.validator or firm.validators[0],
        version,
        severity=rng.choice(["low", "medium", "high"]),
        title=f"Finding of {day}",
        description="Seen in the validation.",
        owner=version.model.owner,
        due_date=day + dt.timedelta(days=rng.randint(0, 8)),  # past due as the days go by
    )


def _settle_finding(firm, rng, day):
    open_ = list(Finding.objects.filter(status=Finding.Status.OPEN).select_related("version__model"))
    if not open_:
        return
    finding = rng.choice(open_)
    if rng.random() < 0.5:
        findings.finding_close(finding.version.model.validator or firm.validators[0], finding, "Fix verified.")
    else:
        findings.finding_accept_risk(
            firm.compliance, finding, password=PASSWORD, justification="Immaterial at the current size."
        )


def _report_incident(firm, rng, day):
    model = Model.objects.get(pk=rng.choice(firm.models).pk)
    incidents.incident_report(
        firm.compliance,
        model,
        title=f"Incident of {day}",
        description="Fills far from the model's expectation.",
        severity=rng.choice(["low", "medium", "high", "critical"]),
    )


def _work_incident(firm, rng, day):
    open_ = list(Incident.objects.exclude(status=Incident.Status.CLOSED))
    if not open_:
        return
    incident = rng.choice(open_)
    if incident.status == Incident.Status.OPEN and rng.random() < 0.5:
        incidents.incident_update(firm.compliance, incident, status=Incident.Status.MITIGATED, note="Limits cut.")
        return
    incidents.incident_close(
        firm.compliance,
        incident,
        root_cause="A stale reference feed.",
        corrective_actions="The feed is checked before the open.",
        post_incident_review="Reviewed with the desk.",
        password=PASSWORD,
    )


def _remediate_finding(firm, rng, day):
    open_ = list(Finding.objects.filter(status=Finding.Status.OPEN).select_related("owner"))
    if open_:
        finding = rng.choice(open_)
        findings.finding_start_remediation(finding.owner, finding, "The fix is being built.")


def _attest(firm, rng, day):
    """The year's attestations of production models are opened; an owner signs one of theirs."""
    revalidation.open_attestations(day)
    unsigned = list(Attestation.objects.filter(signature__isnull=True).select_related("owner"))
    if unsigned and firm.turn(_attest):  # the first turn only opens them
        attestation = rng.choice(unsigned)
        revalidation.attestation_sign(
            attestation.owner, attestation, statement="Used as approved and within its limits.", password=PASSWORD
        )


def _export(firm, rng, day):
    """Someone asks for an export; or a queued export's job runs, or gives up."""
    queued = list(Export.objects.filter(job__status="queued"))
    if queued and rng.random() < 0.6:
        export = rng.choice(queued)
        if rng.random() < 0.7:
            jobs.execute(export.job_id)
        else:
            jobs.give_up(export.job_id, "The worker was lost on every delivery.")
        return
    reader = rng.choice([firm.compliance, firm.auditor])
    exports.export_request(reader, "audit_log", since=f"{day - dt.timedelta(days=3)}", until=f"{day}")


def _self_assess(firm, rng, day):
    """The year's RTS 6 self-assessment: prepared (again while unsigned), signed by compliance, then by a senior
    manager."""
    assessment = SelfAssessment.objects.filter(year=day.year).first()
    if assessment is None or (assessment.compliance_signature_id is None and rng.random() < 0.3):
        self_assessment.prepare(firm.compliance, day.year, "We meet RTS 6; the kill switch is tested monthly.")
    elif assessment.compliance_signature_id is None:
        self_assessment.sign(firm.compliance, assessment, password=PASSWORD)
    elif assessment.senior_signature_id is None:
        self_assessment.sign(firm.senior, assessment, password=PASSWORD)


def _kill_switch(firm, rng, day):
    """Compliance tests the kill switch, stops a model, stops a desk, lifts a stop: in turn."""
    turn = firm.turn(_kill_switch)
    standing = list(KillSwitch.objects.filter(released_at__isnull=True))
    stopped = {e.scope_key for e in standing}
    stop, go = "Erratic fills since the open; stop until explained.", "Fills explained by a venue outage; it is over."
    if turn % 4 == 0:
        killswitch.kill_switch_test(firm.compliance)
    elif turn % 4 == 1:
        model = Model.objects.get(pk=rng.choice(firm.models).pk)
        if f"model:{model.key}" not in stopped:
            killswitch.kill_switch_engage(firm.compliance, scope="model", model=model, reason=stop, password=PASSWORD)
    elif turn % 4 == 2:
        if f"desk:{firm.desk.code}" not in stopped:  # the trader's desk: their models blocked, then released
            killswitch.kill_switch_engage(firm.compliance, scope="desk", desk=firm.desk, reason=stop, password=PASSWORD)
    elif standing:
        killswitch.kill_switch_release(firm.compliance, rng.choice(standing), reason=go, password=PASSWORD)


def _validation_run(firm, rng, day):
    """A validator runs the plan of a version in validation; or a queued run ends, passed or failed."""
    queued = list(ValidationRun.objects.filter(status=ValidationRun.Status.QUEUED))
    if queued and rng.random() < 0.6:
        run = rng.choice(queued)
        if rng.random() < 0.3:
            jobs.give_up(run.job_id, "The worker was lost on every delivery.")
        else:  # the outcome written as a finished computation writes it (the computation itself is not the point)
            outcome = rng.choice(["pass", "warn", "fail"])
            results = [{"test": "t0", "outcome": "pass", "value": 1.0}, {"test": "t1", "outcome": outcome}]
            runs._finish(run, ValidationRun.Status.SUCCEEDED, results=results, finished_at=timezone.now())
        return
    versions = list(ModelVersion.objects.filter(model__in=firm.models, status="in_validation"))
    if versions:
        version = rng.choice(versions)
    else:
        _walk(firm, rng, day, status="in_validation")
        version = ModelVersion.objects.filter(model__in=firm.models, status="in_validation").latest("pk")
    validator = version.model.validator
    data = SimpleUploadedFile("data.csv", b"timestamp,y_true,y_pred\n2026-01-01T00:00:00,1,1\n")
    dataset = evidence.evidence_add(validator, version, kind="dataset", file=data)
    runs.plan_save(validator, version)
    runs.run_start(validator, version, dataset)


def _monitoring_cycle(firm, rng, day):
    """The monitoring cycle's hour: every live version has its proposed monitors (as at pilot), and a share of the
    live monitors is evaluated for this hour's tick through the evaluation service; some monitors stay in breach day
    after day (a run of breaches), and a backfill records a few results for a tick two days back."""
    live = list(
        ModelVersion.objects.filter(model__in=firm.models, status__in=monitoring_selectors.MONITORED).select_related(
            "model"
        )
    )
    for version in live:
        proposals.propose(version)
    monitors = list(Monitor.objects.filter(version__in=live, active=True).select_related("version__model"))
    if not monitors:
        return
    slot = timezone.now().replace(minute=0, second=0, microsecond=0)

    def outcome(monitor):
        if monitor.pk % 7 == 0:
            return "breach"  # stuck in breach: a long run for the over-7-days indicator
        return rng.choices(["ok", "warn", "breach", "insufficient"], weights=[6, 2, 2, 1])[0]

    stuck = [m for m in monitors if m.pk % 7 == 0]  # evaluated every cycle: their run of breaches lasts
    chosen = list(dict.fromkeys(stuck + rng.sample(monitors, min(len(monitors), 30))))
    evaluation.record_many([Measured(m, outcome(m), Reading(0.5, rows=10)) for m in chosen], slot)
    for monitor in rng.sample(monitors, min(len(monitors), 3)):  # late: recorded now for an older tick
        evaluation.record(Measured(monitor, outcome(monitor), Reading(0.5, rows=10)), slot - dt.timedelta(days=2))


def _trade(firm, rng, day):
    """A version of the trader's desk in pilot (one is walked there when none is) reports the day's trades; now and
    then a late batch brings trades of the day before."""
    pilots = list(ModelVersion.objects.filter(model__desk=firm.desk, model__in=firm.models, status="pilot"))
    if not pilots or rng.random() < 0.3:
        on_desk = Model.objects.filter(pk__in=[m.pk for m in firm.models], desk=firm.desk).order_by("pk")
        untradeable = [m for m in on_desk if m.status not in TRADER_VISIBLE_STATUSES]  # a new model for the trader
        model = rng.choice(untradeable or list(on_desk))
        make_version(model.developers.first(), model, label=f"{day:%m%d}.p{rng.randrange(10**6)}", status="pilot")
        pilots = list(ModelVersion.objects.filter(model__desk=firm.desk, model__in=firm.models, status="pilot"))
    version = rng.choice(pilots)
    now = timezone.now()
    late = rng.random() < 0.3
    start = now - dt.timedelta(days=1 if late else 0, hours=rng.randint(1, 6))
    first = firm.turn(_trade) * 100
    monitoring_data.trades(
        version.model.developers.first(), version, rng.randint(1, 8), start=start, first_id=first, seed=first
    )


def _gate_refresh(firm, rng, day):
    """The gate's periodic refresh (beat, every 5 minutes): every model's decision recorded as it stands."""
    decisions.refresh()


ACTIONS = [
    (_walk, 3),
    (_date_validation, 2),
    (_override_tier, 1),
    (_raise_finding, 4),
    (_settle_finding, 2),
    (_remediate_finding, 1),
    (_report_incident, 2),
    (_work_incident, 2),
    (_validation_run, 1),
]
# The firm's controls, two a day in turn, so that each is seen moving over the weeks; and a finding a day.
CONTROLS = [_attest, _export, _self_assess, _kill_switch, _validation_run]


def _filters_for(firm, rng, day):
    """No filter, each desk, tier 1, a type, a business unit, and a time range ending that day."""
    return [
        Filters(as_of=day),
        Filters(as_of=day, desk=firm.desk.code, desk_name=firm.desk.name),
        Filters(as_of=day, desk=firm.other.code, desk_name=firm.other.name),
        Filters(as_of=day, tier=1),
        Filters(as_of=day, business_unit="Fixed income"),
        Filters(as_of=day, model_type="gradient_boosting", since=day - dt.timedelta(days=rng.randint(1, 10))),
    ]


def _read(firm, filters_of_day):
    """Every widget's rows for every reader allowed to see it, under each filter."""
    out = {}
    for reader in firm.readers():
        for widget in widgets.visible_widgets(reader):
            for index, filters in enumerate(filters_of_day):
                out[(reader.username, widget.key, index)] = widget.rows(reader, filters)
    return out


@pytest.fixture
def history(db):
    """The firm's weeks, and what every page showed at the end of each day."""
    rng = random.Random(20261207)
    start = timezone.now().date() - dt.timedelta(days=3 * DAYS)
    seen, kris, days = {}, {}, []
    with time_machine.travel(_at(start, 8), tick=False):
        firm = Firm()
        for _ in range(4):
            _register(firm, rng, start)
    for offset in range(DAYS):
        day = start + dt.timedelta(days=rng.randint(2, 3) * offset)
        if days and day <= days[-1]:
            day = days[-1] + dt.timedelta(days=1)
        days.append(day)
        actions = rng.choices([a for a, _w in ACTIONS], weights=[w for _a, w in ACTIONS], k=rng.randint(4, 6))
        actions += [CONTROLS[(2 * offset) % len(CONTROLS)], CONTROLS[(2 * offset + 1) % len(CONTROLS)], _raise_finding]
        # The production jobs of every day: the gate's refresh, trading in pilot, the monitoring cycle.
        actions.insert(rng.randrange(len(actions)), _gate_refresh)
        actions += [_trade, _monitoring_cycle]
        for step, action in enumerate(actions):
            with time_machine.travel(_at(day, 9 + step), tick=False):
                if rng.random() < 0.15:
                    _register(firm, rng, day)
                action(firm, rng, day)
        with time_machine.travel(_at(day, 23, 30), tick=False):
            filters_of_day = _filters_for(firm, rng, day)
            seen[day] = (filters_of_day, _read(firm, filters_of_day))
            snapshots.record(day)
            kris[day] = {
                (scope, key): value
                for scope, key, value in IndicatorSnapshot.objects.filter(day=day).values_list(
                    "scope", "indicator", "value"
                )
            }
    return firm, days, seen, kris


# One firm, one history: building it walks versions through the lifecycle day after day, so both checks share it.
@pytest.mark.slow(reason="lives through weeks of a firm's history through the services, then rebuilds every day")
def test_every_past_day_rebuilds_to_what_its_pages_and_snapshot_showed_that_day(history):
    firm, days, seen, kris = history
    assert days[-1] < timezone.now().date()
    compared, differing = 0, []
    for day in days:
        filters_of_day, shown = seen[day]
        assert all(f.moment is not None for f in filters_of_day)  # the present: these days are past and rebuilt
        rebuilt = _read(firm, filters_of_day)
        assert rebuilt.keys() == shown.keys()
        for key, rows in shown.items():
            compared += 1
            if rebuilt[key] != rows:
                differing.append((day, key, rows, rebuilt[key]))
    assert not differing, (", ".join(sorted({key[1] for _day, key, _shown, _rebuilt in differing})), differing[:2])
    assert compared > 500
    mine = {("h-trader", "my-desk-models"), ("h-trader", "my-pilot-limits"), ("h-owner", "my-monitors")}
    mine |= {("h-developer2", "my-monitors")}
    for reader, key in mine:  # the roles' own widgets moved too
        assert len({str(seen[day][1][(reader, key, 0)]) for day in days}) > 1, (reader, key)
    long_breach = [seen[day][1][("h-compliance", "models-in-long-breach", 0)] for day in days]
    assert long_breach[0] != long_breach[-1] and widgets.total(long_breach[-1])  # runs of breaches over 7 days
    # The history is not trivial: the firm-wide inventory and findings moved from day to day.
    for key in (
        "inventory-by-tier",
        "findings-by-age",
        "monitoring-heatmap",
        "breaches-per-week",
        "models-in-breach",
        "gate-blocks",
    ):
        assert len({str(seen[day][1][("h-compliance", key, 0)]) for day in days}) > 2, key

    # The daily snapshot job, run again for each past day, rebuilds it and records what it recorded that day.
    for day in days:
        IndicatorSnapshot.objects.filter(day=day).delete()
        snapshots.record(day)
        rebuilt = {
            (scope, key): value
            for scope, key, value in IndicatorSnapshot.objects.filter(day=day).values_list(
                "scope", "indicator", "value"
            )
        }
        assert rebuilt == kris[day], day
    assert {key for _scope, key in kris[days[-1]]} == {i.key for i in indicators.all_indicators()}
    assert any(value for day in days for value in kris[day].values())
