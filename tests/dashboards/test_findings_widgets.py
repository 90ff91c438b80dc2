"""Validation's dashboard widgets (issue 22): open findings by age, findings past due, risk acceptances expiring.

The world: findings raised on `mine` (validator) and `theirs` (validator2) through the services, their raised and due
dates then set relative to today so each lands on a bucket's edge (day 30 against 31, and so on). Every figure is
asserted exactly, and the drill-down, the CSV and the API must list exactly what was counted.
"""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from governance.core.models import UserProfile
from governance.core.widgets import Filters
from models_registry.models import Model
from risk.dashboards import selectors
from risk.validation import findings
from risk.validation.models import Finding
from tests.factories import PASSWORD


def _today() -> dt.date:
    return timezone.now().date()


def _raise(world, version, *, severity, raised_days_ago, due_in_days, title):
    theirs = version.model_id == world.theirs.pk
    validator, owner = (world.validator2, world.developer2) if theirs else (world.validator, world.developer)
    finding = findings.finding_raise(
        validator,
        version,
        severity=severity,
        title=title,
        description="Found in validation.",
        owner=owner,
        due_date=_today(),
    )
    raised = dt.datetime.combine(_today() - dt.timedelta(days=raised_days_ago), dt.time(12), tzinfo=dt.UTC)
    Finding.objects.filter(pk=finding.pk).update(raised_at=raised, due_date=_today() + dt.timedelta(days=due_in_days))
    finding.refresh_from_db()
    return finding


@pytest.fixture
def found(world):
    """Named findings: each comment says where it is counted (age bucket; past-due bucket)."""
    mine, theirs = world.mine_v1, world.theirs_v1
    # The findings are dated back up to 200 days: their models were registered before (a page of a past day shows
    # only the models that existed then).
    registered = dt.datetime.combine(_today() - dt.timedelta(days=365), dt.time(12), tzinfo=dt.UTC)
    Model.objects.filter(pk__in=[world.mine.pk, world.theirs.pk]).update(created_at=registered)
    f = {
        "a": _raise(world, mine, severity="high", raised_days_ago=30, due_in_days=10, title="A"),  # 0-30; not due
        "b": _raise(world, mine, severity="high", raised_days_ago=31, due_in_days=-30, title="B"),  # 31-90; 1-30
        "c": _raise(world, mine, severity="medium", raised_days_ago=90, due_in_days=-31, title="C"),  # 31-90; 31-90
        "d": _raise(world, mine, severity="low", raised_days_ago=91, due_in_days=-90, title="D"),  # 91-180; 31-90
        "e": _raise(world, mine, severity="medium", raised_days_ago=181, due_in_days=-91, title="E"),  # >180; >90
        "f": _raise(world, mine, severity="high", raised_days_ago=180, due_in_days=0, title="F"),  # 91-180; due today
        "g": _raise(world, mine, severity="low", raised_days_ago=200, due_in_days=-50, title="G"),  # closed below
        "h": _raise(world, mine, severity="high", raised_days_ago=10, due_in_days=-40, title="H"),  # accepted below
        "t1": _raise(world, theirs, severity="high", raised_days_ago=0, due_in_days=-1, title="T1"),  # 0-30; 1-30
        "t2": _raise(world, theirs, severity="medium", raised_days_ago=20, due_in_days=5, title="T2"),  # accepted below
    }
    findings.finding_close(world.validator, f["g"], "Fix verified on the rerun.")
    Finding.objects.filter(pk=f["g"].pk).update(
        closed_at=dt.datetime.combine(_today() - dt.timedelta(days=5), dt.time(12), tzinfo=dt.UTC)
    )
    for key in ("h", "t2"):
        findings.finding_accept_risk(
            world.compliance, f[key], password=PASSWORD, justification="Immaterial at current size; revisit later."
        )
    for key in f:
        f[key].refresh_from_db()
    return f


def _widget(key):
    from governance.core import widgets

    return widgets.get(key)


def _rows(user, key, **filters):
    drawn = selectors.drawn(user, _widget(key), Filters(as_of=filters.pop("as_of", _today()), **filters))
    return drawn, drawn.rows


def _ids(user, key, cell=None, **filters):
    widget = _widget(key)
    got = selectors.records(user, widget, Filters(as_of=filters.pop("as_of", _today()), **filters), cell or {})
    return sorted(record["id"] for record in got)


def _pks(found, *names):
    return sorted(found[name].pk for name in names)


# --- Open findings by age -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_open_findings_are_counted_by_age_and_severity_with_the_edges_of_each_bucket(world, found):
    drawn, rows = _rows(world.compliance, "findings-by-age")
    assert rows == [
        {"age": "0_30", "severity": "high", "count": 2},  # A (day 30), T1 (day 0)
        {"age": "31_90", "severity": "high", "count": 1},  # B (day 31)
        {"age": "31_90", "severity": "medium", "count": 1},  # C (day 90)
        {"age": "91_180", "severity": "high", "count": 1},  # F (day 180)
        {"age": "91_180", "severity": "low", "count": 1},  # D (day 91)
        {"age": "over_180", "severity": "medium", "count": 1},  # E (day 181)
    ]
    assert drawn.caption == "7 findings open, 4 high severity; 1 open more than 180 days."
    assert _ids(world.compliance, "findings-by-age") == _pks(found, "a", "b", "c", "d", "e", "f", "t1")
    assert _ids(world.compliance, "findings-by-age", {"age": "0_30", "severity": "high"}) == _pks(found, "a", "t1")
    assert _ids(world.compliance, "findings-by-age", {"age": "31_90"}) == _pks(found, "b", "c")
    assert _ids(world.compliance, "findings-by-age", {"age": "91_180"}) == _pks(found, "d", "f")
    assert _ids(world.compliance, "findings-by-age", {"age": "over_180"}) == _pks(found, "e")
    # Every row's drill-down lists exactly the records it counts.
    for row in rows:
        cell = {"age": row["age"], "severity": row["severity"]}
        assert len(_ids(world.compliance, "findings-by-age", cell)) == row["count"]


@pytest.mark.django_db
def test_open_is_read_on_the_pages_day_and_the_model_filters_and_period_narrow(world, found):
    # Ten days ago: G (closed five days ago) was still open and 190 days old, H and T2 were not yet accepted, T1 (raised
    # today) did not exist; each age is ten days less.
    as_of = _today() - dt.timedelta(days=10)
    _drawn, rows = _rows(world.compliance, "findings-by-age", as_of=as_of)
    assert rows == [
        {"age": "0_30", "severity": "high", "count": 3},  # A (20), B (21), H (0)
        {"age": "0_30", "severity": "medium", "count": 1},  # T2 (10)
        {"age": "31_90", "severity": "medium", "count": 1},  # C (80)
        {"age": "31_90", "severity": "low", "count": 1},  # D (81)
        {"age": "91_180", "severity": "high", "count": 1},  # F (170)
        {"age": "91_180", "severity": "medium", "count": 1},  # E (171)
        {"age": "over_180", "severity": "low", "count": 1},  # G (190)
    ]
    assert _ids(world.compliance, "findings-by-age", as_of=as_of) == _pks(
        found, "a", "b", "c", "d", "e", "f", "g", "h", "t2"
    )
    assert _ids(world.compliance, "findings-by-age", {"age": "over_180"}, as_of=as_of) == _pks(found, "g")
    assert _ids(world.compliance, "findings-by-age", {"age": "0_30"}, as_of=as_of) == _pks(found, "a", "b", "h", "t2")
    # The desk filter reaches the finding's model through its version.
    assert _ids(world.compliance, "findings-by-age", desk="rates") == _pks(found, "t1")
    # A period counts the findings raised in it.
    since = _today() - dt.timedelta(days=90)
    until = _today() - dt.timedelta(days=31)
    assert _ids(world.compliance, "findings-by-age", since=since, until=until) == _pks(found, "b", "c")


# --- Findings past due -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_open_findings_past_their_due_date_are_counted_by_how_long(world, found):
    drawn, rows = _rows(world.compliance, "findings-past-due")
    assert rows == [
        {"past_due": "1_30", "severity": "high", "count": 2},  # B (30 days), T1 (1 day)
        {"past_due": "31_90", "severity": "medium", "count": 1},  # C (31)
        {"past_due": "31_90", "severity": "low", "count": 1},  # D (90)
        {"past_due": "over_90", "severity": "medium", "count": 1},  # E (91)
    ]
    assert drawn.caption == (
        "5 open findings are past the remediation due date, 2 of them high severity; 1 by more than 90 days."
    )
    # F is due today (not past due); G is closed and H accepted though their dates have passed.
    assert _ids(world.compliance, "findings-past-due") == _pks(found, "b", "c", "d", "e", "t1")
    assert _ids(world.compliance, "findings-past-due", {"past_due": "1_30"}) == _pks(found, "b", "t1")
    assert _ids(world.compliance, "findings-past-due", {"past_due": "31_90"}) == _pks(found, "c", "d")
    assert _ids(world.compliance, "findings-past-due", {"past_due": "over_90"}) == _pks(found, "e")


# --- Risk acceptances -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_risk_acceptances_are_counted_by_when_they_expire(world, found):
    world.mine.__class__.objects.filter(pk=world.mine.pk).update(next_validation_due=_today() + dt.timedelta(days=20))
    world.theirs.__class__.objects.filter(pk=world.theirs.pk).update(
        next_validation_due=_today() - dt.timedelta(days=1)
    )
    drawn, rows = _rows(world.compliance, "risk-acceptances-expiring")
    assert rows == [
        {"expiry": "expired", "count": 1},
        {"expiry": "within_30", "count": 1},
        {"expiry": "in_31_60", "count": 0},
        {"expiry": "in_61_90", "count": 0},
        {"expiry": "later", "count": 0},
        {"expiry": "none", "count": 0},
    ]
    assert drawn.caption == "1 risk acceptance expires within 30 days; 1 has expired."
    assert _ids(world.compliance, "risk-acceptances-expiring") == _pks(found, "h", "t2")
    assert _ids(world.compliance, "risk-acceptances-expiring", {"expiry": "expired"}) == _pks(found, "t2")
    assert _ids(world.compliance, "risk-acceptances-expiring", {"expiry": "within_30"}) == _pks(found, "h")
    # Before they were accepted, there was nothing to count.
    assert _ids(world.compliance, "risk-acceptances-expiring", as_of=_today() - dt.timedelta(days=1)) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "days, bucket",
    [
        (-1, "expired"),
        (0, "within_30"),
        (30, "within_30"),
        (31, "in_31_60"),
        (60, "in_31_60"),
        (61, "in_61_90"),
        (90, "in_61_90"),
        (91, "later"),
        (None, "none"),
    ],
)
def test_an_acceptance_expires_with_its_models_next_validation(world, found, days, bucket):
    due = None if days is None else _today() + dt.timedelta(days=days)
    world.mine.__class__.objects.filter(pk=world.mine.pk).update(next_validation_due=due)
    assert _ids(world.compliance, "risk-acceptances-expiring", {"expiry": bucket}, desk="sys-eq") == _pks(found, "h")


# --- Scope ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_senior_manager_counts_only_the_findings_of_models_they_may_see(world, found):
    UserProfile.objects.update_or_create(user=world.developer, defaults={"senior_manager": True})
    reader = world.developer.__class__.objects.get(pk=world.developer.pk)  # no cached answer
    drawn, rows = _rows(reader, "findings-by-age")
    assert {"age": "0_30", "severity": "high", "count": 1} in rows  # A only: T1 is on `theirs`
    assert drawn.total == 6
    assert _ids(reader, "findings-by-age") == _pks(found, "a", "b", "c", "d", "e", "f")
    assert _ids(reader, "findings-past-due") == _pks(found, "b", "c", "d", "e")
    assert _ids(reader, "risk-acceptances-expiring") == _pks(found, "h")
    assert selectors.drawn(reader, _widget("findings-past-due"), Filters(as_of=_today())).caption.startswith(
        "4 open findings are past"
    )


# --- Pages, drill-down, CSV, API ------------------------------------------------------------------------------

KEYS = ("findings-by-age", "findings-past-due", "risk-acceptances-expiring")


@pytest.mark.django_db
def test_the_drill_down_page_lists_the_counted_findings_each_linking_to_its_own_page(world, found, browser_client):
    client = browser_client.as_user(world.compliance)
    answer = client.get("/dashboards/widgets/findings-by-age/records/?age=0_30&severity=high")
    assert answer.status_code == 200
    listed = answer.context["records"]
    assert sorted(link for _cells, link in listed) == sorted(f"/findings/{pk}/" for pk in _pks(found, "a", "t1"))
    cells = dict((link, cells) for cells, link in listed)[f"/findings/{found['a'].pk}/"]
    assert cells == [
        f"Finding #{found['a'].pk}",
        "A",
        "mine",
        "1.0",
        "High",
        "Open",
        (_today() - dt.timedelta(days=30)).isoformat(),
        (_today() + dt.timedelta(days=10)).isoformat(),
    ]
    assert client.get("/dashboards/widgets/findings-by-age/records/?age=31-90").status_code == 400
    page = client.get("/dashboards/overview/")
    assert page.status_code == 200
    assert "7 findings open, 4 high severity" in page.content.decode()


@pytest.mark.django_db
def test_the_csv_and_the_api_carry_the_same_rows(world, found, browser_client, api):
    client = browser_client.as_user(world.compliance)
    answer = client.get("/dashboards/widgets/findings-past-due/csv/")
    assert answer.status_code == 200
    lines = list(csv.reader(io.StringIO(answer.content.decode())))
    assert lines[3] == [
        "Key fact",
        selectors.drawn(world.compliance, _widget("findings-past-due"), Filters(_today())).caption,
    ]
    header = lines.index(["Past due by", "Severity", "Findings", "Records"])
    assert [line[:3] for line in lines[header + 1 :]] == [
        ["1-30 days past due", "High", "2"],
        ["31-90 days past due", "Medium", "1"],
        ["31-90 days past due", "Low", "1"],
        ["Over 90 days past due", "Medium", "1"],
    ]
    body = api.as_user(world.compliance).get("/api/v1/dashboards/widgets/findings-past-due/").json()
    assert [(r["past_due"], r["severity"], r["count"]) for r in body["rows"]] == [
        ("1_30", "high", 2),
        ("31_90", "medium", 1),
        ("31_90", "low", 1),
        ("over_90", "medium", 1),
    ]
    # Each row's address lists its records: the API's first row drills to B and T1.
    drill = body["rows"][0]["drill_url"].split("testserver", 1)[1]
    listed = client.get(drill).context["records"]
    assert sorted(link for _cells, link in listed) == sorted(f"/findings/{pk}/" for pk in _pks(found, "b", "t1"))
    expiring = api.as_user(world.compliance).get("/api/v1/dashboards/widgets/risk-acceptances-expiring/").json()
    assert sum(r["count"] for r in expiring["rows"]) == 2
    assert [r["expiry"] for r in expiring["rows"]] == ["expired", "within_30", "in_31_60", "in_61_90", "later", "none"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", KEYS)
def test_a_trader_gets_404_from_every_view_of_these_widgets(world, found, browser_client, api, key):
    client = browser_client.as_user(world.trader)
    assert client.get(f"/dashboards/widgets/{key}/records/").status_code == 404
    assert client.get(f"/dashboards/widgets/{key}/csv/").status_code == 404
    assert api.as_user(world.trader).get(f"/api/v1/dashboards/widgets/{key}/").status_code == 404
    listed = api.as_user(world.trader).get("/api/v1/dashboards/widgets/").json()
    assert key not in {w["id"] for w in listed}
