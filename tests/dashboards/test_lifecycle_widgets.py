"""The lifecycle's dashboard widgets (issue 22): time in each stage, submission to production, attestations, and a
validator's own assignments and runs. A world whose transitions are timestamped by hand gives exact medians."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from governance.core import widgets as core_widgets
from governance.core.models import Signature, UserProfile
from governance.core.widgets import Filters
from governance.lifecycle import revalidation, widgets, workflow
from governance.lifecycle.models import Attestation, VersionTransition
from models_registry.models import Model, ModelVersion
from risk.validation.models import ValidationRun
from tests.factories import PASSWORD, make_model, make_version
from tests.governance.lifecycle_helpers import attach
from tests.snapshots import snapshot

TODAY = timezone.now().date()
T0 = dt.datetime.combine(TODAY - dt.timedelta(days=200), dt.time(), tzinfo=dt.UTC)


def day(offset: float) -> dt.datetime:
    return T0 + dt.timedelta(days=offset)


def stamp(version, created: float, steps: list[float]) -> None:
    """Registered on day `created`; each step that changes the version's status on the next day of `steps` (in
    order), a step that leaves it where it was an hour after the one before (a second approval, say)."""
    ModelVersion.objects.filter(pk=version.pk).update(created_at=day(created))
    changing = iter(steps)
    last = day(created)
    for transition in VersionTransition.objects.filter(version=version).order_by("at", "pk"):
        if transition.from_status == transition.to_status:
            last = last + dt.timedelta(hours=1)
        else:
            last = day(next(changing))
        VersionTransition.objects.filter(pk=transition.pk).update(at=last)
    assert next(changing, None) is None, "every step given was used"


def cumulative(start: float, stays: list[float]) -> list[float]:
    out, now = [], start
    for stay in stays:
        now += stay
        out.append(now)
    return out


@pytest.fixture
def firm(world, request):
    """The world below, built once per session and restored for every later test (tests/snapshots.py)."""
    return snapshot("lifecycle-widgets-firm", lambda: build_firm(world), request)


def build_firm(world):
    """Three versions in production (days in draft, submitted, in validation, validated, approved, pilot):
    mine 1.0 (tier 2)   2, 3, 12, 4, 1, 30  -> production on day 52, 50 days after submission
    theirs 1.0 (tier 1) 1, 5, 41, 2, 2, 10  -> production on day 61, 60 days after submission
    third 1.0 (tier 2)  4, 1, 20, 6, 3, 15  -> production on day 49, 45 days after submission
    and three awaiting their validators, registered on day 100: mine 2.0 (3 days in draft, 2 submitted, in
    validation since), fourth 1.0 (4 in draft, submitted since), theirs 2.0 (1 in draft, submitted since)."""
    w = world
    Model.objects.filter(pk=w.theirs.pk).update(risk_tier=1)
    third = make_model(
        w.compliance, key="third", owner=w.owner, developers=[w.developer], validator=w.validator2, desk=w.desk
    )
    fourth = make_model(
        w.compliance, key="fourth", owner=w.owner, developers=[w.developer], validator=w.validator, desk=w.other_desk
    )
    w.third_v1 = make_version(w.developer, third, label="1.0", status="production")
    w.mine_v2 = make_version(w.developer, w.mine, label="2.0")
    workflow.version_transition(w.developer, w.mine_v2, "submit")
    w.mine_v2 = workflow.version_transition(w.validator, w.mine_v2, "start_validation")
    w.fourth_v1 = workflow.version_transition(w.developer, make_version(w.developer, fourth, label="1.0"), "submit")
    w.theirs_v2 = workflow.version_transition(w.developer2, make_version(w.developer2, w.theirs, label="2.0"), "submit")
    # A step that leaves theirs 1.0 where it was (as a first of two approvals does) ends no stay and starts none.
    validated = VersionTransition.objects.get(version=w.theirs_v1, action="validate")
    VersionTransition.objects.create(
        version=w.theirs_v1,
        action="approve_deployment",
        from_status="validated",
        to_status="validated",
        actor=w.compliance,
        at=validated.at + dt.timedelta(microseconds=1),
        policy=validated.policy,
    )
    stamp(w.mine_v1, 0, cumulative(0, [2, 3, 12, 4, 1, 30]))
    stamp(w.theirs_v1, 0, cumulative(0, [1, 5, 41, 2, 2, 10]))
    stamp(w.third_v1, 0, cumulative(0, [4, 1, 20, 6, 3, 15]))
    stamp(w.mine_v2, 100, [103, 105])
    stamp(w.fourth_v1, 100, [104])
    stamp(w.theirs_v2, 100, [101])
    Model.objects.filter(pk=w.mine.pk).update(next_validation_due=TODAY - dt.timedelta(days=5))
    Model.objects.filter(pk=fourth.pk).update(next_validation_due=TODAY + dt.timedelta(days=10))
    Model.objects.filter(pk=w.theirs.pk).update(next_validation_due=TODAY + dt.timedelta(days=400))
    w.third, w.fourth = third, fourth
    return w


def rows_by(widget, user, filters, field):
    return {row[field]: row for row in widget.rows(user, filters)}


# --- Time in each stage -----------------------------------------------------------------------------------------


def test_time_in_stage_gives_each_stages_median_and_90th_percentile(firm):
    rows = widgets.TIME_IN_STAGE.rows(firm.compliance, Filters(as_of=TODAY))
    found = {r["stage"]: (r["count"], r["median_days"], r["p90_days"]) for r in rows}
    assert found == {
        "draft": (6, 2.5, 4.0),  # 1, 1, 2, 3, 4, 4
        "submitted": (4, 2.5, 5.0),  # 1, 2, 3, 5: the three submitted since have not left
        "in_validation": (3, 20.0, 41.0),  # 12, 20, 41: mine 2.0 is still in validation
        "validated": (3, 4.0, 6.0),
        "validated_with_conditions": (0, None, None),
        "rejected": (0, None, None),
        "approved": (3, 2.0, 3.0),
        "pilot": (3, 15.0, 30.0),
        "production": (0, None, None),
        "suspended": (0, None, None),
    }
    assert [r["stage"] for r in rows] == list(widgets.STAGE.values)  # every stage, in lifecycle order
    assert widgets.TIME_IN_STAGE.caption(rows, Filters(as_of=TODAY)) == (
        "Versions spend longest in validation: median 20 days, 90th percentile 41."
    )


def test_time_in_stage_counts_the_stays_that_ended_in_the_time_range(firm):
    filters = Filters(as_of=TODAY, since=day(55).date())
    found = {
        r["stage"]: (r["count"], r["median_days"], r["p90_days"])
        for r in widgets.TIME_IN_STAGE.rows(firm.compliance, filters)
        if r["count"]
    }
    # Left after day 55: the drafts of day 100 (3, 4, 1 days), mine 2.0's submission (2), theirs 1.0's pilot (10).
    assert found == {"draft": (3, 3.0, 4.0), "submitted": (1, 2.0, 2.0), "pilot": (1, 10.0, 10.0)}


# --- From submission to production --------------------------------------------------------------------------------


def test_cycle_time_by_tier_and_across_all(firm):
    filters = Filters(as_of=TODAY)
    rows = widgets.CYCLE_TIME.rows(firm.compliance, filters)
    assert [(r["risk_tier"], r["count"], r["median_days"], r["p90_days"]) for r in rows] == [
        (1, 1, 60.0, 60.0),
        (2, 2, 47.5, 50.0),
        (3, 0, None, None),
    ]
    assert widgets.CYCLE_TIME.caption(rows, filters) == (
        "3 versions reached production, a median of 50 days after submission; 90th percentile 60."
    )
    on_desk = widgets.CYCLE_TIME.rows(firm.compliance, Filters(as_of=TODAY, desk="sys-eq"))
    assert [(r["risk_tier"], r["count"], r["median_days"]) for r in on_desk] == [
        (1, 0, None),
        (2, 2, 47.5),
        (3, 0, None),
    ]
    late = Filters(as_of=TODAY, since=day(55).date())
    assert [(r["risk_tier"], r["count"]) for r in widgets.CYCLE_TIME.rows(firm.compliance, late)] == [
        (1, 1),
        (2, 0),
        (3, 0),
    ]


# --- Attestations -------------------------------------------------------------------------------------------------


@pytest.fixture
def attested(firm):
    """mine 2025 signed 10 days early, theirs 2025 signed 5 days late, third 2025 unsigned and overdue; mine 2026
    not yet due, theirs 2026 signed before its due date."""
    w = firm
    past, coming = TODAY - dt.timedelta(days=300), TODAY + dt.timedelta(days=30)

    def attestation(model, year, due, signed_on=None):
        found = Attestation.objects.create(model=model, year=year, owner=model.owner, due_date=due)
        if signed_on is not None:
            revalidation.attestation_sign(
                model.owner, found, statement="I attest that the model is used as documented.", password=PASSWORD
            )
            found.refresh_from_db()
            moment = dt.datetime.combine(signed_on, dt.time(12), tzinfo=dt.UTC)
            Signature.objects.filter(pk=found.signature_id).update(signed_at=moment)
        return found

    w.att = {
        "mine-2025": attestation(w.mine, 2025, past, past - dt.timedelta(days=10)),
        "theirs-2025": attestation(w.theirs, 2025, past, past + dt.timedelta(days=5)),
        "third-2025": attestation(w.third, 2025, past + dt.timedelta(days=10)),
        "mine-2026": attestation(w.mine, 2026, coming),
        "theirs-2026": attestation(w.theirs, 2026, coming, TODAY),
    }
    return w


def test_attestations_by_outcome(attested):
    filters = Filters(as_of=TODAY)
    rows = widgets.ATTESTATIONS.rows(attested.compliance, filters)
    assert [(r["outcome"], r["count"]) for r in rows] == [("on_time", 2), ("late", 1), ("overdue", 1), ("not_due", 1)]
    assert widgets.ATTESTATIONS.caption(rows, filters) == (
        "3 of 5 attestations on record were completed, 1 late; 1 is overdue."
    )
    until_today = Filters(as_of=TODAY, until=TODAY)
    rows = widgets.ATTESTATIONS.rows(attested.compliance, until_today)
    assert [(r["outcome"], r["count"]) for r in rows] == [("on_time", 1), ("late", 1), ("overdue", 1), ("not_due", 0)]
    assert widgets.ATTESTATIONS.caption(rows, until_today) == (
        f"2 of 3 attestations due by {TODAY} were completed, 1 late; 1 is overdue."
    )
    drilled = widgets.ATTESTATIONS.drill(attested.compliance, filters, {"outcome": "late"})
    assert list(drilled.values_list("pk", flat=True)) == [attested.att["theirs-2025"].pk]


def test_a_senior_manager_counts_only_what_they_may_see(attested, api):
    """A senior manager reads the firm's dashboards, each count taken over what they may see: one who is a trader
    of the equities desk sees its tradeable versions and models (mine, third), nothing of rates (theirs) and no work
    in progress (mine 2.0)."""
    UserProfile.objects.update_or_create(user=attested.trader, defaults={"senior_manager": True})
    filters = Filters(as_of=TODAY)
    cycle = widgets.CYCLE_TIME.rows(attested.trader, filters)
    assert [(r["risk_tier"], r["count"], r["median_days"]) for r in cycle] == [(1, 0, None), (2, 2, 47.5), (3, 0, None)]
    stays = widgets.TIME_IN_STAGE.rows(attested.trader, filters)
    assert {r["stage"]: r["count"] for r in stays if r["count"]} == {
        "draft": 2,
        "submitted": 2,
        "in_validation": 2,
        "validated": 2,
        "approved": 2,
        "pilot": 2,
    }
    attestations = widgets.ATTESTATIONS.rows(attested.trader, filters)
    assert [(r["outcome"], r["count"]) for r in attestations] == [
        ("on_time", 1),
        ("late", 0),
        ("overdue", 1),
        ("not_due", 1),
    ]
    answer = api.as_user(attested.trader).get(reverse("api:dashboard-widget", args=["cycle-time"]))
    assert [r["count"] for r in answer.json()["rows"]] == [0, 2, 0]


# --- The same rows everywhere: table, API, CSV, drill-down ----------------------------------------------------------


def _csv_rows(content: bytes) -> list[list[str]]:
    lines = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    header = next(i for i, line in enumerate(lines) if line and line[-1] == "Records")
    return lines[header + 1 :]


@pytest.mark.parametrize("key", ["time-in-stage", "cycle-time", "attestations"])
def test_api_csv_and_drill_downs_give_the_tables_rows(attested, api, browser_client, key):
    widget = core_widgets.get(key)
    user = attested.compliance
    rows = widget.rows(user, Filters(as_of=TODAY))
    assert sum(r["count"] for r in rows) > 0

    answer = api.as_user(user).get(reverse("api:dashboard-widget", args=[key]))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["caption"] == widget.caption(rows, Filters(as_of=TODAY))
    fields = [k for k, _label in widget.columns()]
    assert [{f: r[f] for f in fields} for r in body["rows"]] == [{f: r[f] for f in fields} for r in rows]

    client = browser_client.as_user(user)
    got = client.get(reverse("dashboards:csv", args=[key]))
    assert got.status_code == 200
    table = _csv_rows(got.content)
    assert [line[:-1] for line in table] == [
        [*widget.shown(r), str(r["count"]), *widget.shown_measures(r)] for r in rows
    ]

    page = client.get(reverse("dashboards:page", args=["overview"]))
    assert page.status_code == 200
    assert widget.caption(rows, Filters(as_of=TODAY)) in page.content.decode()

    everything, links = set(), []
    for row, line in zip(rows, table, strict=True):
        page = client.get(line[-1].removeprefix("http://testserver"))
        assert page.status_code == 200
        listed = page.context["page"].paginator.count
        assert listed == row["count"], (row, listed)
        cell = {d.field: row[d.field] for d in widget.dimensions}
        pks = set(widget.drill(user, Filters(as_of=TODAY), cell).values_list("pk", flat=True))
        assert len(pks) == row["count"]
        assert not pks & everything  # no record is counted in two rows
        everything |= pks
        links += [link for _values, link in page.context["records"]]
    assert everything == set(widget.records(user, Filters(as_of=TODAY)).values_list("pk", flat=True))
    assert client.get(links[0]).status_code == 200  # a record links to its own page


@pytest.mark.parametrize("key", ["time-in-stage", "cycle-time", "attestations"])
def test_who_may_not_read_the_firms_dashboards_gets_404(world, api, browser_client, key):
    firm = world
    for user in (firm.trader, firm.validator, firm.developer):
        assert api.as_user(user).get(reverse("api:dashboard-widget", args=[key])).status_code == 404
        client = browser_client.as_user(user)
        assert client.get(reverse("dashboards:csv", args=[key])).status_code == 404
        assert client.get(reverse("dashboards:records", args=[key])).status_code == 404
    listed = api.as_user(firm.trader).get(reverse("api:dashboard-widget-list")).json()
    assert key not in {w["id"] for w in listed}


# --- A validator's own dashboard ------------------------------------------------------------------------------------


def test_a_validator_sees_only_their_assignments(firm, api, browser_client):
    filters = Filters(as_of=TODAY)
    rows = widgets.MY_ASSIGNMENTS.rows(firm.validator, filters)
    assert [(r["due"], r["count"]) for r in rows] == [("overdue", 1), ("due_30", 1), ("later", 0), ("none", 0)]
    assert widgets.MY_ASSIGNMENTS.caption(rows, filters) == "You have 2 validations assigned; 1 is overdue."
    drilled = widgets.MY_ASSIGNMENTS.drill(firm.validator, filters, {})
    assert set(drilled.values_list("pk", flat=True)) == {firm.mine_v2.pk, firm.fourth_v1.pk}

    other = widgets.MY_ASSIGNMENTS.rows(firm.validator2, filters)
    assert [(r["due"], r["count"]) for r in other] == [("overdue", 0), ("due_30", 0), ("later", 1), ("none", 0)]
    assert set(widgets.MY_ASSIGNMENTS.drill(firm.validator2, filters, {}).values_list("pk", flat=True)) == {
        firm.theirs_v2.pk
    }

    client = browser_client.as_user(firm.validator)
    page = client.get(reverse("dashboards:records", args=["my-assignments"]), {"due": "overdue"})
    assert page.status_code == 200
    assert [link for _values, link in page.context["records"]] == [
        reverse("models_registry:version-detail", args=["mine", "2.0"])
    ]
    assert client.get(reverse("dashboards:records", args=["my-assignments"]), {"due": "soon"}).status_code == 400
    answer = api.as_user(firm.validator).get(reverse("api:dashboard-widget", args=["my-assignments"])).json()
    assert [(r["due"], r["count"]) for r in answer["rows"]] == [(r["due"], r["count"]) for r in rows]
    assert client.get(reverse("dashboards:page", args=["mine"])).status_code == 200

    for user in (firm.trader, firm.compliance, firm.developer):
        assert api.as_user(user).get(reverse("api:dashboard-widget", args=["my-assignments"])).status_code == 404
        assert browser_client.as_user(user).get(reverse("dashboards:csv", args=["my-run-outcomes"])).status_code == 404


def test_a_validators_runs_by_outcome(firm):
    evidence = attach(firm.validator, firm.mine_v2, "dataset", "data.csv")

    def run(user, version, status, *outcomes, on=150):
        found = ValidationRun.objects.create(
            version=version,
            dataset=evidence,
            plan_snapshot={},
            status=status,
            results=[{"test": f"t{i}", "outcome": outcome, "value": 1.0} for i, outcome in enumerate(outcomes)],
            requested_by=user,
            input_sha256="0" * 64,
        )
        ValidationRun.objects.filter(pk=found.pk).update(created_at=day(on))
        return found

    S = ValidationRun.Status
    run(firm.validator, firm.mine_v2, S.SUCCEEDED, "pass", "pass", "skipped")
    run(firm.validator, firm.mine_v2, S.SUCCEEDED, "pass", "warn")
    run(firm.validator, firm.mine_v2, S.SUCCEEDED, "warn", "fail", "pass")
    run(firm.validator, firm.mine_v2, S.FAILED)
    run(firm.validator, firm.mine_v2, S.QUEUED)
    run(firm.validator, firm.mine_v2, S.SUCCEEDED, "fail", on=10)  # before the time range below
    run(firm.validator2, firm.mine_v2, S.SUCCEEDED, "fail")  # not theirs

    filters = Filters(as_of=TODAY, since=day(100).date())
    rows = widgets.MY_RUN_OUTCOMES.rows(firm.validator, filters)
    assert [(r["outcome"], r["count"]) for r in rows] == [
        ("passed", 1),
        ("warnings", 1),
        ("failed", 1),
        ("error", 1),
        ("in_progress", 1),
    ]
    assert widgets.MY_RUN_OUTCOMES.caption(rows, filters) == (
        "Of your 5 validation runs, 1 had failed tests and 1 passed with warnings; 1 did not complete."
    )
    everything = widgets.MY_RUN_OUTCOMES.rows(firm.validator, Filters(as_of=TODAY))
    assert core_widgets.count_where(everything, outcome="failed") == 2
