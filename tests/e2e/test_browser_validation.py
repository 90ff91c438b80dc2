"""A validator runs a validation from the version page and reads the charts and the report in a browser."""

import numpy as np
import pytest

from models_registry.models import Model, ModelVersion
from risk.validation import services
from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_validator_runs_validation_and_sees_plotly_charts_and_the_report(page, live_server, tmp_path):
    world = build_world()
    Model.objects.filter(pk=world.mine.pk).update(purpose="risk", model_type="random_forest")
    rng = np.random.default_rng(5)
    y_true = rng.integers(0, 2, 300)
    score = np.clip(0.3 * y_true + rng.normal(0.35, 0.2, 300), 0, 1).round(4)
    rows = "\n".join(
        f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00:00,{t},{int(s > 0.5)},{s}"
        for i, (t, s) in enumerate(zip(y_true, score, strict=True))
    )
    dataset = tmp_path / "predictions.csv"
    dataset.write_text(f"timestamp,y_true,y_pred,y_score\n{rows}\n")
    version = ModelVersion.objects.get(pk=world.mine_v1.pk)
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.evidence_add(
        world.developer, version, kind="dataset", file=SimpleUploadedFile("predictions.csv", dataset.read_bytes())
    )

    requested = []
    page.on("request", lambda request: requested.append(request.url))
    login(page, live_server, "validator", PASSWORD)
    page.goto(f"{live_server.url}/models/mine/versions/1.0/")
    page.click("text=Set up the plan from the template library")
    assert page.is_visible("text=Validation plan set up from the classifier template")
    page.select_option("select[name=dataset]", label="predictions.csv")
    page.click("text=Run validation")

    page.wait_for_selector("[data-testid=results]")
    assert page.locator("h1 .badge").inner_text() == "Succeeded"
    # plotly.js is served by Vigil itself and draws each chart as SVG in the page.
    page.wait_for_selector("#chart-roc .main-svg")
    page.wait_for_selector("#chart-calibration .main-svg")
    assert page.locator("#chart-confusion .main-svg").count() >= 1
    assert "roc_auc" in page.locator("[data-testid=results]").inner_text()

    assert any(url.endswith("/static/plotly/plotly.min.js") for url in requested)
    assert all(url.startswith((live_server.url, "data:", "blob:")) for url in requested), "no CDN, no outside asset"

    page.click("[data-testid=report-link]")
    assert page.is_visible("text=Data fingerprints")
    assert page.locator("figure svg").count() >= 3
    assert "predictions.csv" in page.content()
