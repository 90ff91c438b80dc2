import pytest

from governance.core.models import AuditEvent
from models_registry.models import DataSource

SOURCE = {
    "name": "Options OPRA feed",
    "kind": "market_data",
    "collection_method": "exchange_feed",
    "storage_location": "kafka://opra",
    "classification": "internal",
    "retention_days": 730,
}


@pytest.mark.django_db
def test_it_registers_a_data_source_owned_by_its_registrant(world, api):
    response = api.as_user(world.developer).post("/api/v1/data-sources/", SOURCE, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["owner"] == "developer"
    assert AuditEvent.objects.filter(action="data_source.create", object_repr="Options OPRA feed").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change,field",
    [
        ({"name": "Public feed"}, "name"),
        ({"kind": "gossip"}, "kind"),
        ({"retention_days": 0}, "retention_days"),
        ({"retention_days": "forever"}, "retention_days"),
        ({"classification": "secret"}, "classification"),
        ({"storage_location": ""}, "storage_location"),
    ],
)
def test_it_rejects_bad_data_source_input(change, field, world, api):
    before = DataSource.objects.count()
    response = api.as_user(world.compliance).post("/api/v1/data-sources/", {**SOURCE, **change}, format="json")
    assert response.status_code == 400 and field in response.json()
    assert DataSource.objects.count() == before


@pytest.mark.django_db
def test_it_lets_only_owner_or_compliance_edit_a_source(world, api):
    url = f"/api/v1/data-sources/{world.public_source.pk}/"
    assert api.as_user(world.developer).patch(url, {"quality_rules": "x"}, format="json").status_code == 403
    assert api.as_user(world.owner).patch(url, {"quality_rules": "No gaps"}, format="json").status_code == 200
    assert api.as_user(world.owner).patch(url, {"owner": "owner2"}, format="json").status_code == 400
    assert api.as_user(world.compliance).patch(url, {"owner": "owner2"}, format="json").status_code == 200
    world.public_source.refresh_from_db()
    assert world.public_source.owner == world.owner2 and world.public_source.quality_rules == "No gaps"
    assert api.as_user(world.trader).get(url).status_code == 200
    assert api.as_user(world.trader).patch(url, {"quality_rules": "y"}, format="json").status_code == 403
