"""My dashboard for owners and developers (issue 22): the monitoring and the open findings of the models they own or
build, and nothing of anyone else's."""

import datetime as dt

import pytest
from django.utils import timezone

from governance.core.widgets import Filters
from risk.monitoring import proposals
from risk.monitoring.widgets import MY_MONITORS
from risk.validation import findings as finding_services
from risk.validation.models import Finding
from risk.validation.widgets import MY_OPEN_FINDINGS


def today() -> dt.date:
    return timezone.now().date()


def raise_finding(world, version, severity, due_in_days, owner):
    """Raised through the service (due today or later, as it requires), then its due date moved for the test."""
    finding = finding_services.finding_raise(
        world.validator if version.model.key == "mine" else world.validator2,
        version,
        severity=severity,
        title=f"{severity} on {version.model.key}",
        description="Found in review.",
        owner=owner,
        due_date=today(),
    )
    Finding.objects.filter(pk=finding.pk).update(due_date=today() + dt.timedelta(days=due_in_days))
    return finding


@pytest.mark.django_db
def test_an_owner_sees_the_monitors_of_their_own_models_only(world, browser_client):
    mine = proposals.propose(world.mine_v1)
    proposals.propose(world.theirs_v1)
    filters = Filters(as_of=today())
    for person in (world.owner, world.developer):
        rows = MY_MONITORS.rows(person, filters)
        assert {row["status"]: row["count"] for row in rows if row["count"]} == {"none": len(mine)}
        assert MY_MONITORS.caption(rows, filters).startswith(f"Your models have {len(mine)} live monitors")
    assert sum(row["count"] for row in MY_MONITORS.rows(world.owner2, filters)) == len(mine)  # theirs: as many
    page = browser_client.as_user(world.owner).get("/dashboards/mine/")
    assert page.status_code == 200
    keys = {d.widget.key for d in page.context["widgets"]}
    assert {MY_MONITORS.key, MY_OPEN_FINDINGS.key} <= keys
    listed = browser_client.as_user(world.owner).get(f"/dashboards/widgets/{MY_MONITORS.key}/records/?status=none")
    assert {values[0] for values, _link in listed.context["records"]} == {"mine"}


@pytest.mark.django_db
def test_open_findings_on_ones_models_by_severity_and_due_date(world):
    raise_finding(world, world.mine_v1, "high", -2, world.developer)
    raise_finding(world, world.mine_v1, "low", 10, world.developer)
    raise_finding(world, world.mine_v1, "medium", 45, world.developer)
    raise_finding(world, world.theirs_v1, "high", -5, world.developer2)
    filters = Filters(as_of=today())
    rows = {(r["severity"], r["due_state"]): r["count"] for r in MY_OPEN_FINDINGS.rows(world.owner, filters)}
    assert rows == {("high", "past_due"): 1, ("low", "due_30"): 1, ("medium", "later"): 1}
    caption = MY_OPEN_FINDINGS.caption(MY_OPEN_FINDINGS.rows(world.owner, filters), filters)
    assert caption == "3 open findings on your models, 1 of high severity; 1 past its due date."
    theirs = MY_OPEN_FINDINGS.rows(world.developer2, filters)
    assert [(r["severity"], r["due_state"], r["count"]) for r in theirs] == [("high", "past_due", 1)]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["trader", "validator", "compliance", "outsider"])
def test_no_one_else_has_these_widgets(world, browser_client, persona):
    client = browser_client.as_user(getattr(world, persona))
    for widget in (MY_MONITORS, MY_OPEN_FINDINGS):
        assert client.get(f"/dashboards/widgets/{widget.key}/csv/").status_code == 404


@pytest.mark.parametrize(
    ("used", "said"),
    [
        ([0.0, 0.0], "Your desk has 2 versions in pilot; nothing traded yet today against their limits."),
        ([0.0], "Your desk has 1 version in pilot; nothing traded yet today against its limit."),
        ([0.0, 0.04], "the most used, v1 1.0, traded less than 1 % of its maximum notional today."),
        ([42.46, 3.0], "the most used, v0 1.0, traded 42 % of its maximum notional today."),
        ([99.7], "the most used, v0 1.0, traded 99 % of its maximum notional today."),  # not all of it
        ([1234.5], "the most used, v0 1.0, traded 1,234 % of its maximum notional today."),
    ],
)
def test_the_pilot_limits_caption_says_the_key_fact_in_words(used, said):
    # The trader's caption: never "traded 0.0 %" (nothing traded says so), whole percents otherwise.
    from risk.gate.widgets import MY_PILOT_LIMITS

    rows = [{"pilot_of": f"v{n} 1.0", "count": 1, "used": share} for n, share in enumerate(used)]
    assert MY_PILOT_LIMITS.caption(rows, Filters(as_of=today())).endswith(said)
    day = today() - dt.timedelta(days=30)
    past = MY_PILOT_LIMITS.caption([{"pilot_of": "v0 1.0", "count": 1, "used": 0.0}], Filters(as_of=day))
    assert past.endswith(f"; nothing traded on {day.isoformat()} against its limit.")
