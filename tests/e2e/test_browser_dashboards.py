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


# Each heatmap header's box, each cell word's box with the cell it sits in, and the gate chart's plot and whole
# widths: from plotly's own axes (a cell is its column's and row's share of the plot, less the 2-pixel gaps).
PHONE_BOXES = """(() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const heatmap = document.querySelector('[data-widget=monitoring-heatmap] .plotly-chart');
  const xa = heatmap._fullLayout.xaxis, ya = heatmap._fullLayout.yaxis, trace = heatmap._fullData[0];
  const svg = heatmap.querySelector('.main-svg').getBoundingClientRect();
  const width = xa._length / trace.x.length, height = ya._length / trace.y.length;
  const cells = [...heatmap.querySelectorAll('g.heatmap-label text')].map((text) => {
    const [left, top, right, bottom] = box(text);
    const column = Math.floor(((left + right) / 2 - svg.left - xa._offset) / width);
    const row = Math.floor(((top + bottom) / 2 - svg.top - ya._offset) / height);
    const x = svg.left + xa._offset + column * width, y = svg.top + ya._offset + row * height;
    const cell = [x + 1, y + 1, x + width - 1, y + height - 1];
    return {word: text.textContent, text: [left, top, right, bottom], cell: cell};
  });
  const gate = document.querySelector('[data-widget=gate-blocks] .plotly-chart');
  return {
    headers: [...heatmap.querySelectorAll('.xtick text')].map((t) => ({label: t.textContent, box: box(t)})),
    cells: cells,
    gate: {plot: gate._fullLayout._size.w, chart: gate.clientWidth,
           labels: [...gate.querySelectorAll('.ytick text')].map((t) => t.textContent)},
  };
})()"""


def _intersect(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_the_monitoring_page_holds_at_phone_width(chromium, live_server):
    """At 390 pixels (issue 22's walk): the heatmap's headers do not run into each other, every cell's word stays in
    its cell, and the gate's row labels leave its bars at least half the chart."""
    from django.utils import timezone

    from risk.monitoring import evaluation, proposals
    from risk.monitoring.models import Monitor, MonitorResult

    world = build_world()
    proposals.propose(world.mine_v1)
    proposals.propose(world.theirs_v1)
    for version, kind, outcome in (
        (world.mine_v1, Monitor.Kind.STALENESS, "insufficient"),
        (world.mine_v1, Monitor.Kind.PERFORMANCE, "breach"),
        (world.theirs_v1, Monitor.Kind.TRADING, "warn"),
        (world.theirs_v1, Monitor.Kind.PERFORMANCE, "insufficient"),
    ):
        monitor = Monitor.objects.filter(version=version, kind=kind).order_by("pk").first()
        MonitorResult.objects.create(
            monitor=monitor, slot=timezone.now(), outcome=outcome, config={}, config_hash="0" * 64, reason="a test"
        )
        evaluation.note_latest([monitor.pk])
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        login(page, live_server, "compliance", PASSWORD)
        page.goto(f"{live_server.url}/dashboards/monitoring/")
        for key in ("monitoring-heatmap", "gate-blocks"):
            page.locator(f"[data-widget={key}] .plotly-chart .main-svg").first.wait_for()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SHOTS / "dashboard-monitoring-390.png"), full_page=True)
        boxes = page.evaluate(PHONE_BOXES)
        headers = boxes["headers"]
        assert len(headers) == 5
        for i, one in enumerate(headers):
            for other in headers[i + 1 :]:
                assert not _intersect(one["box"], other["box"]), f"{one['label']} runs into {other['label']}"
        words = {cell["word"] for cell in boxes["cells"]}
        assert {"Breach", "Warn", "Insuf.data", "Noresult"} <= words  # a word a line: its lines read as one
        assert "None" not in words
        for cell in boxes["cells"]:
            text, room = cell["text"], cell["cell"]
            inside = room[0] <= text[0] and text[2] <= room[2] and room[1] <= text[1] and text[3] <= room[3]
            assert inside, f"{cell['word']} at {text} leaves its cell {room}"
        gate = boxes["gate"]
        assert not any(label.startswith("Blocked") for label in gate["labels"])  # the title says it
        assert gate["plot"] >= 0.5 * gate["chart"], f"the bars have {gate['plot']} of {gate['chart']} px"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert serious_violations(page) == []
    finally:
        context.close()
