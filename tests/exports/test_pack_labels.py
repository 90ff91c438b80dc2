"""The pack PDFs read as people read the pages: tests and metrics by their labels (the validation catalogue), values
in their units and rounded, monitors by their measure's label, desks by name; words wrap whole."""

import re

import pytest
from django.template.loader import render_to_string

from risk.exports import evidence_pack
from risk.exports.templatetags import pack_labels
from risk.monitoring import measures
from risk.validation import plans
from tests.exports.packs import make_pack


@pytest.fixture
def printed(monkeypatch):
    """The HTML each pack PDF is printed from, by template."""
    pages = {}
    render = evidence_pack.render_pdf

    def capture(template, context):
        pages[template] = render_to_string(template, context)
        return render(template, context)

    monkeypatch.setattr(evidence_pack, "render_pdf", capture)
    return pages


@pytest.mark.django_db
def test_the_dossier_names_tests_metrics_and_desks_and_rounds_values(world, api, signed_version, tmp_path, printed):
    make_pack(api, world.auditor, signed_version, tmp_path)
    page = printed["exports/dossier.html"]
    run = signed_version.validation_runs.get()
    assert run.results
    for result in run.results:
        label = plans.label_for_test(result["test"], result["metric"])
        assert label in page.replace("&#x27;", "'"), label
        assert f"<td>{result['test']}</td>" not in page or label == result["test"]
    assert not re.search(r"\d\.\d{7,}", page), "no raw float"
    assert "<td>roc_auc</td>" not in page and "ROC AUC" in page
    assert f"{world.desk.name} ({world.desk.code})" in page
    style = render_to_string("exports/_pack_style.html", {"meta": {}, "footer": ""})
    assert "anywhere" not in style and "hyphens: manual" in style and "word-break: normal" in style


def test_monitors_read_by_their_measure_and_unit():
    row = {"kind": "Performance", "measure": "roc_auc", "stream": ""}
    assert pack_labels.monitor_named(row) == "ROC AUC"
    drift = pack_labels.monitor_named({"kind": "Drift", "measure": "psi", "stream": "score"})
    assert drift == f"{measures.MEASURES['psi'].label} of the score"
    assert pack_labels.measure_named("Performance: roc_auc") == "Performance: ROC AUC"
    assert pack_labels.in_measure_unit(0.612345678, "Performance: roc_auc") == "0.612"
    assert pack_labels.in_measure_unit(0.5421, "accuracy") == "54.2\u00a0%"
    assert pack_labels.in_measure_unit(None, "accuracy") == "—"
    assert pack_labels.desk_named("EQ", {"EQ": "Equities"}) == "Equities (EQ)"
    assert pack_labels.desk_named("XX", {}) == "XX"
