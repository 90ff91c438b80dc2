"""The page's as-of day (issue 22): a past day is rebuilt from the audit trail, carried by every link, CSV and API
answer; a day in the future or before the trail's first record is a 400 beside the field."""

import csv
import datetime as dt
import io

import time_machine
from django.utils import timezone

from models_registry.widgets import INVENTORY
from tests.factories import make_model


def _today() -> dt.date:
    return timezone.now().date()


def _registered_days_ago(world, days: int, key: str):
    """A model registered `days` ago (the clock set back), so the trail starts then."""
    with time_machine.travel(dt.datetime.combine(_today() - dt.timedelta(days=days), dt.time(10), tzinfo=dt.UTC)):
        return make_model(world.compliance, key=key, owner=world.owner, developers=[world.developer], desk=world.desk)


def test_a_day_in_the_future_is_an_error_beside_the_field_and_shows_nothing(world, browser_client):
    tomorrow = _today() + dt.timedelta(days=1)
    response = browser_client.as_user(world.compliance).get(f"/dashboards/overview/?as_of={tomorrow}")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-field="as_of"' in page and "the future has no record yet" in page
    assert "widget-" not in page.split("dashboard-filters")[1].split("</form>")[1]  # no widget drawn


def test_a_day_before_the_trails_first_record_is_refused_naming_its_first_day(world, browser_client, api):
    first = _registered_days_ago(world, 20, "early")
    assert first.pk
    too_early = _today() - dt.timedelta(days=21)
    response = browser_client.as_user(world.compliance).get(f"/dashboards/overview/?as_of={too_early}")
    assert response.status_code == 400
    start = (_today() - dt.timedelta(days=20)).isoformat()
    assert f"The audit trail starts on {start}" in response.content.decode()
    answer = api.as_user(world.compliance).get(f"/api/v1/dashboards/widgets/{INVENTORY.key}/?as_of={too_early}")
    assert answer.status_code == 400 and "as_of" in answer.json()


def test_a_time_range_ending_after_the_pages_day_is_an_error_on_its_last_day(world, browser_client):
    _registered_days_ago(world, 20, "early")
    as_of = _today() - dt.timedelta(days=10)
    url = f"/dashboards/overview/?as_of={as_of}&until={as_of + dt.timedelta(days=1)}"
    response = browser_client.as_user(world.compliance).get(url)
    assert response.status_code == 400
    assert 'data-field="until"' in response.content.decode()


def test_a_past_day_shows_the_inventory_as_it_stood_with_every_link_csv_and_api_answer_of_that_day(
    world, browser_client, api
):
    early = _registered_days_ago(world, 20, "early")
    as_of = _today() - dt.timedelta(days=10)
    client = browser_client.as_user(world.compliance)

    page = client.get(f"/dashboards/overview/?as_of={as_of}")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"Figures as they stood at the end of {as_of}" in text and "rebuilt from the audit trail" in text

    # Only the model registered before that day existed then; today the world's models exist too.
    drawn_then = api.as_user(world.compliance).get(f"/api/v1/dashboards/widgets/{INVENTORY.key}/?as_of={as_of}")
    assert drawn_then.status_code == 200
    body = drawn_then.json()
    assert sum(row["count"] for row in body["rows"]) == 1
    assert body["as_of"].startswith(f"{as_of}T23:59:59")
    assert all(f"as_of={as_of}" in row["drill_url"] for row in body["rows"])
    today_total = api.as_user(world.compliance).get(f"/api/v1/dashboards/widgets/{INVENTORY.key}/").json()["rows"]
    assert sum(row["count"] for row in today_total) > 1

    records = client.get(f"/dashboards/widgets/{INVENTORY.key}/records/?as_of={as_of}").content.decode()
    assert early.key in records and world.mine.key not in records

    lines = list(
        csv.reader(io.StringIO(client.get(f"/dashboards/widgets/{INVENTORY.key}/csv/?as_of={as_of}").content.decode()))
    )
    assert lines[2][0] == "As of" and lines[2][1].startswith(f"{as_of} 23:59:59") and "rebuilt" in lines[2][1]
