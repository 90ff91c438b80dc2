import pytest

from governance.core.audit import audit_record


@pytest.mark.django_db
def test_it_filters_the_audit_trail(world, api):
    client = api.as_user(world.auditor)
    body = client.get(f"/api/v1/audit-events/?object_type=models_registry.model&object_id={world.mine.pk}").json()
    assert body["count"] >= 1 and all(e["object_id"] == str(world.mine.pk) for e in body["results"])
    body = client.get("/api/v1/audit-events/?actor=compliance&action=model.create").json()
    assert {e["object_repr"] for e in body["results"]} == {"mine", "theirs", "draft-on-desk"}
    assert (
        client.get("/api/v1/audit-events/?since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z").json()["count"] == 0
    )
    assert client.get("/api/v1/audit-events/?since=yesterday").status_code == 400


@pytest.mark.django_db
def test_it_scopes_the_audit_trail_to_what_a_person_can_see(world, api):
    seen = {
        e["object_repr"]
        for e in api.as_user(world.developer)
        .get("/api/v1/audit-events/?action=model.create&page_size=100")
        .json()["results"]
    }
    assert seen == {"mine", "draft-on-desk"}
    assert api.as_user(world.trader).get("/api/v1/audit-events/?action=model.create").json()["count"] == 0


@pytest.mark.django_db
def test_it_verifies_the_chain_for_auditors_only(world, api):
    audit_record(world.compliance, "test.event", world.mine)
    response = api.as_user(world.auditor).get("/api/v1/audit-events/verify/")
    assert response.status_code == 200 and response.json()["intact"] is True and response.json()["checked"] > 5
    assert api.as_user(world.developer).get("/api/v1/audit-events/verify/").status_code == 403


@pytest.mark.django_db
def test_it_never_accepts_writes_to_the_trail(world, api):
    client = api.as_user(world.compliance)
    assert client.post("/api/v1/audit-events/", {"action": "x"}, format="json").status_code == 405


@pytest.mark.django_db
def test_it_normalises_odd_time_offsets_instead_of_failing(world, api):
    client = api.as_user(world.auditor)
    response = client.get("/api/v1/audit-events/", {"since": "0375-01-08T18:49:28-19:17"})
    assert response.status_code in (200, 400)
    assert client.get("/api/v1/audit-events/", {"since": "2026-01-01T00:00:00+05:30"}).status_code == 200
