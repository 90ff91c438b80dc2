"""A validator runs a validation from the version page and reads the charts and the report in a browser."""

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from risk.validation import services
from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_version

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_validator_runs_validation_and_sees_plotly_charts_and_the_report(page, live_server, tmp_path):
    """mine is an alpha signal that is a gradient-boosting classifier: its plan tests the returns and the
    prediction log, each chosen in its own box, and the run page draws the charts of both."""
    world = build_world()
    rng = np.random.default_rng(5)
    y_true = rng.integers(0, 2, 300)
    score = np.clip(0.3 * y_true + rng.normal(0.35, 0.2, 300), 0, 1).round(4)
    stamps = [f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00:00" for i in range(300)]
    predictions = "\n".join(f"{t},{y},{int(s > 0.5)},{s}" for t, y, s in zip(stamps, y_true, score, strict=True))
    returns = "\n".join(f"{t},{r:.6f}" for t, r in zip(stamps, rng.normal(0.0005, 0.01, 300), strict=True))
    version = make_version(world.developer, world.mine, label="2.0", status="in_validation")
    for name, content in (
        ("predictions.csv", f"timestamp,y_true,y_pred,y_score\n{predictions}\n"),
        ("returns.csv", f"timestamp,return\n{returns}\n"),
    ):
        services.evidence_add(world.developer, version, kind="dataset", file=SimpleUploadedFile(name, content.encode()))

    requested = []
    page.on("request", lambda request: requested.append(request.url))
    login(page, live_server, "validator", PASSWORD)
    page.goto(f"{live_server.url}/models/mine/versions/2.0/")
    page.click("text=Set up the plan from the template library")
    assert page.is_visible("text=Validation plan set up from the template Strategy and classifier")
    page.select_option("select[name=dataset]", label="returns.csv")
    page.select_option("select[name=prediction_log]", label="predictions.csv")
    page.click("text=Run validation")

    page.wait_for_selector("[data-testid=results]")
    assert page.locator("h1 .badge").inner_text() == "Succeeded"
    # plotly.js is served by Vigil itself and draws each chart as SVG in the page.
    page.wait_for_selector("#chart-equity .main-svg")
    page.wait_for_selector("#chart-roc .main-svg")
    page.wait_for_selector("#chart-calibration .main-svg")
    assert page.locator("#chart-confusion .main-svg").count() >= 1
    results = page.locator("[data-testid=results]").inner_text()
    assert "ROC AUC" in results and "Sharpe ratio" in results
    headline = page.locator("[data-testid=headline-figures]").inner_text()
    assert "Total return" in headline and "ROC AUC" in headline

    assert any(url.endswith("/static/plotly/plotly.min.js") for url in requested)
    assert all(url.startswith((live_server.url, "data:", "blob:")) for url in requested), "no CDN, no outside asset"

    page.click("[data-testid=report-link]")
    assert page.is_visible("text=Data fingerprints")
    assert page.locator("figure svg").count() >= 3
    assert "predictions.csv" in page.content() and "returns.csv" in page.content()
