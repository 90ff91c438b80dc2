"""A monitor's chart and history say what they show: a single result on a readable time axis, no empty axis when
there is nothing to draw, and how many results the page lists of how many (issue 21)."""

import datetime as dt

import pytest
from django.utils import timezone

from risk.monitoring import charts, evaluation, proposals
from risk.monitoring.models import Monitor
from risk.monitoring.views import RESULTS_PER_PAGE
from tests.risk import monitoring_data as data

NOW = timezone.now().replace(microsecond=0, second=0, minute=0)


@pytest.fixture
def accuracy(world):
    proposals.propose(world.mine_v1)
    return Monitor.objects.get(version=world.mine_v1, measure="accuracy", stream="")


def _x_range(figure) -> list[dt.datetime]:
    assert figure["layout"]["xaxis"]["type"] == "date"
    return [dt.datetime.fromisoformat(str(x)) for x in figure["layout"]["xaxis"]["range"]]


def _judged(world, monitor, count: int):
    data.predictions(world.developer, monitor.version, 600, start=NOW - dt.timedelta(hours=12), accuracy=0.6)
    first = evaluation.evaluate(monitor, NOW)
    assert first.value is not None
    for i in range(1, count):
        first.pk = None
        first.slot = NOW - dt.timedelta(hours=i)
        first.save()
    return first


@pytest.mark.django_db
def test_a_single_result_is_drawn_in_the_day_around_it(world, accuracy):
    _judged(world, accuracy, 1)
    figure = charts.history_figure(accuracy, list(accuracy.results.all()))
    start, end = _x_range(figure)
    assert end - start == dt.timedelta(days=1)
    assert start < accuracy.results.get().slot < end
    assert figure["layout"]["xaxis"]["title"]["text"] == "UTC"  # the ticks' zone, where the ticks are read


@pytest.mark.django_db
def test_a_monitor_with_no_results_says_so_instead_of_an_empty_chart(world, accuracy, browser_client):
    assert charts.history_div(accuracy, []) == ""
    page = browser_client.as_user(world.owner).get(f"/monitoring/monitors/{accuracy.pk}/").content.decode()
    assert "No results yet." in page and "Plotly.newPlot" not in page
    model_page = browser_client.as_user(world.owner).get("/models/mine/?section=monitoring").content.decode()
    assert "No results yet." in model_page


@pytest.mark.django_db
def test_the_monitor_page_says_how_many_results_it_shows_and_links_to_earlier_ones(world, accuracy, browser_client):
    _judged(world, accuracy, RESULTS_PER_PAGE + 5)
    client = browser_client.as_user(world.owner)
    first = client.get(f"/monitoring/monitors/{accuracy.pk}/").content.decode()
    total = RESULTS_PER_PAGE + 5
    assert f"Showing the last {RESULTS_PER_PAGE} of {total} results." in first
    assert 'href="?page=2"' in first
    second = client.get(f"/monitoring/monitors/{accuracy.pk}/?page=2").content.decode()
    assert f"Showing results {RESULTS_PER_PAGE + 1}–{total} of {total}, newest first." in second
    oldest = (NOW - dt.timedelta(hours=total - 1)).strftime("%Y-%m-%d %H:%M")
    assert oldest in second and oldest not in first
