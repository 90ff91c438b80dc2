"""The run page's charts fit their cards at every screen size: a chart wider than its card hides the end of the
backtest (issue 21)."""

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from risk.validation import runs
from risk.validation import services as evidence_services
from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_version

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _strategy_run(world):
    version = make_version(world.developer, world.mine, label="2.0", status="in_validation")
    rng = np.random.default_rng(5)
    lines = "\n".join(
        f"2025-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}T00:00:00,{r:.6f},{p}"
        for i, (r, p) in enumerate(zip(rng.normal(0.0006, 0.01, 300), rng.choice([-1, 0, 1], 300), strict=True))
    )
    dataset = evidence_services.evidence_add(
        world.validator,
        version,
        kind="backtest",
        file=SimpleUploadedFile("bt.csv", f"timestamp,return,position\n{lines}\n".encode()),
    )
    runs.plan_save(world.validator, version)
    run = runs.run_start(world.validator, version, dataset)
    assert runs.run_execute(run.pk) == "succeeded"
    # Two more charts, as a classifier's run draws them, so that the cards share a row on a wide screen.
    run.refresh_from_db()
    run.charts["roc"] = {"fpr": [0, 0.2, 0.5, 1], "tpr": [0, 0.6, 0.8, 1], "auc": 0.74}
    run.charts["calibration"] = {"mean_score": [0.1, 0.5, 0.9], "hit_rate": [0.15, 0.45, 0.85]}
    run.save(update_fields=["charts"])
    return run


@pytest.mark.parametrize("width", [1400, 1280, 390])
def test_every_run_chart_is_drawn_inside_its_card(chromium, live_server, width):
    run = _strategy_run(build_world())
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        login(page, live_server, "validator", PASSWORD)
        page.goto(f"{live_server.url}/validation-runs/{run.pk}/")
        page.wait_for_selector("#chart-calibration .main-svg")
        cards = page.locator("section.chart")
        assert cards.count() == len(run.charts)  # one card per stored chart: equity, scenarios, roc, calibration
        # A chart is resized after layout settles (static/js/charts.js): wait for it, then measure each.
        fitted = """[...document.querySelectorAll('section.chart')].every(c => {
            const svg = c.querySelector('.main-svg');
            return !svg || svg.getBoundingClientRect().right <= c.getBoundingClientRect().right + 1; })"""
        try:
            page.wait_for_function(fitted, timeout=5000)
        except Exception:  # noqa: BLE001 - the assertions below say which chart overflows
            pass
        # A card whose data draws nothing (every scenario window outside the data) holds its caption and table only.
        drawn = page.locator("section.chart:has(.main-svg)")
        assert drawn.count() >= 3
        for i in range(drawn.count()):
            card = drawn.nth(i).bounding_box()
            svg = drawn.nth(i).locator(".main-svg").first.bounding_box()
            assert svg["width"] > 0.8 * card["width"] - 20, (width, card, svg)
            assert svg["x"] >= card["x"] - 1 and svg["x"] + svg["width"] <= card["x"] + card["width"] + 1, (
                width,
                card,
                svg,
            )
            assert card["x"] + card["width"] <= width, (width, card)
        page.screenshot(path=f"/tmp/ui-run-charts-{width}.png", full_page=True)
    finally:
        context.close()
