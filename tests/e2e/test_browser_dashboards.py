"""Dashboards in a browser (issue 22): a click on a bar opens the records it counts, every page passes axe-core
with no serious or critical violation, and the pages hold at phone width."""

import os
import pathlib
import tempfile

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD

SHOTS = pathlib.Path(os.environ.get("VIGIL_SCREENSHOTS", tempfile.gettempdir()))
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it stands (axe runs in the page, from the package's
    own copy: no network)."""
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_compliance_clicks_a_bar_and_lands_on_the_records_it_counts(page, live_server):
    build_world()
    login(page, live_server, "compliance", PASSWORD)
    page.click("[data-testid=dashboards-link]")
    page.wait_for_url(f"{live_server.url}/dashboards/overview/")
    widget = page.locator("[data-widget=inventory-by-tier]")
    assert "3 models in scope, none in tier 1." in widget.locator("[data-testid=widget-caption]").inner_text()
    widget.locator(".plotly-chart .main-svg").first.wait_for()
    page.screenshot(path=str(SHOTS / "dashboard-overview-compliance.png"), full_page=True)
    assert serious_violations(page) == []

    # The one bar (tier 2: the world's models all compute to tier 2), its stacked segment for production.
    segments = widget.locator(".plotly-chart g.point path")
    assert segments.count() == 2  # draft and production
    segments.last.scroll_into_view_if_needed()
    box = segments.last.bounding_box()  # a click where a person clicks: plotly's own layer takes it
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(f"{live_server.url}/dashboards/widgets/inventory-by-tier/records/?*")
    assert page.locator("[data-testid=drill-count]").inner_text() == "2 models"
    assert "Status: Production" in page.locator("[data-testid=drill-scope]").inner_text()
    assert sorted(page.locator("[data-testid=drill-records] tbody tr td:first-child a").all_inner_texts()) == [
        "mine",
        "theirs",
    ]
    assert serious_violations(page) == []

    # The same count, from the table under the chart, for the keyboard.
    page.go_back()
    table = page.locator("[data-widget=inventory-by-tier] [data-testid=widget-table]")
    table.locator("summary").click()
    table.locator("[data-testid=drill-link]").last.click()
    page.wait_for_url(f"{live_server.url}/dashboards/widgets/inventory-by-tier/records/?*")
    assert page.locator("[data-testid=drill-count]").inner_text() == "2 models"


def test_a_bad_filter_shows_beside_its_field_and_the_page_holds_at_phone_width(chromium, live_server):
    build_world()
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        login(page, live_server, "compliance", PASSWORD)
        page.goto(f"{live_server.url}/dashboards/overview/?since=2026-06-01&until=2026-05-01")
        assert "on or after the first" in page.locator(".errorlist[data-field=until]").inner_text()
        page.goto(f"{live_server.url}/dashboards/overview/")
        page.locator("[data-widget=inventory-by-tier] .plotly-chart .main-svg").first.wait_for()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide at 390"
        page.screenshot(path=str(SHOTS / "dashboard-overview-390.png"), full_page=True)
    finally:
        context.close()


HEATMAP_SIZE = """(() => {
  const figure = JSON.parse(document.getElementById('chart-monitoring-heatmap-figure').textContent).figure;
  return [figure.data[0].x.length, figure.data[0].y.length];
})()"""


def test_every_page_passes_axe_and_a_heatmap_cell_opens_the_monitors_it_shows(page, live_server):
    world = build_world()
    from risk.monitoring import proposals
    from risk.monitoring.models import Monitor

    proposals.propose(world.mine_v1)
    login(page, live_server, "compliance", PASSWORD)
    for name in ("overview", "monitoring", "incidents"):
        page.goto(f"{live_server.url}/dashboards/{name}/")
        page.wait_for_load_state("networkidle")
        assert serious_violations(page) == [], name
    page.goto(f"{live_server.url}/dashboards/monitoring/")
    heatmap = page.locator("[data-widget=monitoring-heatmap]")
    heatmap.locator(".plotly-chart .main-svg").first.wait_for()
    columns, rows = page.evaluate(HEATMAP_SIZE)
    layer = heatmap.locator(".plotly-chart .nsewdrag").first
    layer.scroll_into_view_if_needed()
    box = layer.bounding_box()
    page.mouse.click(box["x"] + box["width"] / (2 * columns), box["y"] + box["height"] / (2 * rows))  # top left cell
    page.wait_for_url(f"{live_server.url}/dashboards/widgets/monitoring-heatmap/records/?*")
    scope = dict(
        part.split(": ", 1)
        for part in page.locator("[data-testid=drill-scope]").inner_text().split(". ")[0].split("; ")
    )
    kinds = {label: code for code, label in Monitor.Kind.choices}
    expected = Monitor.objects.filter(version__model__key=scope["Model"], kind=kinds[scope["Kind"]]).count()
    assert scope["State"] == "No result"  # no monitor has reported yet
    assert page.locator("[data-testid=drill-count]").inner_text() == f"{expected} monitors"
    assert serious_violations(page) == []


def test_a_trader_sees_their_desk_on_their_own_dashboard(page, live_server):
    build_world()
    login(page, live_server, "trader", PASSWORD)
    page.click("[data-testid=dashboards-link]")
    page.wait_for_url(f"{live_server.url}/dashboards/mine/")
    caption = page.locator("[data-widget=my-desk-models] [data-testid=widget-caption]").inner_text()
    assert caption == "The gate allows 1 of your desk's 1 model now."
    assert page.locator("[data-widget=inventory-by-tier]").count() == 0
    assert serious_violations(page) == []
    page.screenshot(path=str(SHOTS / "dashboard-mine-trader.png"), full_page=True)
    page.goto(f"{live_server.url}/dashboards/overview/")
    assert page.locator("h1").inner_text() != "Model risk overview"  # a 404 page: the overview is not theirs
