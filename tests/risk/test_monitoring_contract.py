"""The monitoring batch contract is one table (risk/monitoring/batch_contract.ROWS): the checks in
risk/monitoring/inputs.py must enforce exactly its fields, and the OpenAPI schema must document exactly them.
Rows built from the table go through the checks; a field in one and not the other fails here."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from risk.monitoring import inputs
from risk.monitoring.batch_contract import ROWS

CLEAN = {
    "points": inputs.clean_points,
    "trades": inputs.clean_trades,
    "predictions": inputs.clean_predictions,
    "outcomes": inputs.clean_outcomes,
}
COMPONENTS = {"points": "Point", "trades": "Trade", "predictions": "Prediction", "outcomes": "Outcome"}
GOOD = {"text": "a-1", "time": "2026-01-02T03:04:05Z", "number": 1.5, "features": {"f1": 0.25}}
WRONG = {"text": 7, "time": "yesterday", "number": "many", "choice": "neither", "features": []}
CASES = [(kind, name) for kind, fields in ROWS.items() for name in fields]


def good_value(field):
    return field.choices[0] if field.kind == "choice" else GOOD[field.kind]


def good_row(kind) -> dict:
    return {name: good_value(field) for name, field in ROWS[kind].items()}


def refused_fields(kind, row) -> set[str]:
    try:
        CLEAN[kind]([row])
    except inputs.BatchRefused as refused:
        return {e["field"].split(".")[0] for e in refused.detail[kind]}
    return set()


def test_rows_holding_exactly_the_contracts_fields_are_taken_by_the_checks():
    """Fails when the checks ask for a field (or a shape) the contract does not document."""
    for kind in ROWS:
        assert refused_fields(kind, good_row(kind)) == set(), kind
        assert len(CLEAN[kind]([good_row(kind)])) == 1


@pytest.mark.parametrize(("kind", "name"), CASES)
def test_the_checks_enforce_each_field_the_contract_documents(kind, name):
    """Fails when the contract documents a field the checks ignore, or says required/optional wrongly."""
    field = ROWS[kind][name]
    assert refused_fields(kind, good_row(kind) | {name: WRONG[field.kind]}) == {name}
    missing = {k: v for k, v in good_row(kind).items() if k != name}
    assert refused_fields(kind, missing) == ({name} if field.required else set())
    if field.max_length and field.kind == "text":
        assert refused_fields(kind, good_row(kind) | {name: "x" * (field.max_length + 1)}) == {name}
    if field.max_length and field.kind == "features":
        too_many = {f"f{i}": 1.0 for i in range(field.max_length + 1)}
        assert refused_fields(kind, good_row(kind) | {name: too_many}) == {name}
    if field.positive:
        assert refused_fields(kind, good_row(kind) | {name: 0}) == {name}


@pytest.mark.schema
def test_the_openapi_schema_documents_the_contracts_fields_and_what_each_requires():
    """Fails when the API's documented rows are written apart from the contract again."""
    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    for kind, component in COMPONENTS.items():
        documented = components[f"{component}Request"]
        assert set(documented["properties"]) == set(ROWS[kind]), kind
        assert set(documented.get("required", [])) == {n for n, f in ROWS[kind].items() if f.required}, kind
        assert set(components[f"{component}BatchRequest"]["properties"]) == {"version", kind}
