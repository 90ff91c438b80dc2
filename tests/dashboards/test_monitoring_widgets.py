"""The monitoring health page's widgets (issue 22): monitor health by model and kind, breaches per week, models in
breach now, what the gate blocks now; and a trader's own view of their desk's models at the gate.

A small world with monitors proposed as a version going live gets them, and results in known states, so every cell,
count, caption and drill-down is asserted exactly; scoping by person; the page's queries do not grow with models.
"""

import csv
import datetime as dt
import io
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.core import widgets
from governance.core.models import UserProfile
from governance.core.widgets import Filters
from governance.lifecycle import workflow
from models_registry.choices import RiskTier
from models_registry.models import Model
from risk.dashboards import charts
from risk.dashboards import selectors as dashboards
from risk.gate import killswitch
from risk.monitoring import evaluation, proposals
from risk.monitoring.models import Monitor, MonitorResult
from tests.factories import PASSWORD, make_model, make_version

TODAY = timezone.now().date()
MONDAY = TODAY - dt.timedelta(days=TODAY.weekday())
OLD_DAY = MONDAY - dt.timedelta(weeks=2)  # a Monday two weeks back
THIS_WEEK = dt.datetime.combine(MONDAY, dt.time(0, 0), tzinfo=dt.UTC)  # never in the future
OLD = dt.datetime.combine(OLD_DAY, dt.time(9, 0), tzinfo=dt.UTC)
LONG_AGO = OLD - dt.timedelta(weeks=20)  # before the 12 weeks counted by default


def result(version, measure, outcome, slot, stream="", late=False):
    """A result for `slot`, evaluated at its tick (`late`: now, as a backfill would record it)."""
    monitor = Monitor.objects.get(version=version, measure=measure, stream=stream)
    created = MonitorResult.objects.create(
        monitor=monitor,
        slot=slot,
        outcome=outcome,
        value=0.3125 if outcome == "breach" else None,
        config={"breach": monitor.breach},
        config_hash="0" * 64,
        reason=f"{outcome} for a test",
    )
    if not late:
        MonitorResult.objects.filter(pk=created.pk).update(evaluated_at=slot)
    evaluation.note_latest([monitor.pk])  # as the evaluation service does in the transaction that records a result
    return created


@pytest.fixture
def states(world):
    """mine and theirs in production, their monitors proposed (five kinds each), results in known states:

    mine:   accuracy ok (old), breach (this week); precision breach (long ago), warn (this week);
            hit rate breach (old), warn (this week); KS of the score ok; staleness insufficient data.
    theirs: accuracy warn; P&L ok; losing streak breach (old), ok (this week).
    Every other monitor has no result."""
    proposals.propose(world.mine_v1)
    proposals.propose(world.theirs_v1)
    mine, theirs = world.mine_v1, world.theirs_v1
    result(mine, "accuracy", "ok", OLD)
    result(mine, "accuracy", "breach", THIS_WEEK)
    result(mine, "precision", "breach", LONG_AGO)
    result(mine, "precision", "warn", THIS_WEEK)
    result(mine, "hit_rate", "breach", OLD)
    result(mine, "hit_rate", "warn", THIS_WEEK)
    result(mine, "ks", "ok", THIS_WEEK, stream="score")
    result(mine, "staleness", "insufficient", THIS_WEEK)
    result(theirs, "accuracy", "warn", THIS_WEEK)
    result(theirs, "pnl", "ok", THIS_WEEK)
    result(theirs, "losing_streak", "breach", OLD)
    result(theirs, "losing_streak", "ok", THIS_WEEK)
    return world


def filters(**given) -> Filters:
    return Filters(as_of=TODAY, **given)


def cells(widget, user, given: Filters) -> dict:
    """(model, kind) -> the state the heatmap's cell shows, read from the chart drawn for the page."""
    drawn = dashboards.drawn(user, widget, given)
    figure = charts.figure(widget, drawn.rows, drawn.drill_urls)
    trace = figure["data"][0]
    names = dict(Model.objects.values_list("key", "name"))
    found = {}
    for model, texts in zip(trace["y"], trace["hovertext"], strict=True):  # rows placed by key, labelled by name
        for kind, text in zip(trace["x"], texts, strict=True):
            if text:
                said, state = text.rsplit(": ", 1)
                assert said == f"{names[model]} · {kind}"  # the hover names the model whole
                found[(model, kind)] = state
    return found


def drilled_keys(client, url: str) -> list[str]:
    """The first column of every record a drill-down page lists (and checks its count line agrees)."""
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    found = re.findall(r"<tr><td><a href=\"[^\"]*\">([^<]*)</a>", text)
    count = int(re.search(r'data-testid="drill-count">(\d+) ', text).group(1))
    assert count == len(found)
    return found


# --- Monitor health by model and kind ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_heatmap_shows_the_worst_state_of_each_models_monitors_of_each_kind(states):
    heatmap = widgets.get("monitoring-heatmap")
    assert cells(heatmap, states.compliance, filters()) == {
        ("mine", "Performance"): "Breach",
        ("mine", "Drift"): "No result",  # KS ok, but PSI never evaluated
        ("mine", "Trading"): "Warning",
        ("mine", "Sudden change"): "No result",
        ("mine", "Data staleness"): "Insufficient data",
        ("theirs", "Performance"): "Warning",
        ("theirs", "Drift"): "No result",
        ("theirs", "Trading"): "No result",  # P&L ok, the other trading monitors never evaluated
        ("theirs", "Sudden change"): "No result",
        ("theirs", "Data staleness"): "No result",
    }
    rows = heatmap.rows(states.compliance, filters())
    mine_performance = {r["status"]: r["count"] for r in rows if (r["model_key"], r["kind"]) == ("mine", "performance")}
    assert mine_performance == {"breach": 1, "warn": 1, "none": 3}  # accuracy; precision; recall, ROC AUC, calibration
    assert widgets.total(rows) == Monitor.objects.count() == 34
    assert heatmap.caption(rows, filters()) == "1 of 2 models has a monitor in breach now; 1 more in warning."


@pytest.mark.django_db
def test_with_days_given_each_cell_is_the_worst_result_in_them(states):
    heatmap = widgets.get("monitoring-heatmap")
    old = filters(since=OLD_DAY, until=OLD_DAY)
    shown = cells(heatmap, states.compliance, old)
    assert shown[("mine", "Trading")] == "Breach"  # the hit rate's breach that day, not its warning since
    assert shown[("theirs", "Trading")] == "Breach"
    assert shown[("mine", "Performance")] == "No result"  # accuracy was ok that day; precision had no result
    rows = heatmap.rows(states.compliance, old)
    assert {r["status"] for r in rows if r["model_key"] == "mine" and r["kind"] == "performance"} == {"ok", "none"}
    assert heatmap.caption(rows, old) == "2 of 2 models have a monitor in breach in the days chosen; 0 more in warning."


@pytest.mark.django_db
def test_a_heatmap_cell_drills_down_to_exactly_the_monitors_it_counts(states, browser_client):
    heatmap = widgets.get("monitoring-heatmap")
    client = browser_client.as_user(states.compliance)
    drawn = dashboards.drawn(states.compliance, heatmap, filters())
    for row, url in zip(drawn.rows, drawn.drill_urls, strict=True):
        listed = drilled_keys(client, url)
        assert listed == [row["model_key"]] * row["count"]
    cell = {"model_key": "mine", "kind": "performance", "status": "none"}
    measures = set(heatmap.drill(states.compliance, filters(), cell).values_list("measure", flat=True))
    assert measures == {"recall", "roc_auc", "calibration_error"}
    listed = drilled_keys(client, "/dashboards/widgets/monitoring-heatmap/records/?model_key=mine&status=breach")
    assert listed == ["mine"]
    assert client.get("/dashboards/widgets/monitoring-heatmap/records/?status=stale").status_code == 400


@pytest.mark.django_db
def test_a_senior_manager_counts_only_the_monitors_of_the_models_they_see(states):
    UserProfile.objects.filter(user=states.owner).update(senior_manager=True)  # owns mine, not theirs
    heatmap = widgets.get("monitoring-heatmap")
    rows = heatmap.rows(states.owner, filters())
    assert {r["model_key"] for r in rows} == {"mine"} and widgets.total(rows) == 17
    assert heatmap.caption(rows, filters()) == "1 of 1 model has a monitor in breach now; 0 more in warning."


# --- Breaches per week -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_breaches_are_counted_per_iso_week_with_every_week_shown(states, browser_client):
    weekly = widgets.get("breaches-per-week")
    rows = weekly.rows(states.compliance, filters())
    weeks = [(MONDAY - dt.timedelta(weeks=11 - n)).isoformat() for n in range(12)]
    assert [r["week"] for r in rows] == weeks
    assert [r["count"] for r in rows] == [0] * 9 + [2, 0, 1]  # the precision breach 22 weeks back is not counted
    first = (MONDAY - dt.timedelta(weeks=11)).isoformat()
    assert weekly.caption(rows, filters()) == (
        f"3 monitor results in breach in the 12 weeks from {first} to {TODAY.isoformat()}; "
        f"the worst week, from {OLD_DAY.isoformat()}, had 2."
    )
    client = browser_client.as_user(states.compliance)
    drawn = dashboards.drawn(states.compliance, weekly, filters())
    old_week = drawn.drill_urls[9]
    assert sorted(drilled_keys(client, old_week)) == [OLD.strftime("%Y-%m-%d %H:%M")] * 2
    page = client.get(old_week).content.decode()
    assert "mine" in page and "theirs" in page and "Hit rate" in page and "Longest losing streak" in page
    # Why each breached: its value and the threshold it was graded against.
    assert "Breach threshold" in page and page.count("<td>0.3125</td>") == 2, page
    assert drilled_keys(client, drawn.drill_urls[0]) == []
    # A range given: its weeks, the long-ago breach among them.
    since = LONG_AGO.date() - dt.timedelta(days=1)
    wide = weekly.rows(states.compliance, filters(since=since))
    assert widgets.total(wide) == 4 and wide[0]["week"] == (since - dt.timedelta(days=since.weekday())).isoformat()
    # The CSV and the API give the same rows.
    lines = list(csv.reader(io.StringIO(client.get("/dashboards/widgets/breaches-per-week/csv/").content.decode())))
    assert [line[:2] for line in lines[6:]] == [[r["week"], str(r["count"])] for r in rows]
    api = client.get("/api/v1/dashboards/widgets/breaches-per-week/").json()
    assert [(r["week"], r["count"]) for r in api["rows"]] == [(r["week"], r["count"]) for r in rows]


# --- Models in breach now ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_models_in_breach_now_by_tier_drill_to_their_monitoring_tab(states, browser_client):
    in_breach = widgets.get("models-in-breach")
    rows = in_breach.rows(states.compliance, filters())
    tier = states.mine.risk_tier
    assert {r["risk_tier"]: r["count"] for r in rows if r["count"]} == {tier: 1}  # theirs: warn at worst now
    assert len(rows) == len(RiskTier.values)  # every tier shown
    client = browser_client.as_user(states.compliance)
    drawn = dashboards.drawn(states.compliance, in_breach, filters())
    url = drawn.drill_urls[[r["risk_tier"] for r in rows].index(tier)]
    page = client.get(url).content.decode()
    assert 'href="/models/mine/?section=monitoring"' in page and drilled_keys(client, url) == ["mine"]
    assert (
        in_breach.caption(rows, filters())
        == f"1 model has a monitor in breach now; {int(tier == 1)} of them in tier 1."
    )


# --- What the gate blocks -----------------------------------------------------------------------------------------


@pytest.fixture
def stops(world):
    """On the trader's desk: mine (allowed), k1 (in production, stopped by the kill switch), draft-on-desk (never
    approved); on the other desk: theirs, suspended by its owner."""
    k1 = make_model(
        world.compliance,
        key="k1",
        owner=world.owner,
        developers=[world.developer],
        validator=world.validator,
        desk=world.desk,
    )
    make_version(world.developer, k1, label="1.0", status="production")
    killswitch.kill_switch_engage(
        world.compliance,
        scope="model",
        model=k1,
        reason="Fills far from the expected prices all morning.",
        password=PASSWORD,
    )
    workflow.version_transition(world.owner2, world.theirs_v1, "suspend", comment="Fills look wrong this morning.")
    return world


@pytest.mark.django_db
def test_the_gate_blocks_are_counted_by_the_gates_own_reasons(stops, browser_client):
    blocks = widgets.get("gate-blocks")
    rows = blocks.rows(stops.compliance, filters())
    assert {r["gate"]: r["count"] for r in rows if r["count"]} == {
        "kill_switch": 1,  # k1: suspended by the stop too, counted by the stop
        "suspended": 1,
        "not_approved": 1,
    }
    assert blocks.caption(rows, filters()) == (
        "The gate blocks 3 models now: 1 by the kill switch, 1 suspended, 1 not approved for use."
    )
    client = browser_client.as_user(stops.compliance)
    drawn = dashboards.drawn(stops.compliance, blocks, filters())
    by_reason = {r["gate"]: url for r, url in zip(drawn.rows, drawn.drill_urls, strict=True)}
    assert drilled_keys(client, by_reason["kill_switch"]) == ["k1"]
    assert drilled_keys(client, by_reason["suspended"]) == ["theirs"]
    assert drilled_keys(client, by_reason["not_approved"]) == ["draft-on-desk"]
    page = client.get(by_reason["kill_switch"]).content.decode()
    assert "suspended; stopped by the kill switch" in page  # every reason in its row, in the gate's words


@pytest.mark.django_db
def test_a_trader_sees_their_desks_models_at_the_gate_and_none_of_the_firm_widgets(stops, browser_client):
    mine_widget = widgets.get("my-desk-models")
    rows = mine_widget.rows(stops.trader, filters())
    assert {r["gate"]: r["count"] for r in rows if r["count"]} == {"allowed": 1, "kill_switch": 1}
    assert mine_widget.caption(rows, filters()) == (
        "The gate allows 1 of your desk's 2 models now; it blocks 1: 1 by the kill switch."
    )
    assert list(mine_widget.drill(stops.trader, filters(), {}).values_list("key", flat=True)) == ["k1", "mine"]
    client = browser_client.as_user(stops.trader)
    assert client.get("/dashboards/mine/").status_code == 200
    assert client.get("/dashboards/").url == "/dashboards/mine/"
    for key in ("monitoring-heatmap", "breaches-per-week", "models-in-breach", "gate-blocks"):
        assert client.get(f"/dashboards/widgets/{key}/csv/").status_code == 404
        assert client.get(f"/dashboards/widgets/{key}/records/").status_code == 404
        assert client.get(f"/api/v1/dashboards/widgets/{key}/").status_code == 404
    assert client.get("/dashboards/monitoring/").status_code == 404
    # Compliance has no desk of its own: the trader's widget is not theirs.
    compliance = browser_client.as_user(stops.compliance)
    assert compliance.get("/dashboards/widgets/my-desk-models/records/").status_code == 404


@pytest.mark.django_db
def test_a_trader_of_another_desk_counts_only_their_desk(stops):
    from tests.factories import UserFactory

    rates_trader = UserFactory(username="rates-trader", roles=["trader"], desk=stops.other_desk)
    rows = widgets.get("my-desk-models").rows(rates_trader, filters())
    assert {r["gate"]: r["count"] for r in rows if r["count"]} == {"suspended": 1}  # theirs


# --- The page's cost -------------------------------------------------------------------------------------------------


def _page_queries(client) -> int:
    assert client.get("/dashboards/monitoring/").status_code == 200  # the gate's decisions now in its cache
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/dashboards/monitoring/")
    assert page.status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_the_monitoring_page_reads_the_same_number_of_queries_for_2_and_6_models(
    states, browser_client, django_assert_max_num_queries
):
    client = browser_client.as_user(states.compliance)
    with_two = _page_queries(client)
    for n in range(4):
        model = make_model(
            states.compliance,
            key=f"more-{n}",
            owner=states.owner,
            developers=[states.developer],
            validator=states.validator,
        )
        version = make_version(states.developer, model, label="1.0", status="pilot")
        proposals.propose(version)
        result(version, "accuracy", "breach", THIS_WEEK)
    assert widgets.total(widgets.get("models-in-breach").rows(states.compliance, filters())) == 5
    with_six = _page_queries(client)
    assert with_six == with_two
    with django_assert_max_num_queries(with_two):
        assert client.get("/dashboards/monitoring/").status_code == 200


# --- My desk's pilot limits ---------------------------------------------------------------------------------------


@pytest.fixture
def pilots(world):
    """p1 in pilot on the trader's desk (maximum notional 5,000,000), ten trades of 100 x 500 today and four
    yesterday; p2 in pilot on the other desk, five trades today."""
    from tests.risk import monitoring_data as data

    today = dt.datetime.combine(TODAY, dt.time.min, tzinfo=dt.UTC)
    out = {}
    for key, desk, today_trades in (("p1", world.desk, 10), ("p2", world.other_desk, 5)):
        every = dt.timedelta(seconds=1)
        # Yesterday, really: registered and in pilot in the morning, four trades reported in the evening.
        with time_machine.travel(today - dt.timedelta(hours=14), tick=False):
            model = make_model(
                world.compliance,
                key=key,
                owner=world.owner,
                developers=[world.developer],
                validator=world.validator,
                desk=desk,
            )
            out[key] = make_version(world.developer, model, label="1.0", status="pilot")
        with time_machine.travel(today - dt.timedelta(hours=4), tick=False):
            data.trades(world.developer, out[key], 4, start=today - dt.timedelta(hours=5), every=every, first_id=100)
        data.trades(world.developer, out[key], today_trades, start=today, every=every)
    return out


@pytest.mark.django_db
def test_a_trader_sees_how_much_of_each_pilot_limit_of_their_desk_the_day_used(world, pilots, browser_client):
    limits = widgets.get("my-pilot-limits")
    rows = limits.rows(world.trader, filters())
    assert rows == [{"pilot_of": "p1 1.0", "count": 1, "used": pytest.approx(10.0)}]  # 500,000 of 5,000,000
    assert limits.caption(rows, filters()) == (
        "Your desk has 1 version in pilot; the most used, p1 1.0, traded 10 % of its maximum notional today."
    )
    client = browser_client.as_user(world.trader)
    drawn = dashboards.drawn(world.trader, limits, filters())
    page = client.get(drawn.drill_urls[0]).content.decode()
    assert drilled_keys(client, drawn.drill_urls[0]) == ["p1"]
    assert "USD 5,000,000" in page and "USD 500,000" in page and "10.0 %" in page
    assert client.get("/dashboards/mine/").status_code == 200
    # Yesterday: the four trades before midnight.
    yesterday = limits.rows(world.trader, Filters(as_of=TODAY - dt.timedelta(days=1)))
    assert yesterday[0]["used"] == pytest.approx(4.0)
    assert (
        browser_client.as_user(world.compliance).get("/api/v1/dashboards/widgets/my-pilot-limits/").status_code == 404
    )


# --- The state kept on each monitor ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_recording_a_result_keeps_the_monitors_newest_outcome_and_the_start_of_its_breaches(world):
    from risk.monitoring.evaluation import Measured, Reading, record

    proposals.propose(world.mine_v1)
    monitor = Monitor.objects.get(version=world.mine_v1, measure="accuracy", stream="")
    day = dt.datetime.combine(TODAY - dt.timedelta(days=5), dt.time(6), tzinfo=dt.UTC)

    def recorded(outcome, slot):
        record(Measured(monitor, outcome, Reading(0.5, rows=10)), slot)
        monitor.refresh_from_db()
        return monitor.latest_outcome, monitor.latest_slot, monitor.breach_since

    assert (monitor.latest_outcome, monitor.breach_since) == (None, None)  # never evaluated
    assert recorded("breach", day) == ("breach", day, day)
    assert recorded("breach", day + dt.timedelta(days=1)) == ("breach", day + dt.timedelta(days=1), day)
    assert recorded("ok", day + dt.timedelta(days=2)) == ("ok", day + dt.timedelta(days=2), None)
    assert recorded("breach", day + dt.timedelta(days=3)) == (
        "breach",
        day + dt.timedelta(days=3),
        day + dt.timedelta(days=3),
    )
    # A late result for an older tick changes the run it falls in, never the newest outcome.
    assert recorded("ok", day - dt.timedelta(days=1)) == (
        "breach",
        day + dt.timedelta(days=3),
        day + dt.timedelta(days=3),
    )


# --- Models in breach for over 7 days: the key risk indicator ---------------------------------------------------


def went_live(world, key, desk, when: dt.datetime):
    """A model registered and taken into production at `when` (the clock set back), its monitors proposed."""
    with time_machine.travel(when, tick=False):
        model = make_model(
            world.compliance,
            key=key,
            owner=world.owner,
            developers=[world.developer],
            validator=world.validator,
            desk=desk,
        )
        version = make_version(world.developer, model, label="1.0", status="production")
        proposals.propose(version)
    return version


def recorded(version, measure, outcome, slot, stream="", late=False):
    """A result for `slot` recorded by the evaluation service as a cycle does, at its tick (`late`: now, as a
    backfill records it)."""
    from risk.monitoring.evaluation import Measured, Reading, record

    monitor = Monitor.objects.get(version=version, measure=measure, stream=stream)
    if late:
        return record(Measured(monitor, outcome, Reading(0.5, rows=10)), slot)
    with time_machine.travel(slot, tick=False):
        return record(Measured(monitor, outcome, Reading(0.5, rows=10)), slot)


@pytest.mark.django_db
def test_the_indicator_counts_models_whose_breach_has_lasted_more_than_7_days(world):
    from risk.monitoring.widgets import MODELS_IN_BREACH_OVER_7_DAYS

    at = lambda days: dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(6), tzinfo=dt.UTC)  # noqa: E731
    long_, broken = went_live(world, "long", world.desk, at(12)), went_live(world, "broken", world.other_desk, at(12))
    for days in (10, 9, 8, 4, 0):  # long: in breach every day for ten days (a week ago among them)
        recorded(long_, "accuracy", "breach", at(days))
    for days in (10, 9):  # broken: in breach for ten days, but ok three days ago: its breach since then is new
        recorded(broken, "accuracy", "breach", at(days))
    recorded(broken, "accuracy", "ok", at(3))
    for days in (2, 0):
        recorded(broken, "accuracy", "breach", at(days))
    long_breach = widgets.get("models-in-long-breach")
    assert list(long_breach.drill(world.compliance, filters(), {}).values_list("key", flat=True)) == ["long"]
    assert MODELS_IN_BREACH_OVER_7_DAYS.value(world.compliance, filters()) == 1
    assert MODELS_IN_BREACH_OVER_7_DAYS.value(world.outsider, filters()) == 0  # in the reader's scope
    assert widgets.total(widgets.get("models-in-breach").rows(world.compliance, filters())) == 2  # both, now
    # As it stood at the end of past days: four days ago broken had been in breach for seven days at most...
    assert MODELS_IN_BREACH_OVER_7_DAYS.value(world.compliance, Filters(as_of=TODAY - dt.timedelta(days=4))) == 0
    # ...and two days ago, long for eight days (since ten days back), broken had broken off.
    two_days_ago = Filters(as_of=TODAY - dt.timedelta(days=2))
    assert list(long_breach.drill(world.compliance, two_days_ago, {}).values_list("key", flat=True)) == ["long"]
    rows = long_breach.rows(world.compliance, two_days_ago)
    assert long_breach.caption(rows, two_days_ago).startswith(
        f"1 model has had a monitor in breach for more than 7 days on {(TODAY - dt.timedelta(days=2)).isoformat()}"
    )
    # Before they went live, neither existed: nothing to count.
    assert widgets.total(widgets.get("models-in-breach").rows(world.compliance, Filters(as_of=at(13).date()))) == 0


# --- As of a past day ------------------------------------------------------------------------------------------------


def _everything(user, given: Filters) -> dict:
    return {
        key: widgets.get(key).rows(user, given)
        for key in (
            "monitoring-heatmap",
            "breaches-per-week",
            "models-in-breach",
            "models-in-long-breach",
            "gate-blocks",
        )
    }


@pytest.mark.django_db
def test_a_past_day_shows_what_was_known_at_its_end_whatever_came_after(world):
    from risk.gate import decisions

    # A past that happened in the past: two models live since before OLD, a draft registered then, results recorded
    # at their ticks, the gate's decisions recorded yesterday at noon. The world's own models came today.
    since = OLD - dt.timedelta(days=3)
    early, late = went_live(world, "early", world.desk, since), went_live(world, "late", world.other_desk, since)
    with time_machine.travel(since, tick=False):
        make_model(world.compliance, key="early-draft", owner=world.owner, developers=[world.developer])
    recorded(early, "accuracy", "ok", OLD)
    recorded(early, "hit_rate", "breach", OLD)
    recorded(late, "losing_streak", "breach", OLD)
    recorded(late, "losing_streak", "ok", OLD + dt.timedelta(days=1))
    yesterday = Filters(as_of=TODAY - dt.timedelta(days=1))
    noon = dt.datetime.combine(yesterday.as_of, dt.time(12), tzinfo=dt.UTC)
    with time_machine.travel(noon, tick=False):
        decisions.refresh()  # the gate's periodic refresh, yesterday
    before = _everything(world.compliance, yesterday)
    assert widgets.total(before["breaches-per-week"]) == 2
    assert {r["gate"]: r["count"] for r in before["gate-blocks"] if r["count"]} == {"not_approved": 1}
    assert {r["model_key"] for r in before["monitoring-heatmap"]} == {"early", "late"}
    assert widgets.total(before["models-in-breach"]) == 1  # early's hit rate
    # Today: a breach of late, a late result for a past tick of early (recorded today), a kill switch on late.
    recorded(late, "pnl", "breach", timezone.now())
    recorded(early, "recall", "breach", OLD + dt.timedelta(hours=1), late=True)
    killswitch.kill_switch_engage(
        world.compliance,
        scope="model",
        model=late.model,
        reason="Stopped for a test of past days.",
        password=PASSWORD,
    )
    decisions.refresh()
    assert _everything(world.compliance, yesterday) == before
    now = _everything(world.compliance, filters())
    assert {r["gate"]: r["count"] for r in now["gate-blocks"] if r["count"]}["kill_switch"] == 1
    assert now["monitoring-heatmap"] != before["monitoring-heatmap"]


# --- Many models: a row per desk ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_with_many_models_and_no_desk_chosen_the_heatmap_shows_desks_and_a_desk_shows_its_models(
    states, browser_client, monkeypatch
):
    from risk.monitoring import widgets as monitoring_widgets

    monkeypatch.setattr(monitoring_widgets, "MAX_MODEL_ROWS", 1)
    heatmap = widgets.get("monitoring-heatmap")
    drawn = dashboards.drawn(states.compliance, heatmap, filters())
    assert [d.field for d in drawn.widget.dimensions] == ["desk", "kind", "status"]
    figure = charts.figure(drawn.widget, drawn.rows, drawn.drill_urls)
    assert figure["data"][0]["y"] == ["rates", "sys-eq"]
    assert figure["layout"]["yaxis"]["ticktext"] == ["Rates", "Systematic Equities"]  # desks by name
    assert figure["layout"]["meta"]["narrow"]["layout"]["yaxis.ticktext"] == [
        "Rates",
        "Systematic Equi…",
    ]  # cut for a phone
    assert drawn.caption.startswith("2 live models in scope: a row for each desk")
    assert "2 of 2 desks" not in drawn.caption and "1 of 2 desks has a monitor in breach now" in drawn.caption
    client = browser_client.as_user(states.compliance)
    cell = next(
        url
        for row, url in zip(drawn.rows, drawn.drill_urls, strict=True)
        if row["desk"] == "sys-eq" and row["status"] == "breach"
    )
    assert "desk=sys-eq" in cell and drilled_keys(client, cell) == ["mine"]  # the desk's monitors counted there
    csv_rows = list(csv.reader(io.StringIO(client.get("/dashboards/widgets/monitoring-heatmap/csv/").content.decode())))
    assert csv_rows[5][:3] == ["Desk", "Kind", "State"] and {line[0] for line in csv_rows[6:]} == {
        "Rates",
        "Systematic Equities",
    }
    # A desk chosen: its models, named.
    narrowed = dashboards.drawn(states.compliance, heatmap, filters(desk="sys-eq", desk_name="Systematic Equities"))
    assert {r["model_key"] for r in narrowed.rows} == {"mine"}
    assert narrowed.caption.endswith("A row for each model of desk Systematic Equities.")
    assert charts.figure(narrowed.widget, narrowed.rows, narrowed.drill_urls)["layout"]["yaxis"]["ticktext"] == [
        states.mine.name
    ]
    page = client.get("/dashboards/monitoring/")
    assert page.status_code == 200 and "a row for each desk" in page.content.decode()


@pytest.mark.django_db
def test_a_decision_that_stands_after_a_change_is_read_from_the_record_without_asking_the_gate(stops):
    from risk.gate import decisions, generations
    from risk.gate.models import GateDecision

    decisions.refresh()
    blocks = widgets.get("gate-blocks")
    before = blocks.rows(stops.compliance, filters())
    generations.bump([generations.key_for(stops.mine.pk)])  # a change to mine that leaves its decision as it was
    decisions.decision_for(Model.objects.select_related("desk").get(pk=stops.mine.pk))  # asked again: the same
    assert GateDecision.objects.filter(model=stops.mine).count() == 1  # no new revision...
    record = GateDecision.objects.get(model=stops.mine)
    assert record.generation == generations.read([stops.mine.pk])[stops.mine.pk]  # ...but its inputs noted
    with CaptureQueriesContext(connection) as captured:
        assert blocks.rows(stops.compliance, filters()) == before
    assert len(captured) == 3  # the records, the models, their generations: the gate itself not asked
