"""Issue 23's display: the run page and the report show each explainability and robustness section the run's chart
data holds (and none it lacks), every chart a figure with a caption stating its key fact and its numbers as a
table, the same numbers the chart draws."""

import json
import logging
import re

import numpy as np
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from models_registry.models import ModelVersion
from risk.validation import chart_facts, charts, report, runs
from risk.validation import services as evidence_services
from tests.risk.depth_charts import every_chart

NEW = ["importance", "partial_dependence", "attributions", "challenger", "perturbation", "scenarios", "costs",
       "parameter_sensitivity"]  # fmt: skip


@pytest.fixture
def run(world, validating):
    """A finished strategy run whose chart data is then set by hand: the display is tested from the data alone."""
    version = ModelVersion.objects.select_related("model").get(pk=validating.pk)
    rng = np.random.default_rng(7)
    lines = "\n".join(f"2025-{1 + i // 28:02d}-{1 + i % 28:02d}T00:00:00,{r:.6f}" for i, r in
                      enumerate(rng.normal(0.0006, 0.01, 120)))  # fmt: skip
    dataset = evidence_services.evidence_add(
        world.validator, version, kind="backtest",
        file=SimpleUploadedFile("bt.csv", f"timestamp,return\n{lines}\n".encode()),
    )  # fmt: skip
    runs.plan_save(world.validator, version)
    started = runs.run_start(world.validator, version, dataset)
    assert runs.run_execute(started.pk) == "succeeded"
    started.refresh_from_db()
    return started


def _with(run, charts_data):
    cache.clear()  # a finished run's charts are drawn once (report.drawn_once); these tests change them
    run.charts = charts_data
    run.save(update_fields=["charts"])
    return run


def _figure(page: str, key: str) -> dict:
    block = re.search(rf'<script type="application/json" id="chart-{re.escape(key)}-figure">(.*?)</script>', page, re.S)
    return json.loads(block[1])["figure"]


def _section(page: str, key: str) -> str:
    start = page.index(f'data-testid="chart-{key}"')
    return page[start : page.index("</section>", start)]


def _cells(section: str) -> list[list[str]]:
    body = section[section.index("<tbody>") : section.index("</tbody>")]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


@pytest.mark.django_db
def test_the_run_page_shows_every_section_under_its_heading_each_a_captioned_figure_with_its_table(
    world, run, browser_client
):
    data = every_chart()
    page = browser_client.as_user(world.validator).get(f"/validation-runs/{_with(run, data).pk}/").content.decode()
    assert page.index('data-testid="group-performance"') < page.index('data-testid="group-explainability"')
    assert page.index('data-testid="group-explainability"') < page.index('data-testid="group-robustness"')
    assert ">Explainability</h2>" in page and ">Robustness</h2>" in page
    keys = [p.key for p in chart_facts.panels(data)]
    assert len(keys) == 15  # 5 performance charts, 8 new sections, partial dependence one per top feature (3)
    for key in keys:
        section = _section(page, key)
        assert "<figure>" in section and 'data-testid="chart-caption"' in section, key
        assert "<details" in section and "<table>" in section, key
        if key != "scenarios" or data["scenarios"]["rows"]:
            assert 'role="img"' in section and f'id="chart-{key}"' in section, key
    # Each caption states its key fact, computed from the data.
    importance = data["importance"]
    assert (
        f"{importance['feature'][0]} matters most: shuffling it costs {importance['mean'][0]:.3f} accuracy "
        f"(95% CI {importance['low'][0]:.3f} to {importance['high'][0]:.3f})."
    ) in _section(page, "importance")
    assert "The complexity is paid for" in _section(page, "challenger")
    assert "The edge disappears at 4.8 times the stated cost" in _section(page, "costs")
    assert "the worst is Desk stress with a Sharpe ratio of −0.30" in _section(page, "scenarios")
    assert "add up to the predictions on all 756 rows checked" in _section(page, "attributions")
    assert "lookback 20 → 40 at threshold=0.5" in _section(page, "parameter_sensitivity")


@pytest.mark.django_db
def test_the_tables_hold_the_numbers_the_charts_draw(world, run, browser_client):
    data = every_chart()
    page = browser_client.as_user(world.validator).get(f"/validation-runs/{_with(run, data).pk}/").content.decode()
    # Importance: a bar per feature, its length the mean drop, its error bar the CI; each bar's text is its cell.
    figure, cells = _figure(page, "importance"), _cells(_section(page, "importance"))
    bars = figure["data"][0]
    assert bars["y"] == [row[1] for row in cells] == data["importance"]["feature"]
    assert bars["text"] == [row[2] for row in cells]
    assert [float(row[2]) for row in cells] == pytest.approx(bars["x"], abs=5.1e-4)
    upper = [m + e for m, e in zip(bars["x"], bars["error_x"]["array"], strict=True)]
    assert [float(row[4]) for row in cells] == pytest.approx(upper, abs=5.1e-4)
    # Perturbation: every line drawn is a row of the table, level by level.
    figure, cells = _figure(page, "perturbation"), _cells(_section(page, "perturbation"))
    by_name = {row[0]: row[1:4] for row in cells}
    for line in figure["data"]:
        assert [float(v.replace("−", "-")) for v in by_name[line["name"]]] == pytest.approx(line["y"], abs=5.1e-4)
    assert [line["name"] for line in figure["data"][1:]] == chart_facts.perturbation_worst(data["perturbation"])
    # Costs: the points' texts are the table's Sharpe ratios and total returns.
    figure, cells = _figure(page, "costs"), _cells(_section(page, "costs"))
    assert figure["data"][0]["text"] == [row[1] for row in cells] and figure["data"][1]["text"] == [
        row[2] for row in cells
    ]
    # Partial dependence: each curve's points are its table's rows.
    for i, curve in enumerate(data["partial_dependence"]["features"]):
        cells = _cells(_section(page, f"partial_dependence-{i}"))
        assert [float(row[1]) for row in cells] == pytest.approx(
            _figure(page, f"partial_dependence-{i}")["data"][0]["y"], abs=5.1e-4
        )
        assert f"across {curve['feature']}&#x27;s range" in _section(page, f"partial_dependence-{i}")


@pytest.mark.django_db
def test_only_the_sections_the_run_computed_are_shown(world, run, browser_client):
    data = every_chart()
    kept = {k: data[k] for k in ("equity", "importance", "costs")}
    page = browser_client.as_user(world.validator).get(f"/validation-runs/{_with(run, kept).pk}/").content.decode()
    assert 'data-testid="chart-importance"' in page and 'data-testid="chart-costs"' in page
    for absent in set(NEW) - {"importance", "costs"}:
        assert f'data-kind="{absent}"' not in page, absent
    assert 'data-testid="group-explainability"' in page and 'data-testid="group-robustness"' in page
    only_performance = {"equity": data["equity"]}
    page = browser_client.as_user(world.validator).get(f"/validation-runs/{_with(run, only_performance).pk}/")
    text = page.content.decode()
    assert "Explainability" not in text and "Robustness" not in text and "chart-caption" in text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"uplift": 0.01, "low": -0.005, "high": 0.025}, "The complexity is not paid for"),
        ({"uplift": 0.02}, "The complexity is paid for"),
    ],
)
def test_the_challenger_says_plainly_whether_the_complexity_is_paid_for(change, expected):
    d = {**every_chart()["challenger"], **change}
    (panel,) = chart_facts.panels({"challenger": d})
    assert panel.caption.startswith(expected) and f"{d['uplift']:.3f}" in panel.caption


def test_captions_name_what_happens_when_there_is_no_edge_no_window_and_a_failed_check():
    data = every_chart()
    costs = {**data["costs"], "breakeven_multiple": None}
    assert "survives every cost tried" in chart_facts.panels({"costs": costs})[0].caption
    flat = {**costs, "sharpe": [-0.1, -0.3, -0.5, -0.7]}
    assert "no edge even without costs" in chart_facts.panels({"costs": flat})[0].caption
    outside = {**data["scenarios"], "rows": [{**r, "status": "outside the data"} for r in data["scenarios"]["rows"]]}
    (panel,) = chart_facts.panels({"scenarios": outside})
    assert "None of the 4 windows" in panel.caption and not panel.drawn and len(panel.table.rows) == 5
    off = {**data["attributions"], "rows_off": 3, "worst_error": 0.02}
    assert "do not add up to the predictions on 3 of 756 rows" in chart_facts.panels({"attributions": off})[0].caption
    (html,) = charts.plotly_divs({"scenarios": outside})
    assert html["html"] == ""  # a table only: nothing to draw


@pytest.mark.django_db
def test_the_report_has_every_section_with_its_chart_caption_and_table_and_prints_without_duplicate_ids(
    world, run, caplog
):
    data = every_chart()
    _with(run, data)
    html = report.render_html(run, results=run.results, metrics=run.metrics, charts=data,
                              fingerprints=run.fingerprints, finished_at=run.finished_at)  # fmt: skip
    for group in ("performance", "explainability", "robustness"):
        assert f'data-testid="report-group-{group}"' in html
    for panel in chart_facts.panels(data):
        start = html.index(f'data-testid="report-chart-{panel.key}"')
        section = html[start : html.index("</section>", start)]
        assert panel.caption.replace("'", "&#x27;") in section and "<table" in section, panel.key
        assert ("<svg" in section) == panel.drawn, panel.key
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) > 100 and len(ids) == len(set(ids))  # each drawing's ids are its own
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = report.render_pdf(html)
    assert pdf.startswith(b"%PDF-")
    assert not [r.getMessage() for r in caplog.records if "Anchor defined twice" in r.getMessage()]


@pytest.mark.django_db
def test_the_version_page_shows_the_top_features_of_the_latest_run_that_computed_them(world, run, browser_client):
    client = browser_client.as_user(world.validator)
    page = client.get("/models/mine/versions/2.0/").content.decode()
    assert 'data-testid="top-features"' not in page  # no run computed importance yet
    data = every_chart()
    _with(run, data)
    page = client.get("/models/mine/versions/2.0/").content.decode()
    table = page[
        page.index('data-testid="top-features"') : page.index("</table>", page.index('data-testid="top-features"'))
    ]
    importance = data["importance"]
    rows = re.findall(r"<tr><td>(.*?)</td><td class=\"num\">(.*?)</td>", table)
    run_page = client.get(f"/validation-runs/{run.pk}/").content.decode()
    assert rows == [tuple(row[1:3]) for row in _cells(_section(run_page, "importance"))][:5]  # as the run page says
    assert [f for f, _ in rows] == importance["feature"][:5]
    assert f'href="/validation-runs/{run.pk}/#charts-explainability"' in table and "95% confidence interval" in table


def test_an_empty_or_malformed_section_is_left_out_and_the_rest_shown(caplog):
    data = every_chart()
    broken = {**data, "importance": {**data["importance"], "feature": [], "mean": []}, "costs": {"cost": 0.001}}
    kinds = {p.kind for p in chart_facts.panels(broken)}
    assert "importance" not in kinds and "costs" not in kinds and "challenger" in kinds
    assert "validation chart importance is not in the stored format" in caplog.text


def test_a_sensitivity_chart_of_the_largest_pairs_says_how_many_there_are_and_names_no_parameter_it_lacks():
    pairs = [{"a": "trial_3", "b": "trial_4", "parameter": None, "move": 0.9}, {"a": "t1", "b": "t2", "move": 0.5}]
    d = {"metric": "sharpe", "max_move": 0.9, "median_move": 0.4, "neighbours": "adjacent columns", "pairs": pairs}
    (panel,) = chart_facts.panels({"parameter_sensitivity": d | {"pair_count": 23}})
    assert "median move over all 23 pairs is 0.40; the 2 largest are shown." in panel.caption
    assert panel.table.columns == ["Rank", "Between", "Move in Sharpe ratio"]  # adjacent columns: no parameter
    assert [row[-1] for row in panel.table.rows] == ["0.90", "0.50"]
    (drawn_all,) = chart_facts.panels({"parameter_sensitivity": d | {"pair_count": 2}})
    assert drawn_all.caption.endswith("median move over all 2 pairs is 0.40.")
