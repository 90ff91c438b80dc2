"""The "Incidents and controls" page's widgets (issue 22): open incidents, times to detect, mitigate and close,
causes; kill-switch tests and uses; the exports of the year. A world built through the services at known moments
(the clock moved as tests/risk do it), exact counts and medians, drill-downs equal to what is counted, API and CSV
rows equal to the page's, scoping through the access registry, and 404 for those without the page's rule."""

import csv
import datetime as dt
import io
import re

import pytest
from django.utils import timezone

from governance.core import widgets
from governance.core.models import UserProfile
from governance.core.widgets import Filters
from risk.dashboards import selectors
from risk.incidents import services
from risk.incidents.models import Incident
from risk.monitoring import evaluation, proposals
from risk.monitoring.models import Monitor
from tests.factories import PASSWORD
from tests.outbox import deliver
from tests.risk import monitoring_data as data
from tests.snapshots import snapshot

REAL_NOW = timezone.now()
TODAY = REAL_NOW.date()
# Every event of the world happens at a whole second in the past: T0 is 30 days ago, 09:00 UTC.
T0 = dt.datetime.combine(TODAY - dt.timedelta(days=30), dt.time(9), tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


@pytest.fixture
def clock(monkeypatch):
    """Set Vigil's clock (django.utils.timezone.now, which the services read) to a moment."""
    moment = [REAL_NOW]
    monkeypatch.setattr(timezone, "now", lambda: moment[0])

    def at(when):
        moment[0] = when

    return at


def _report(actor, model, severity, title):
    return services.incident_report(
        actor, model, title=title, description=f"{title}: seen on the desk's blotter.", severity=severity
    )


def _close(incident, root_cause="The feed's timestamps were in local time."):
    services.incident_close(
        incident.model.owner if incident.severity not in services.SIGNED_CLOSURE else _compliance(),
        incident,
        root_cause=root_cause,
        corrective_actions="Timestamps are read as UTC; a test covers it.",
        password=PASSWORD,
    )


_people = {}


def _compliance():
    return _people["compliance"]


@pytest.fixture
def incidents(world, clock, request):
    """Built once per session (tests/snapshots.py), restored for every later test."""
    return snapshot("incident-widgets", lambda: _build_incidents(world, clock), request)


def _build_incidents(world, clock):
    """D (mine, medium, mitigated, opened 40 days ago); F (mine, a monitor's breach, closed in 3 h, detected 1.5 h
    after the breaching slot); A, G (mine, critical, closed in 6.5 h and 4 h, mitigated after 2 h and 1 h);
    B (theirs, critical, closed in 20 h, never marked mitigated); C (mine, high, investigating); E (theirs, low,
    open); K (theirs, critical, open). Then the clock is back to now."""
    _people["compliance"] = world.compliance
    c = world.compliance
    made = {}
    clock(dt.datetime.combine(TODAY - dt.timedelta(days=40), dt.time(10), tzinfo=dt.UTC))
    made["D"] = _report(world.developer, world.mine, "medium", "Fills far from the model's prices")
    clock(T0 - 9 * D)
    services.incident_update(c, made["D"], status="mitigated")

    # F: the hit-rate monitor of mine breaches on the slot T0 - 90 min; the incident opens at T0.
    clock(T0 - 2 * D)
    proposals.propose(world.mine_v1)
    monitor = Monitor.objects.get(version=world.mine_v1, measure="hit_rate")
    slot = T0 - dt.timedelta(minutes=90)
    clock(slot)
    data.trades(world.developer, world.mine_v1, 200, start=slot - 5 * D, win_rate=0.1)
    assert evaluation.evaluate(monitor, slot).outcome == "breach"
    clock(T0)
    deliver()
    made["F"] = Incident.objects.get(monitor=monitor)
    clock(T0 + 3 * H)
    _close(made["F"])

    clock(T0 + D)
    made["A"] = _report(world.trader, world.mine, "critical", "Orders sent twice")
    clock(T0 + D + 2 * H)
    services.incident_update(c, made["A"], status="investigating")
    services.incident_update(c, made["A"], status="mitigated")
    clock(T0 + D + dt.timedelta(hours=6, minutes=30))
    _close(made["A"])

    clock(T0 + 2 * D)
    made["G"] = _report(world.developer, world.mine, "critical", "Prices frozen")
    clock(T0 + 2 * D + H)
    services.incident_update(c, made["G"], status="mitigated")
    clock(T0 + 2 * D + 4 * H)
    _close(made["G"])

    clock(T0 + 3 * D)
    made["B"] = _report(c, world.theirs, "critical", "Curve built on yesterday's fixings")
    clock(T0 + 3 * D + 20 * H)
    _close(made["B"])

    clock(T0 + 4 * D)
    made["C"] = _report(world.developer, world.mine, "high", "Slippage above the limit")
    services.incident_update(c, made["C"], status="investigating")
    clock(T0 + 5 * D)
    made["E"] = _report(world.developer2, world.theirs, "low", "Late end-of-day marks")
    clock(T0 + 6 * D)
    made["K"] = _report(c, world.theirs, "critical", "Quotes outside the band")
    clock(REAL_NOW)
    for incident in made.values():
        incident.refresh_from_db()
    return made


def _rows(key, user, **filters):
    widget = widgets.get(key)
    return widget, widget.rows(user, Filters(as_of=TODAY, **filters))


def _drilled(widget, user, filters, row) -> set:
    cell = {d.field: row[d.field] for d in widget.dimensions}
    return set(widget.drill(user, filters, cell).values_list("pk", flat=True))


def _by(rows, *fields):
    return {tuple(row[f] for f in fields) if len(fields) > 1 else row[fields[0]]: row for row in rows}


@pytest.mark.django_db
def test_open_incidents_are_counted_by_severity_and_status_with_the_oldest(world, incidents):
    widget, rows = _rows("open-incidents", world.compliance)
    counted = {(r["severity"], r["status"]): r["count"] for r in rows if r["count"]}
    assert counted == {
        ("critical", "open"): 1,
        ("high", "investigating"): 1,
        ("medium", "mitigated"): 1,
        ("low", "open"): 1,
    }
    assert _by(rows, "severity", "status")[("medium", "mitigated")]["oldest_days"] == 40
    assert widget.caption(rows, Filters(as_of=TODAY)) == (
        "4 incidents are open, 1 of them critical; the oldest opened 40 days ago."
    )
    filters = Filters(as_of=TODAY)
    assert _drilled(widget, world.compliance, filters, {"severity": "critical", "status": "open"}) == {
        incidents["K"].pk
    }
    everything = set(widget.drill(world.compliance, filters, {}).values_list("pk", flat=True))
    assert everything == {incidents[k].pk for k in "CDEK"}


@pytest.mark.django_db
def test_times_to_detect_mitigate_and_close_are_medians_of_the_incidents_closed(world, incidents):
    widget, rows = _rows("incident-times", world.compliance)
    by_severity = _by(rows, "severity")
    assert [r["severity"] for r in rows] == ["critical", "high", "medium", "low"]  # every severity, zeros shown
    critical = by_severity["critical"]
    assert critical["count"] == 3
    assert critical["close_median"] == pytest.approx(6.5)  # 4, 6.5, 20
    assert critical["close_p90"] == pytest.approx(20)
    assert critical["mitigate_median"] == pytest.approx(2)  # 1, 2, and 20 for B (never marked mitigated)
    assert critical["detect_median"] is None  # reported by people: no recorded start
    by_monitor = incidents["F"].severity  # the policy's severity for mine's tier, never critical
    assert by_monitor != "critical"
    assert by_severity[by_monitor]["count"] == 1
    assert by_severity[by_monitor]["detect_median"] == pytest.approx(1.5)  # the breaching slot to the opening
    assert by_severity[by_monitor]["close_median"] == pytest.approx(3)
    none = next(s for s in ("low", "medium", "high") if s != by_monitor)
    assert by_severity[none]["count"] == 0 and by_severity[none]["close_median"] is None
    assert widget.caption(rows, Filters(as_of=TODAY)) == (
        "Critical incidents closed in a median 6.5 hours (90th percentile 20)."
    )
    filters = Filters(as_of=TODAY)
    assert _drilled(widget, world.compliance, filters, critical) == {incidents[k].pk for k in "ABG"}
    # The time range is of closing: from T0 + 2 days, only G and B closed.
    since = (T0 + 2 * D).date()
    _w, ranged = _rows("incident-times", world.compliance, since=since)
    assert _by(ranged, "severity")["critical"]["count"] == 2
    assert _by(ranged, "severity")[by_monitor]["count"] == 0
    assert _by(ranged, "severity")["critical"]["close_median"] == pytest.approx(12)  # 4 and 20


@pytest.mark.django_db
def test_causes_are_the_monitor_kind_or_a_persons_report_in_the_time_range(world, incidents):
    widget, rows = _rows("incident-causes", world.compliance)
    kind = Monitor.objects.get(measure="hit_rate", version=world.mine_v1).kind
    assert {r["cause"]: r["count"] for r in rows if r["count"]} == {kind: 1, "person": 7}
    assert widget.caption(rows, Filters(as_of=TODAY)).startswith("8 incidents opened: 1 by a monitor's breach, 7 by")
    filters = Filters(as_of=TODAY, since=TODAY - dt.timedelta(days=35))  # D opened 40 days ago: outside
    _w, ranged = _rows("incident-causes", world.compliance, since=filters.since)
    assert widgets.count_where(ranged, cause="person") == 6
    assert _drilled(widget, world.compliance, filters, {"cause": "person"}) == {incidents[k].pk for k in "ABCEGK"}
    # A desk filter narrows to the models of that desk (theirs is on rates).
    _w, rates = _rows("incident-causes", world.compliance, desk=world.other_desk.code)
    assert widgets.total(rates) == 3


@pytest.mark.django_db
def test_a_senior_manager_counts_only_the_incidents_of_models_they_may_see(world, incidents):
    UserProfile.objects.update_or_create(user=world.owner2, defaults={"senior_manager": True})
    owner2 = type(world.owner2).objects.get(pk=world.owner2.pk)  # without the cached answer
    _w, rows = _rows("open-incidents", owner2)
    assert widgets.total(rows) == 2  # E and K of theirs; not C and D of mine
    _w, rows = _rows("incident-times", owner2)
    assert widgets.total(rows) == 1 and _by(rows, "severity")["critical"]["close_median"] == pytest.approx(20)
    _w, rows = _rows("incident-causes", owner2)
    assert widgets.total(rows) == 3


def _csv_rows(response) -> list[list[str]]:
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    header = next(i for i, line in enumerate(lines) if line and line[-1] == "Records")
    return lines[header + 1 :]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["open-incidents", "incident-times", "incident-causes"])
def test_api_csv_and_records_show_the_same_rows(world, incidents, api, browser_client, key):
    widget = widgets.get(key)
    drawn = selectors.drawn(world.compliance, widget, Filters(as_of=TODAY))
    body = api.as_user(world.compliance).get(f"/api/v1/dashboards/widgets/{key}/").json()
    assert [r["count"] for r in body["rows"]] == [r["count"] for r in drawn.rows]
    for measure in widget.measures:
        assert [r[measure.key] for r in body["rows"]] == pytest.approx([r[measure.key] for r in drawn.rows])
    assert body["caption"] == drawn.caption
    page = browser_client.as_user(world.compliance)
    rows = _csv_rows(page.get(f"/dashboards/widgets/{key}/csv/"))
    assert [int(r[len(widget.dimensions)]) for r in rows] == [r["count"] for r in drawn.rows]
    assert [r[: len(widget.dimensions)] for r in rows] == [widget.shown(r) for r in drawn.rows]
    # Each row's drill-down lists exactly the incidents it counts.
    for row, url in zip(drawn.rows, drawn.drill_urls, strict=True):
        if not row["count"]:
            continue
        listed = page.get(url)
        assert listed.status_code == 200
        counted = _drilled(widget, world.compliance, Filters(as_of=TODAY), row)
        for pk in counted:
            assert f"/incidents/{pk}/" in listed.content.decode()
        assert len(re.findall(r'href="/incidents/[0-9]+/"', listed.content.decode())) == len(counted)


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["open-incidents", "incident-times", "incident-causes"])
def test_a_trader_gets_404_on_the_incident_widgets(world, incidents, api, browser_client, key):
    page = browser_client.as_user(world.trader)
    assert page.get(f"/dashboards/widgets/{key}/csv/").status_code == 404
    assert page.get(f"/dashboards/widgets/{key}/records/").status_code == 404
    assert api.as_user(world.trader).get(f"/api/v1/dashboards/widgets/{key}/").status_code == 404
    assert page.get("/dashboards/incidents/").status_code == 404
