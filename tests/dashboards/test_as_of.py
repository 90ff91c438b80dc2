"""A dashboard page as of a past day, rebuilt from the audit trail (issue 22), against what the page showed that day.

A seeded random firm lives through a few weeks with the clock set back (time-machine): each day its people register
models, walk versions through the lifecycle, date validations, raise, close and accept findings, report, mitigate and
close incidents, all through the services. At the end of each day every widget's rows are read live, for several
people and filters, and the key risk indicators are recorded by the daily snapshot job. Back in the present, each of
those days is rebuilt (`Filters(as_of=day)`, a past day) and must give the same rows, and the snapshot job run again
for the day must record the same values.
"""

import datetime as dt
import random

import pytest
import time_machine
from django.utils import timezone

from governance.core import indicators, widgets
from governance.core.widgets import Filters
from models_registry import services as inventory
from models_registry.models import Model, ModelVersion
from risk.dashboards import snapshots
from risk.dashboards.models import IndicatorSnapshot
from risk.incidents import services as incidents
from risk.incidents.models import Incident
from risk.validation import findings
from risk.validation.models import Finding
from tests.factories import PASSWORD, DeskFactory, UserFactory, make_model, make_version

DAYS = 8
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
        self.validators = [make("h-validator", "validator"), make("h-validator2", "validator")]
        self.developers = [make("h-developer", "developer"), make("h-developer2", "developer")]
        self.owners = [make("h-owner", "owner"), make("h-owner2", "owner")]
        self.trader = make("h-trader", "trader", desk=self.desk)
        self.auditor = make("h-auditor", "auditor")
        self.models: list = []

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


def _walk(firm, rng, day):
    model = Model.objects.get(pk=rng.choice(firm.models).pk)
    developer = model.developers.first()
    make_version(developer, model, label=f"{day:%m%d}.{rng.randrange(10**6)}", status=rng.choice(STATUSES))


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
        due_date=day + dt.timedelta(days=rng.randint(0, 12)),  # past due as the days go by
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


ACTIONS = [
    (_walk, 3),
    (_date_validation, 2),
    (_override_tier, 1),
    (_raise_finding, 3),
    (_settle_finding, 2),
    (_report_incident, 1),
    (_work_incident, 2),
]


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
        for step in range(rng.randint(3, 6)):
            action = rng.choices([a for a, _w in ACTIONS], weights=[w for _a, w in ACTIONS])[0]
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
    # The history is not trivial: the firm-wide inventory and findings moved from day to day.
    for key in ("inventory-by-tier", "findings-by-age"):
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
