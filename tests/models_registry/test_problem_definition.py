"""The problem definition and the model's boundaries (issue 24): recorded with the model's record through the API,
the edit page and the model update service (audited); bad input is a 400 naming the field and writes nothing."""

import re

import pytest

from governance.core.models import AuditEvent
from models_registry.models import Model
from models_registry.problem import boundary_text, criterion_text

GOOD = {
    "objectives": "Rank US large caps by 20-day momentum for the systematic equity book.",
    "success_criteria": [
        {"metric": "sharpe", "operator": ">=", "value": 1.2, "unit": "ratio"},
        {"metric": "max_drawdown", "operator": "<", "value": 0.08},
    ],
    "constraints": "Long-only; no single name above 2% of the book.",
    "infrastructure_needs": "OMS coupling through the EQ OMS; latency budget 50 ms; Refinitiv level 1 feed.",
    "out_of_scope_uses": "Small caps; intraday execution; sizing positions.",
    "operating_boundaries": [
        {"name": "order size", "min": 0, "max": 5000000, "unit": "USD"},
        {"name": "VIX", "max": 35},
    ],
}


def _state():
    return (
        list(Model.objects.filter(key="mine").values_list(*GOOD.keys())),
        AuditEvent.objects.count(),
    )


@pytest.mark.django_db
def test_it_records_the_problem_definition_through_the_api_and_audits_it(world, api):
    response = api.as_user(world.owner).patch("/api/v1/models/mine/", {**GOOD, "reason": "Scoped"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success_criteria"] == GOOD["success_criteria"]
    assert body["operating_boundaries"] == GOOD["operating_boundaries"]
    model = Model.objects.get(key="mine")
    assert model.out_of_scope_uses == GOOD["out_of_scope_uses"]
    event = AuditEvent.objects.filter(action="model.update").latest("id")
    assert event.changes["operating_boundaries"] == [[], GOOD["operating_boundaries"]]
    assert event.changes["objectives"][1] == GOOD["objectives"] and event.reason == "Scoped"


BAD = [
    ({"success_criteria": "sharpe above 1"}, "success_criteria"),
    ({"success_criteria": [{"metric": "sharpe", "operator": "=>", "value": 1}]}, "success_criteria"),
    ({"success_criteria": [{"metric": "sharpe", "operator": ">=", "value": "1.2"}]}, "success_criteria"),
    ({"success_criteria": [{"metric": "sharpe", "operator": {}, "value": 1}]}, "success_criteria"),  # was a 500
    ({"success_criteria": [{"metric": ["sharpe"], "operator": [">"], "value": [1]}]}, "success_criteria"),
    ({"operating_boundaries": [{"name": {}, "min": {}, "max": [], "unit": 5}]}, "operating_boundaries"),
    ({"success_criteria": [{"metric": "sharpe", "operator": ">=", "value": True}]}, "success_criteria"),
    ({"success_criteria": [{"metric": "", "operator": ">=", "value": 1}]}, "success_criteria"),
    ({"success_criteria": [{"metric": "sharpe", "operator": ">=", "value": 1, "colour": "red"}]}, "success_criteria"),
    ({"success_criteria": [{"metric": "a\nb", "operator": ">=", "value": 1}]}, "success_criteria"),
    ({"success_criteria": [{"metric": "m", "operator": ">", "value": 1}] * 31}, "success_criteria"),
    ({"operating_boundaries": [{"name": "order size"}]}, "operating_boundaries"),
    ({"operating_boundaries": [{"name": "order size", "min": 10, "max": 1}]}, "operating_boundaries"),
    ({"operating_boundaries": [{"name": "order size", "max": "big"}]}, "operating_boundaries"),
    ({"operating_boundaries": [{"min": 1}]}, "operating_boundaries"),
    ({"operating_boundaries": {"name": "x", "max": 1}}, "operating_boundaries"),
    ({"operating_boundaries": ["order size < 5m"]}, "operating_boundaries"),
    ({"out_of_scope_uses": "x" * 5001}, "out_of_scope_uses"),
    ({"objectives": "x" * 5001}, "objectives"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("change,field", BAD)
def test_it_refuses_a_bad_problem_definition_by_field_and_writes_nothing(change, field, world, api):
    before = _state()
    response = api.as_user(world.owner).patch("/api/v1/models/mine/", {**GOOD, **change}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field], response.json()
    assert _state() == before


@pytest.mark.django_db
def test_it_records_the_problem_definition_at_registration(world, api):
    from tests.models_registry.test_api_bad_input import VALID

    response = api.as_user(world.compliance).post("/api/v1/models/", {**VALID, **GOOD}, format="json")
    assert response.status_code == 201, response.content
    assert Model.objects.get(key=VALID["key"]).success_criteria == GOOD["success_criteria"]
    event = AuditEvent.objects.filter(action="model.create").latest("id")
    assert event.changes["success_criteria"] == [None, GOOD["success_criteria"]]


def _errors_beside(html: str, name: str) -> str:
    """The errors in the field's own block, after its control (empty when there are none)."""
    block = re.search(rf'<div class="field[^"]*">\s*<label for="id_{name}">.*?</div>', html, re.S)
    assert block, f"no field {name}"
    errors = re.search(rf'<ul class="errorlist" data-field="{name}"[^>]*>(.*?)</ul>', block.group(0), re.S)
    return re.sub(r"<[^>]+>", " ", errors.group(1)) if errors else ""


@pytest.mark.django_db
def test_the_edit_page_shows_each_error_beside_its_field_and_saves_good_input(world, browser_client):
    from tests.models_registry.test_ui_forms import form_data

    client = browser_client.as_user(world.owner)
    data = form_data(desk=world.desk.pk, developers=[world.developer.pk])
    del data["key"]
    before = _state()
    bad = {
        **data,
        "success_criteria": '[{"metric": "sharpe", "operator": "about", "value": 1}]',
        "operating_boundaries": '[{"name": "order size", "min": 5, "max": 1}]',
    }
    response = client.post("/models/mine/edit/", bad)
    assert response.status_code == 400
    html = response.content.decode()
    assert "operator" in _errors_beside(html, "success_criteria")
    assert "min" in _errors_beside(html, "operating_boundaries")
    assert _errors_beside(html, "objectives") == ""
    assert _state() == before
    response = client.post("/models/mine/edit/", {**bad, "success_criteria": "not json"})
    assert response.status_code == 400 and "JSON" in _errors_beside(response.content.decode(), "success_criteria")

    good = {
        **data,
        "objectives": GOOD["objectives"],
        "success_criteria": '[{"metric": "sharpe", "operator": ">=", "value": 1.2}]',
        "out_of_scope_uses": GOOD["out_of_scope_uses"],
        "operating_boundaries": '[{"name": "order size", "max": 5000000, "unit": "USD"}]',
    }
    response = client.post("/models/mine/edit/", good)
    assert response.status_code == 302, response.content.decode()[:3000]
    page = client.get("/models/mine/").content.decode()
    assert "Sharpe ratio at least 1.2" in page and "order size at most 5,000,000 USD" in page
    assert GOOD["out_of_scope_uses"] in page


def test_it_says_criteria_and_boundaries_in_words():
    assert criterion_text({"metric": "hit rate", "operator": ">", "value": 0.52}) == "hit rate above 0.52"
    assert criterion_text({"metric": "hit_rate", "operator": ">", "value": 0.52}) == "hit rate above 0.52"
    assert criterion_text({"metric": "sharpe", "operator": ">=", "value": 0.8, "unit": "ratio"}) == (
        "Sharpe ratio at least 0.8"
    )
    assert (
        criterion_text({"metric": "max_drawdown", "operator": "<=", "value": 0.12}) == "maximum drawdown at most 0.12"
    )
    assert (
        criterion_text({"metric": "latency", "operator": "<=", "value": 50.0, "unit": "ms"}) == "latency at most 50 ms"
    )
    assert boundary_text({"name": "spread", "min": 0.5, "max": 3, "unit": "bp"}) == "spread from 0.5 to 3 bp"
    assert boundary_text({"name": "VIX", "min": 10}) == "VIX at least 10"
