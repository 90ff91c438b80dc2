"""A run page with every explainability and robustness section (issue 23) in a browser: axe-core finds no serious
or critical violation, every chart is drawn inside its card, and the page holds at phone width."""

import pytest
from django.core.cache import cache

from tests.base import build_world
from tests.e2e.conftest import login
from tests.e2e.test_browser_dashboards import SHOTS, serious_violations
from tests.e2e.test_browser_run_charts import _strategy_run
from tests.factories import PASSWORD
from tests.risk.depth_charts import every_chart

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_a_run_page_with_every_section_passes_axe_and_fits_the_screen(chromium, live_server, width):
    run = _strategy_run(build_world())
    run.charts = every_chart()
    run.save(update_fields=["charts"])
    cache.clear()
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30000)
    try:
        login(page, live_server, "validator", PASSWORD)
        page.goto(f"{live_server.url}/validation-runs/{run.pk}/")
        drawn = page.locator("section.chart .plotly-chart")
        page.wait_for_function(
            "[...document.querySelectorAll('section.chart .plotly-chart')].every(d => d.querySelector('.main-svg'))"
        )
        assert drawn.count() == 15  # every panel has a chart: the scenarios have tested windows
        assert page.locator("h2", has_text="Explainability").count() == 1
        assert page.locator("h2", has_text="Robustness").count() == 1
        assert page.locator("section.chart figcaption").count() == 15
        width_now = page.evaluate("document.documentElement.scrollWidth")
        assert width_now <= width, f"the page is {width_now} px wide at {width}"
        for i in range(drawn.count()):
            card = drawn.nth(i).locator("xpath=ancestor::section[1]").bounding_box()
            svg = drawn.nth(i).locator(".main-svg").first.bounding_box()
            assert svg["x"] >= card["x"] - 1 and svg["x"] + svg["width"] <= card["x"] + card["width"] + 1, i
        # A table opened for the keyboard reads the same numbers.
        page.locator("[data-testid=chart-importance] details summary").click()
        assert page.locator("[data-testid=chart-importance] tbody tr").count() == 5
        assert serious_violations(page) == []
        page.screenshot(path=str(SHOTS / f"run-explanations-{width}.png"), full_page=True)
    finally:
        context.close()
