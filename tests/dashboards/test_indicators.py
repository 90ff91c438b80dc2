"""Key risk indicators (issue 22): read from a widget's rows, judged against thresholds the governance policy sets,
recorded every day for the firm and each desk, and a change of status is an alert to compliance."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.core import indicators
from governance.core.access import FIRM_WIDE
from governance.core.policy import policy_publish
from governance.core.schedules import BY_NAME
from governance.core.widgets import Filters
from models_registry.models import Model
from models_registry.widgets import TIER_ONE_OVERDUE, VALIDATION_DUE
from risk.alerts.models import Alert
from risk.dashboards import selectors, services, snapshots
from risk.dashboards.models import IndicatorSnapshot
from tests.factories import make_model


def today() -> dt.date:
    return timezone.now().date()


def overdue_tier_one(world, key, desk=None, days=10):
    model = make_model(world.compliance, key=key, owner=world.owner, developers=[world.developer], desk=desk)
    Model.objects.filter(pk=model.pk).update(risk_tier=1, next_validation_due=today() - dt.timedelta(days=days))
    return model


def row_of(rows, key):
    return next(row for row in rows if row.indicator.key == key)


@pytest.mark.django_db
def test_an_indicator_counts_exactly_what_its_widgets_drill_downs_list(world, browser_client):
    overdue_tier_one(world, "late-a")
    overdue_tier_one(world, "late-b", days=45)
    Model.objects.filter(pk=world.theirs.pk).update(risk_tier=2, next_validation_due=today() - dt.timedelta(days=3))
    value = TIER_ONE_OVERDUE.value(world.compliance, Filters(as_of=today()))
    assert value == 2  # the tier-2 model overdue is not counted
    client = browser_client.as_user(world.compliance)
    listed = 0
    for cell in TIER_ONE_OVERDUE.cells:
        page = client.get(f"/dashboards/widgets/{VALIDATION_DUE.key}/records/", {**cell, "tier": 1})
        listed += page.context["page"].paginator.count
    assert listed == value


@pytest.mark.django_db
def test_the_policy_sets_the_thresholds_and_the_page_says_which_rule_set_the_status(world, browser_client):
    overdue_tier_one(world, "late-a")
    client = browser_client.as_user(world.compliance)
    row = row_of(client.get("/dashboards/overview/").context["indicators"], TIER_ONE_OVERDUE.key)
    assert (row.value, row.status) == (1, indicators.AMBER)  # Vigil's default: amber from 1, red from 2
    assert row.source == "Vigil's default; policy v1 sets none"
    policy = policy_publish(world.compliance, risk_indicators={TIER_ONE_OVERDUE.key: {"amber": 1, "red": 1}})
    page = client.get("/dashboards/overview/")
    row = row_of(page.context["indicators"], TIER_ONE_OVERDUE.key)
    assert (row.status, row.source) == (indicators.RED, f"policy v{policy.version}")
    assert row.rule == "green below 1, red from 1"
    assert "Red: outside appetite" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "given",
    [
        {"no-such-indicator": {"amber": 1, "red": 2}},
        {TIER_ONE_OVERDUE.key: {"amber": 3, "red": 2}},
        {TIER_ONE_OVERDUE.key: {"amber": -1, "red": 2}},
        {TIER_ONE_OVERDUE.key: {"amber": 0, "red": 0}},  # red with nothing to count
        {TIER_ONE_OVERDUE.key: {"amber": "1", "red": 2}},
        {TIER_ONE_OVERDUE.key: {"red": 2}},
        [],
    ],
)
def test_the_policy_refuses_thresholds_that_make_no_sense(world, given):
    with pytest.raises(ValidationError) as refused:
        policy_publish(world.compliance, risk_indicators=given)
    assert "risk_indicators" in refused.value.message_dict
    assert TIER_ONE_OVERDUE.key not in str(refused.value)  # named as people read it, never by its code


@pytest.mark.django_db
def test_compliance_publishes_thresholds_from_the_policy_page(world, browser_client):
    client = browser_client.as_user(world.compliance)
    page = client.get("/policy/")
    assert f'name="kri_{TIER_ONE_OVERDUE.key}_amber"'.encode() in page.content
    form = {f"months_{t}": "12" for t in "123"} | {f"approvals_{t}": "1" for t in "123"}
    form |= {f"kri_{i.key}_{level}": "2" for i in indicators.all_indicators() for level in ("amber", "red")}
    form[f"kri_{TIER_ONE_OVERDUE.key}_amber"] = "1"
    form[f"kri_{TIER_ONE_OVERDUE.key}_red"] = "3"
    assert client.post("/policy/", form).status_code == 302
    page = client.get("/policy/")
    assert "Tier-1 models overdue for validation: green below 1, amber from 1, red from 3 (policy v2)" in (
        page.content.decode()
    )


@pytest.mark.django_db
def test_the_daily_snapshot_records_the_firm_and_each_desk_seeing_everything(world):
    overdue_tier_one(world, "late-on-desk", desk=world.desk)
    overdue_tier_one(world, "late-elsewhere", desk=world.other_desk)
    written = snapshots.record()
    assert written == len(indicators.all_indicators()) * 3  # the firm, sys-eq, rates
    values = dict(
        IndicatorSnapshot.objects.filter(indicator=TIER_ONE_OVERDUE.key, day=today()).values_list("scope", "value")
    )
    assert values == {"": 2, "sys-eq": 1, "rates": 1}
    assert snapshots.record() == written  # a second run the same day rewrites, never doubles
    assert IndicatorSnapshot.objects.filter(day=today()).count() == written
    # The firm-wide reader is not a person: it counts what no one person may see.
    assert TIER_ONE_OVERDUE.value(FIRM_WIDE, Filters(as_of=today())) == 2
    assert TIER_ONE_OVERDUE.value(world.trader, Filters(as_of=today())) == 0


@pytest.mark.django_db
def test_a_change_of_status_is_an_alert_to_compliance_and_no_change_is_none(world, django_capture_on_commit_callbacks):
    yesterday = today() - dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        snapshots.record(yesterday)  # green: nothing overdue
        snapshots.record(today())
    assert not Alert.objects.filter(kind="risk_indicator").exists()
    overdue_tier_one(world, "late-a")
    overdue_tier_one(world, "late-b")
    with django_capture_on_commit_callbacks(execute=True):
        snapshots.record(today())
    alert = Alert.objects.get(kind="risk_indicator")
    assert alert.title == "Tier-1 models overdue for validation: green to red (2)"
    assert alert.severity == "high" and "/dashboards/overview/" in alert.url
    assert set(alert.recipients.all()) == {world.compliance}
    with django_capture_on_commit_callbacks(execute=True):
        snapshots.record(today())  # run again: the same change is not announced twice
    assert Alert.objects.filter(kind="risk_indicator").count() == 1


@pytest.mark.django_db
def test_the_trend_reads_the_snapshots_of_the_pages_desk(world, browser_client):
    for days_ago, value in ((3, 0), (2, 1), (1, 2)):
        for scope, scoped_value in (("", value), ("sys-eq", value + 10)):
            IndicatorSnapshot.objects.create(
                day=today() - dt.timedelta(days=days_ago),
                scope=scope,
                indicator=TIER_ONE_OVERDUE.key,
                value=scoped_value,
                status="green",
                amber=1,
                red=2,
                policy_version=1,
            )
    client = browser_client.as_user(world.compliance)
    trend = client.get("/dashboards/overview/").context["trend"]
    labels = trend["labels"]
    column = labels.index(TIER_ONE_OVERDUE.label)
    assert [values[column] for _day, values in trend["table"]] == [0, 1, 2]
    assert trend["chart"]
    desk_trend = client.get("/dashboards/overview/?desk=sys-eq").context["trend"]
    assert [values[column] for _day, values in desk_trend["table"]] == [10, 11, 12]


def test_the_snapshot_runs_every_morning_from_the_declared_schedules():
    schedule = BY_NAME["Dashboards: key risk indicators"]
    assert schedule.task == "dashboards.record_snapshots" and schedule.cron == "45 5 * * *"
    from vigil.celery import app

    assert "dashboards.record_snapshots" in app.tasks


@pytest.mark.django_db
def test_indicators_are_shown_only_with_the_widget_they_read(world, browser_client):
    page = browser_client.as_user(world.auditor).get("/dashboards/overview/")
    assert {row.indicator.key for row in page.context["indicators"]} >= {TIER_ONE_OVERDUE.key}
    assert selectors.indicator_rows(world.trader, Filters(as_of=today())) == []


@pytest.mark.django_db
def test_worst_findings_past_due_is_read_from_the_past_due_widget(world, browser_client):
    from risk.validation import findings as finding_services
    from risk.validation.models import Finding
    from risk.validation.widgets import FINDINGS_PAST_DUE, WORST_PAST_DUE

    for severity, days in (("high", -3), ("high", -40), ("high", 5), ("medium", -3)):
        finding = finding_services.finding_raise(
            world.validator,
            world.mine_v1,
            severity=severity,
            title=f"{severity} {days}",
            description="Found in review.",
            owner=world.developer,
            due_date=today(),
        )
        Finding.objects.filter(pk=finding.pk).update(due_date=today() + dt.timedelta(days=days))
    assert WORST_PAST_DUE.value(world.compliance, Filters(as_of=today())) == 2  # high and past due only
    page = browser_client.as_user(world.compliance).get("/dashboards/overview/")
    row = row_of(page.context["indicators"], WORST_PAST_DUE.key)
    assert (row.value, row.status, row.indicator.label) == (2, indicators.AMBER, "High-severity findings past due")
    listed = browser_client.as_user(world.compliance).get(
        f"/dashboards/widgets/{FINDINGS_PAST_DUE.key}/records/", {"severity": "high"}
    )
    assert listed.context["page"].paginator.count == 2


@pytest.mark.django_db
def test_models_in_breach_over_7_days_is_read_from_its_widget(world):
    from risk.monitoring import evaluation, proposals
    from risk.monitoring.models import MonitorResult
    from risk.monitoring.widgets import MODELS_IN_BREACH_OVER_7_DAYS

    assert MODELS_IN_BREACH_OVER_7_DAYS.value(world.compliance, Filters(as_of=today())) == 0
    first, second = proposals.propose(world.mine_v1)[:2]
    now = timezone.now()
    recorded = {"outcome": "breach", "value": 9.0, "config": {}, "config_hash": "0" * 64, "reason": "for a test"}
    MonitorResult.objects.create(monitor=first, slot=now, **recorded)
    MonitorResult.objects.create(monitor=second, slot=now - dt.timedelta(days=8), **recorded)
    MonitorResult.objects.create(monitor=second, slot=now, **recorded)  # the same model: counted once
    evaluation.note_latest([first.pk, second.pk])
    assert MODELS_IN_BREACH_OVER_7_DAYS.value(world.compliance, Filters(as_of=today())) == 1  # second's, 8 days
    assert MODELS_IN_BREACH_OVER_7_DAYS.value(world.outsider, Filters(as_of=today())) == 0  # in the reader's scope


def _at(days_ago: int, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(today() - dt.timedelta(days=days_ago), dt.time(hour), tzinfo=dt.UTC)


@pytest.mark.django_db
@pytest.mark.slow(reason="rebuilds a week of days from the audit trail, twice")
def test_the_morning_run_fills_missing_days_rebuilt_as_they_ended_and_alerts_only_on_today(
    world, django_capture_on_commit_callbacks
):
    import time_machine

    from models_registry import services as inventory

    with time_machine.travel(_at(6)):
        late = make_model(world.compliance, key="late", owner=world.owner, developers=[world.developer])
    with time_machine.travel(_at(3)):  # tier 1 and overdue from three days ago, on the record
        inventory.model_update(
            world.compliance,
            late,
            tier_override=1,
            tier_override_justification="Used by three desks.",
            next_validation_due=today() - dt.timedelta(days=20),
            last_validated_at=today() - dt.timedelta(days=400),
            reason="From the validation file.",
        )
    assert snapshots.missing_days()[0] == today() - dt.timedelta(days=1)  # newest first
    with django_capture_on_commit_callbacks(execute=True):
        outcome = snapshots.record_daily()
    assert outcome["filled"] == 5  # six days ago to two days ago; yesterday is recorded anyway, as it ended
    recorded = dict(
        IndicatorSnapshot.objects.filter(scope="", indicator=TIER_ONE_OVERDUE.key).values_list("day", "value")
    )
    expected = {today() - dt.timedelta(days=n): (1 if n <= 3 else 0) for n in range(0, 7)}
    assert recorded == expected
    assert snapshots.missing_days() == []
    # Past days are history: only a change seen today is announced, and yesterday was already amber.
    assert not Alert.objects.filter(kind="risk_indicator").exists()
    with django_capture_on_commit_callbacks(execute=True):
        again = snapshots.record_daily()
    assert again["filled"] == 0 and IndicatorSnapshot.objects.filter(scope="").count() == 7 * len(
        indicators.all_indicators()
    )


@pytest.mark.django_db
def test_a_past_day_is_judged_by_the_policy_in_force_that_day(world):
    import time_machine

    from governance.core.policy import policy_at

    with time_machine.travel(_at(5)):
        late = make_model(world.compliance, key="late", owner=world.owner, developers=[world.developer])
        Model.objects.filter(pk=late.pk).update(risk_tier=1, next_validation_due=today() - dt.timedelta(days=30))
    with time_machine.travel(_at(2)):
        stricter = policy_publish(world.compliance, risk_indicators={TIER_ONE_OVERDUE.key: {"amber": 1, "red": 1}})
    assert policy_at(_at(3)).version == stricter.version - 1
    assert policy_at(_at(1)) == stricter
    snapshots.record(today() - dt.timedelta(days=3), alert=False)
    snapshots.record(today() - dt.timedelta(days=1), alert=False)
    statuses = dict(
        IndicatorSnapshot.objects.filter(scope="", indicator=TIER_ONE_OVERDUE.key).values_list("day", "status")
    )
    assert statuses == {
        today() - dt.timedelta(days=3): indicators.AMBER,  # Vigil's default then: amber from 1
        today() - dt.timedelta(days=1): indicators.RED,  # the stricter policy: red from 1
    }


@pytest.mark.django_db
def test_an_indicator_whose_widget_the_person_hid_links_to_the_records_it_counts(world, browser_client):
    overdue_tier_one(world, "late-a")
    overdue_tier_one(world, "late-b", days=45)  # the other overdue bucket: the link lists both
    client = browser_client.as_user(world.compliance)
    shown = row_of(client.get("/dashboards/overview/").context["indicators"], TIER_ONE_OVERDUE.key)
    assert shown.url.endswith(f"#widget-{VALIDATION_DUE.key}")  # the widget is on the page: its anchor

    order = [w.key for w in selectors.arranged(world.compliance, "overview")[0]]
    services.layout_save(world.compliance, "overview", order, [VALIDATION_DUE.key])
    page = client.get("/dashboards/overview/")
    assert f'id="widget-{VALIDATION_DUE.key}"' not in page.content.decode()
    row = row_of(page.context["indicators"], TIER_ONE_OVERDUE.key)
    assert row.url.startswith(f"/dashboards/widgets/{VALIDATION_DUE.key}/records/?")
    listed = client.get(row.url)
    assert listed.status_code == 200
    assert listed.context["page"].paginator.count == row.value == 2
    assert {record[0][0] for record in listed.context["records"]} == {"late-a", "late-b"}
    assert "Overdue by up to 30 days or Overdue by more than 30 days" in listed.content.decode()
