"""Policy exceptions on the overview (issue 22): models whose risk tier was set against the tiering rule, lowered or
raised, counted as they stood on the page's day, each drill-down listing exactly them."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from governance.core.widgets import Filters
from models_registry import services as inventory
from models_registry.widgets import LOWERED, RAISED, TIER_OVERRIDES
from risk.dashboards import selectors
from tests.factories import make_model


def _today() -> dt.date:
    return timezone.now().date()


def _days_ago(days: int) -> dt.datetime:
    return dt.datetime.combine(_today() - dt.timedelta(days=days), dt.time(10), tzinfo=dt.UTC)


def _override(world, model, lower: bool):
    rule = model.computed_tier
    tier = min(rule + 1, 3) if lower else max(rule - 1, 1)
    assert tier != rule, "the test needs a rule tier with room to move"
    return inventory.model_update(
        world.compliance,
        model,
        tier_override=tier,
        tier_override_justification="Used only for hedging the desk's own book.",
        reason="Tier review.",
    )


@pytest.mark.django_db
def test_tiers_set_against_the_rule_are_counted_by_direction_as_they_stood(world, browser_client):
    with time_machine.travel(_days_ago(10)):
        lowered = make_model(
            world.compliance, key="low-tier", owner=world.owner, developers=[world.developer], desk=world.desk,
            notional_at_stake="900000000",
        )  # fmt: skip
        raised = make_model(
            world.compliance, key="high-tier", owner=world.owner, developers=[world.developer], desk=world.desk,
            notional_at_stake="5000000",
        )  # fmt: skip
    with time_machine.travel(_days_ago(3)):
        _override(world, lowered, lower=lowered.computed_tier < 3)
        _override(world, raised, lower=raised.computed_tier == 1)

    today = TIER_OVERRIDES.rows(world.compliance, Filters(as_of=_today()))
    by_direction = {d: sum(r["count"] for r in today if r["override"] == d) for d in (LOWERED, RAISED)}
    assert sum(by_direction.values()) == 2
    before = TIER_OVERRIDES.rows(world.compliance, Filters(as_of=_today() - dt.timedelta(days=5)))
    assert sum(r["count"] for r in before) == 0  # both carried the rule's tier then

    drawn = selectors.drawn(world.compliance, TIER_OVERRIDES, Filters(as_of=_today()))
    assert "a tier other than the rule's" in drawn.caption
    client = browser_client.as_user(world.compliance)
    listed = client.get(drawn.all_url).content.decode()
    assert "low-tier" in listed and "high-tier" in listed and "mine" not in listed.split("<tbody>")[1]
    assert client.get(drawn.csv_url).status_code == 200
    assert browser_client.as_user(world.trader).get(drawn.all_url).status_code == 404  # a firm widget
