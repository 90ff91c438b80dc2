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
from governance.core.models import Job, UserProfile
from governance.core.widgets import Filters
from risk.dashboards import selectors
from risk.exports import self_assessment
from risk.exports import services as export_services
from risk.exports.models import Export
from risk.gate import killswitch
from risk.gate.models import KillSwitch
from risk.incidents import services
from risk.incidents.models import Incident
from risk.monitoring import evaluation, proposals
from risk.monitoring.models import Monitor
from tests.factories import PASSWORD, make_model, make_version
from tests.outbox import deliver
from tests.risk import monitoring_data as data
from tests.snapshots import snapshot

real_now = timezone.now  # the real clock, kept before any test moves it
REAL_NOW = real_now()
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


def _rows(key, user, as_of=TODAY, **filters):
    widget = widgets.get(key)
    return widget, widget.rows(user, Filters(as_of=as_of, **filters))


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


# --- The kill switch: tests of algorithmic models, and engagements ----------------------------------------------

STOP = "Erratic fills across the desk since the open; stop until explained."
GO = "Fills explained by a venue outage; it is over now."


def _days_ago(days, hour=9):
    return dt.datetime.combine(TODAY - dt.timedelta(days=days), dt.time(hour), tzinfo=dt.UTC)


def _engage(actor, **scope):
    return killswitch.kill_switch_engage(actor, reason=STOP, password=PASSWORD, **scope)


def _release(actor, engagement):
    return killswitch.kill_switch_release(actor, engagement, reason=GO, password=PASSWORD)


def _build_controls(world, clock):
    """Tests 50, 30 and 2 days ago; mine last blocked by the one 30 days ago (due within a week), theirs 50 days ago
    (overdue), `late` 2 days ago (within policy), `fresh` never; `pricer` (pricing) is no algorithmic model.
    Engagements: theirs (moved to 31 days ago), mine and the rates desk (today), all released.

    A stop is engaged and released at the real time: the release resumes a version only if the stop's suspension is
    its last transition, and the world's versions reached production when it was built."""
    c = world.compliance
    clock(_days_ago(50))
    killswitch.kill_switch_test(c)
    clock(real_now())
    theirs_stop = _engage(c, scope="model", model=world.theirs)
    clock(_days_ago(30))
    killswitch.kill_switch_test(c)  # theirs is stopped: the gate did not allow it, so it is not tested
    clock(real_now())
    _release(c, theirs_stop)
    KillSwitch.objects.filter(pk=theirs_stop.pk).update(engaged_at=_days_ago(31))
    clock(_days_ago(10))
    late = make_model(
        c, key="late", owner=world.owner, developers=[world.developer], validator=world.validator, desk=world.desk
    )
    make_version(world.developer, late, label="1.0", status="production")
    pricer = make_model(
        c,
        key="pricer",
        owner=world.owner,
        developers=[world.developer],
        desk=world.desk,
        validator=world.validator,
        purpose="pricing",
    )
    make_version(world.developer, pricer, label="1.0", status="production")
    clock(real_now())
    mine_stop = _engage(c, scope="model", model=world.mine)
    desk_stop = _engage(c, scope="desk", desk=world.other_desk)
    clock(_days_ago(2))
    killswitch.kill_switch_test(c)  # late and pricer blocked; mine and theirs stopped
    clock(real_now())
    _release(c, mine_stop)
    _release(c, desk_stop)
    clock(_days_ago(1))
    fresh = make_model(
        c, key="fresh", owner=world.owner, developers=[world.developer], validator=world.validator, desk=world.desk
    )
    make_version(world.developer, fresh, label="1.0", status="production")
    clock(REAL_NOW)
    return {"stops": [theirs_stop.pk, mine_stop.pk, desk_stop.pk]}


@pytest.fixture
def controls(world, clock, request):
    return snapshot("control-widgets", lambda: _build_controls(world, clock), request)


@pytest.mark.django_db
def test_algorithmic_models_are_counted_by_the_age_of_their_last_kill_switch_test(world, controls):
    widget, rows = _rows("kill-switch-tests", world.compliance)
    assert {r["test_age"]: r["count"] for r in rows} == {"within_policy": 1, "due_soon": 1, "overdue": 1, "never": 1}
    filters = Filters(as_of=TODAY)
    keys = {
        age: set(widget.drill(world.compliance, filters, {"test_age": age}).values_list("key", flat=True))
        for age in ("within_policy", "due_soon", "overdue", "never")
    }
    assert keys == {"within_policy": {"late"}, "due_soon": {"mine"}, "overdue": {"theirs"}, "never": {"fresh"}}
    assert widget.caption(rows, filters) == (
        "1 algorithmic model has never had its kill switch tested; 1 more is overdue, of 4 in use."
    )
    # On the day of the last test, the models as they stood then (governance/core/history.py): late, in production
    # and just tested, within policy; pricer no algorithmic model; fresh not yet registered; and the world's models,
    # registered when the world was built (today), not yet either.
    _w, then = _rows("kill-switch-tests", world.compliance, as_of=TODAY - dt.timedelta(days=2))
    assert {r["test_age"]: r["count"] for r in then} == {"within_policy": 1, "due_soon": 0, "overdue": 0, "never": 0}


@pytest.mark.django_db
def test_kill_switch_uses_are_counted_by_scope_in_the_time_range(world, controls):
    widget, rows = _rows("kill-switch-uses", world.compliance)
    assert [(r["scope"], r["count"]) for r in rows] == [("all", 0), ("desk", 1), ("model", 2)]
    filters = Filters(as_of=TODAY)
    assert set(widget.drill(world.compliance, filters, {}).values_list("pk", flat=True)) == set(controls["stops"])
    assert widget.caption(rows, filters) == (
        "The kill switch was engaged 3 times in the period: 0 firm-wide, 1 of a desk, 2 of one model."
    )
    _w, recent = _rows("kill-switch-uses", world.compliance, since=TODAY - dt.timedelta(days=5))
    assert [(r["scope"], r["count"]) for r in recent] == [("all", 0), ("desk", 1), ("model", 1)]
    # A desk filter keeps the stops that reached its models: mine's (sys-eq), not theirs' nor the rates desk's.
    _w, desk = _rows("kill-switch-uses", world.compliance, desk=world.desk.code)
    assert [(r["scope"], r["count"]) for r in desk] == [("all", 0), ("desk", 0), ("model", 1)]
    # The auditor reads them too.
    _w, audited = _rows("kill-switch-uses", world.auditor)
    assert widgets.total(audited) == 3


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["kill-switch-tests", "kill-switch-uses"])
def test_kill_switch_widgets_api_csv_and_drill_downs_agree(world, controls, api, browser_client, key):
    widget = widgets.get(key)
    drawn = selectors.drawn(world.compliance, widget, Filters(as_of=TODAY))
    body = api.as_user(world.compliance).get(f"/api/v1/dashboards/widgets/{key}/").json()
    assert [r["count"] for r in body["rows"]] == [r["count"] for r in drawn.rows]
    page = browser_client.as_user(world.compliance)
    rows = _csv_rows(page.get(f"/dashboards/widgets/{key}/csv/"))
    assert [int(r[1]) for r in rows] == [r["count"] for r in drawn.rows]
    link = r'href="/kill-switch/[0-9]+/"' if key == "kill-switch-uses" else r'href="/models/[a-z-]+/"'
    for row, url in zip(drawn.rows, drawn.drill_urls, strict=True):
        listed = page.get(url)
        assert listed.status_code == 200
        assert len(re.findall(link, listed.content.decode())) == row["count"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["kill-switch-tests", "kill-switch-uses"])
def test_the_kill_switch_widgets_are_compliance_and_auditors_only(world, controls, api, browser_client, key):
    UserProfile.objects.update_or_create(user=world.owner2, defaults={"senior_manager": True})
    for user in (world.trader, world.owner2):  # a senior manager reads the firm's dashboards, not the kill switch
        page = browser_client.as_user(user)
        assert page.get(f"/dashboards/widgets/{key}/csv/").status_code == 404
        assert page.get(f"/dashboards/widgets/{key}/records/").status_code == 404
        assert api.as_user(user).get(f"/api/v1/dashboards/widgets/{key}/").status_code == 404


# --- Exports of the year, and the RTS 6 self-assessment --------------------------------------------------------


def _build_exports(world):
    """The auditor's exports this year: one succeeded, one failed, one expired, one still queued; one of last year;
    compliance's own (not the auditor's to count). The running year's self-assessment, signed by compliance."""
    today = f"{TODAY}"
    mine = {}
    for name in ("succeeded", "failed", "expired", "queued", "last_year"):
        mine[name] = export_services.export_request(world.auditor, "audit_log", since=today, until=today)
    export_services.export_request(world.auditor, "inventory", format="xlsx", as_of="")  # queued too
    Job.objects.filter(pk=mine["succeeded"].job_id).update(status="succeeded")
    Job.objects.filter(pk=mine["failed"].job_id).update(status="failed")
    Job.objects.filter(pk=mine["expired"].job_id).update(status="succeeded")
    Export.objects.filter(pk=mine["expired"].pk).update(expires_at=REAL_NOW - H)
    last_year = dt.datetime(TODAY.year - 1, 12, 30, 9, tzinfo=dt.UTC)
    Export.objects.filter(pk=mine["last_year"].pk).update(created_at=last_year)
    export_services.export_request(world.compliance, "inventory", format="xlsx", as_of="")
    assessment = self_assessment.prepare(world.compliance, TODAY.year, "We meet RTS 6; the kill switch is tested.")
    self_assessment.sign(world.compliance, assessment, password=PASSWORD)
    return {name: export.pk for name, export in mine.items()}


@pytest.fixture
def exported(world, request):
    return snapshot("export-widgets", lambda: _build_exports(world), request)


@pytest.mark.django_db
def test_exports_of_the_year_are_the_readers_own_by_kind_and_status(world, exported, browser_client):
    widget, rows = _rows("exports-of-the-year", world.auditor)
    counted = {(r["kind"], r["state"]): r["count"] for r in rows if r["count"]}
    assert counted == {
        ("audit_log", "succeeded"): 1,
        ("audit_log", "failed"): 1,
        ("audit_log", "expired"): 1,
        ("audit_log", "queued"): 1,
        ("inventory", "queued"): 1,
    }
    filters = Filters(as_of=TODAY)
    assert widget.caption(rows, filters) == (
        f"You asked for 5 exports in {TODAY.year}: 1 succeeded, 1 failed, 1 expired."
    )
    drilled = set(
        widget.drill(world.auditor, filters, {"kind": "audit_log", "state": "expired"}).values_list("pk", flat=True)
    )
    assert drilled == {exported["expired"]}
    # The time range replaces the year: from last December, last year's export is counted too.
    _w, ranged = _rows("exports-of-the-year", world.auditor, since=dt.date(TODAY.year - 1, 12, 1))
    assert widgets.total(ranged) == 6
    # Compliance counts only its own export: exports are seen by whoever asked for them.
    _w, theirs = _rows("exports-of-the-year", world.compliance)
    assert {(r["kind"], r["state"]): r["count"] for r in theirs if r["count"]} == {("inventory", "queued"): 1}
    # Each row's records link to the exports' own pages, exactly those counted.
    page = browser_client.as_user(world.auditor)
    drawn = selectors.drawn(world.auditor, widget, filters)
    for row, url in zip(drawn.rows, drawn.drill_urls, strict=True):
        if row["count"]:
            assert len(re.findall(r'href="/exports/[0-9]+/"', page.get(url).content.decode())) == row["count"]
    rows_csv = _csv_rows(page.get("/dashboards/widgets/exports-of-the-year/csv/"))
    assert [int(r[2]) for r in rows_csv] == [r["count"] for r in drawn.rows]


@pytest.mark.django_db
def test_the_self_assessment_of_the_year_by_stage(world, exported, api):
    widget, rows = _rows("self-assessments", world.auditor)
    assert [(r["stage"], r["count"]) for r in rows] == [("prepared", 0), ("compliance_signed", 1), ("signed_off", 0)]
    assert widget.caption(rows, Filters(as_of=TODAY)) == (
        f"0 of 1 RTS 6 self-assessment for {TODAY.year} signed off; 1 not yet."
    )
    body = api.as_user(world.auditor).get("/api/v1/dashboards/widgets/self-assessments/").json()
    assert [r["count"] for r in body["rows"]] == [0, 1, 0]
    UserProfile.objects.update_or_create(user=world.owner2, defaults={"senior_manager": True})
    assert api.as_user(world.owner2).get("/api/v1/dashboards/widgets/self-assessments/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["exports-of-the-year", "self-assessments"])
def test_a_trader_gets_404_on_the_export_widgets(world, exported, api, browser_client, key):
    for user in (world.trader, world.owner):  # an owner who is no senior manager reads no firm dashboard
        page = browser_client.as_user(user)
        assert page.get(f"/dashboards/widgets/{key}/csv/").status_code == 404
        assert page.get(f"/dashboards/widgets/{key}/records/").status_code == 404
        assert api.as_user(user).get(f"/api/v1/dashboards/widgets/{key}/").status_code == 404


@pytest.mark.django_db
def test_the_incidents_and_controls_page_draws_every_widget(world, incidents, browser_client):
    # One snapshot per test: two restored together could share ids on SQLite (its sequences roll back).
    page = browser_client.as_user(world.compliance).get("/dashboards/incidents/")
    assert page.status_code == 200
    text = page.content.decode()
    for key in (
        "open-incidents",
        "incident-times",
        "incident-causes",
        "kill-switch-tests",
        "kill-switch-uses",
        "exports-of-the-year",
        "self-assessments",
    ):
        assert f"chart-{key}" in text or f"/dashboards/widgets/{key}/csv/" in text, key
    assert "Critical incidents closed in a median" in text
    assert "The kill switch was not used in the period." in text
