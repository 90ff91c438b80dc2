"""The inventory pages: create and edit with field errors, frozen versions, filters."""

import pytest

from governance.core.models import AuditEvent
from models_registry.models import Model, ModelVersion


def form_data(**overrides):
    data = {
        "key": "ui-model",
        "name": "UI model",
        "purpose": "alpha",
        "desk": "",
        "model_type": "random_forest",
        "asset_classes": ["equities"],
        "intended_use": "Signal.",
        "notional_at_stake": "1000000",
        "downstream_consumers": "0",
        "complexity_rating": "low",
        "explainability_rating": "high",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_it_registers_a_model_from_the_form(world, browser_client):
    client = browser_client.as_user(world.developer)
    data = form_data(desk=world.desk.pk, owner=world.owner.pk)
    response = client.post("/models/new/", data)
    assert response.status_code == 302 and response["Location"] == "/models/ui-model/"
    model = Model.objects.get(key="ui-model")
    assert list(model.developers.all()) == [world.developer] and model.owner == world.owner
    page = client.get("/models/ui-model/?section=history")
    assert b"UI model" in page.content and b"model.create" in page.content  # audit timeline


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"key": "mine"}, "key"),
        ({"key": "Bad Key"}, "key"),
        ({"purpose": "astrology"}, "purpose"),
        ({"notional_at_stake": "lots"}, "notional_at_stake"),
        ({"intended_use": ""}, "intended_use"),
        ({"is_vendor": "on", "vendor_name": ""}, "vendor_name"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_it_shows_field_errors_and_writes_nothing(overrides, field, world, browser_client):
    client = browser_client.as_user(world.developer)
    before = (Model.objects.count(), AuditEvent.objects.count())
    response = client.post("/models/new/", form_data(desk=world.desk.pk, owner=world.owner.pk, **overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors, response.context["form"].errors
    assert f'data-field="{field}"'.encode() in response.content
    assert (Model.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_it_hides_compliance_fields_from_developers(world, browser_client):
    form = browser_client.as_user(world.developer).get("/models/mine/edit/").context["form"]
    assert "validator" not in form.fields and "tier_override" not in form.fields
    form = browser_client.as_user(world.compliance).get("/models/mine/edit/").context["form"]
    assert "validator" in form.fields and "tier_override" in form.fields


@pytest.mark.django_db
def test_it_edits_a_model_and_records_the_reason(world, browser_client):
    client = browser_client.as_user(world.owner)
    data = form_data(desk=world.desk.pk, name="Renamed", developers=[world.developer.pk], reason="Clearer name")
    del data["key"]
    response = client.post("/models/mine/edit/", data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    event = AuditEvent.objects.filter(action="model.update").latest("id")
    assert event.changes["name"][1] == "Renamed"
    assert event.reason == "Clearer name"


@pytest.mark.django_db
def test_it_refuses_to_edit_a_frozen_version(world, browser_client):
    client = browser_client.as_user(world.developer)
    page = client.get("/models/mine/versions/1.0/")
    assert b"frozen" in page.content and b"Edit draft" not in page.content
    response = client.post("/models/mine/versions/1.0/edit/", {"artifact_uri": "s3://x"}, follow=True)
    assert b"frozen" in response.content
    assert ModelVersion.objects.get(model=world.mine, version="1.0").artifact_uri != "s3://x"


@pytest.mark.django_db
def test_it_registers_and_edits_a_draft_version_from_the_form(world, browser_client):
    client = browser_client.as_user(world.developer)
    data = {
        "version": "2.0",
        "artifact_uri": "s3://a/2.0",
        "artifact_sha256": "b" * 64,
        "code_revision": "f00d",
        "hyperparameters": '{"depth": 5}',
        "claimed_performance": '{"sharpe": 1.3}',
        "training_sources": [world.public_source.pk],
    }
    response = client.post("/models/mine/versions/new/", data)
    assert response.status_code == 302
    bad = client.post("/models/mine/versions/new/", {**data, "version": "2.1", "claimed_performance": '{"x": "y"}'})
    assert bad.status_code == 400 and "claimed_performance" in bad.context["form"].errors
    edit = client.post("/models/mine/versions/2.0/edit/", {**data, "notes": "Retrained", "reason": "notes"})
    assert edit.status_code == 302
    assert ModelVersion.objects.get(model=world.mine, version="2.0").notes == "Retrained"


@pytest.mark.django_db
def test_it_filters_the_inventory_page(world, browser_client):
    client = browser_client.as_user(world.compliance)
    page = client.get("/models/?desk=rates")
    assert [m.key for m in page.context["page"]] == ["theirs"]
    page = client.get("/models/?search=draft&ordering=-key")
    assert [m.key for m in page.context["page"]] == ["draft-on-desk"]
    page = client.get("/models/?risk_tier=9")
    assert page.status_code == 400 and page.context["filter_errors"] and list(page.context["page"]) == []


@pytest.mark.django_db
def test_list_filters_offer_any_and_retention_reads_in_years(world, browser_client):
    client = browser_client.as_user(world.compliance)
    models_page = client.get("/models/").content.decode()
    assert "---------" not in models_page and ">Any</option>" in models_page
    sources = client.get("/data-sources/").content.decode()
    assert "---------" not in sources
    from models_registry import services

    source = services.data_source_update(world.compliance, world.public_source, retention_days=2555)
    page = client.get(f"/data-sources/{source.pk}/").content.decode()
    assert "7 years (2,555 days)" in page
