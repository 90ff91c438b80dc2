"""A run reports every figure its template computes beside the graded tests, the headline figures first: for a
strategy, total return, the Sharpe ratio and the maximum drawdown, as the business reads them."""

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from models_registry.models import ModelVersion
from risk.metrics import backtest
from risk.validation import plans, runs
from risk.validation import services as evidence_services

RNG = np.random.default_rng(5)


@pytest.fixture
def strategy_run(world, validating):
    version = ModelVersion.objects.select_related("model").get(pk=validating.pk)
    n = 260
    returns = RNG.normal(0.0006, 0.01, n).round(7)
    positions = RNG.choice([-1.0, 0.0, 1.0], n)
    lines = "\n".join(
        f"2025-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}T00:00:{i // 336:02d},{r},{p}"
        for i, (r, p) in enumerate(zip(returns, positions, strict=True))
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
    run.refresh_from_db()
    return run, returns, positions


@pytest.mark.django_db
def test_a_strategy_run_reports_every_figure_headline_first(strategy_run):
    run, returns, positions = strategy_run
    figures = {m["metric"]: m for m in run.metrics}
    assert [m["metric"] for m in run.metrics[:3]] == ["total_return", "sharpe", "max_drawdown"]
    assert all(m["headline"] for m in run.metrics[:3]) and not any(m["headline"] for m in run.metrics[3:])
    expected = backtest.backtest_report(returns, 252, 0.0, positions)
    for name in ("total_return", "annualised_return", "annualised_volatility", "max_drawdown_duration", "turnover"):
        assert figures[name]["value"] == pytest.approx(expected[name]), name
    assert figures["total_return"]["value"] == pytest.approx(np.prod(1 + returns) - 1)
    assert figures["total_return"]["label"] == "Total return" and figures["total_return"]["unit"] == "percent"
    assert figures["max_drawdown_duration"]["unit"] == "count" and figures["sharpe"]["unit"] == "ratio"


@pytest.mark.django_db
def test_the_run_page_api_and_report_show_the_headline_figures_first(strategy_run, world, api, browser_client):
    run, *_ = strategy_run
    body = api.as_user(world.validator).get(f"/api/v1/validation-runs/{run.pk}/").json()
    assert [m["metric"] for m in body["metrics"][:3]] == ["total_return", "sharpe", "max_drawdown"]
    page = browser_client.as_user(world.validator).get(f"/validation-runs/{run.pk}/").content.decode()
    assert page.index('data-testid="headline-figures"') < page.index('data-testid="results"')
    assert "Total return" in page and "Annualised volatility" in page and "Turnover" in page
    total = next(m for m in run.metrics if m["metric"] == "total_return")["value"]
    assert f"{total * 100:,.2f} %" in page  # returns read as percentages
    report = browser_client.as_user(world.validator).get(f"/validation-runs/{run.pk}/report/").content.decode()
    assert report.index('data-testid="report-headline"') < report.index('data-testid="report-results"')
    assert "Longest drawdown (periods)" in report


@pytest.mark.parametrize("template", sorted(plans.TEMPLATES))
def test_every_metric_a_plan_may_name_reads_in_words(template):
    """No figure falls back to its code name ("Pbo mean logit", "Accuracy is"): each has a label of its own."""

    def named(metric):
        base = metric.rsplit("_", 2 if metric.endswith("_vol") else 1)[0]
        return metric in plans.METRIC_LABELS or base in plans.METRIC_LABELS

    assert [m for m in plans.METRICS[template] if not named(m)] == []
    assert plans.metric_label("accuracy_gap") == "Accuracy: in-sample minus out-of-sample"
    assert plans.metric_label("sharpe_high_vol") == "Sharpe ratio in high volatility"


@pytest.mark.django_db
def test_the_report_page_draws_its_charts_once_and_leads_back_to_vigil(
    world, browser_client, strategy_run, monkeypatch
):
    from django.core.cache import cache

    from risk.validation import charts, svg_charts

    run, *_ = strategy_run
    cache.clear()
    drawn = []
    original = svg_charts.svg_charts
    monkeypatch.setattr(svg_charts, "svg_charts", lambda data: drawn.append(1) or original(data))
    client = browser_client.as_user(world.validator)
    pages = [client.get(f"/validation-runs/{run.pk}/report/").content.decode() for _ in range(3)]
    assert len(drawn) == 1 and all("<svg" in page for page in pages)
    assert f'href="/validation-runs/{run.pk}/"' in pages[0] and "back to run" in pages[0]
    plotted = []
    original_plotly = charts.plotly_divs
    monkeypatch.setattr(charts, "plotly_divs", lambda data: plotted.append(1) or original_plotly(data))
    run_pages = [client.get(f"/validation-runs/{run.pk}/").content.decode() for _ in range(3)]
    assert len(plotted) == 1 and all('id="chart-equity"' in page for page in run_pages)
