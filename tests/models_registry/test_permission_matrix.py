"""Each role against list, detail, create and update, for objects in and out of scope, in the API and the UI."""

import pytest
from django.urls import reverse

from governance.core.models import AuditEvent
from models_registry.models import Model

ALL = {"mine", "theirs", "draft-on-desk"}
VISIBLE = {
    "developer": {"mine", "draft-on-desk"},
    "developer2": {"theirs"},
    "owner": {"mine", "draft-on-desk"},
    "owner2": {"theirs"},
    "validator": {"mine"},
    "validator2": {"theirs"},
    "compliance": ALL,
    "auditor": ALL,
    "trader": {"mine"},
    "outsider": set(),
    "admin": ALL,
}
CHANGES = {
    "developer": {"mine", "draft-on-desk"},
    "developer2": {"theirs"},
    "owner": {"mine", "draft-on-desk"},
    "owner2": {"theirs"},
    "compliance": ALL,
    "admin": ALL,
}
CREATES = {"developer", "developer2", "owner", "owner2", "compliance", "admin"}
PERSONAS = sorted(VISIBLE)


def expected_update_status(persona, key):
    if key not in VISIBLE[persona]:
        return 404
    return 200 if key in CHANGES.get(persona, set()) else 403


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lists_exactly_the_models_in_scope_api(persona, world, api):
    body = api.as_user(getattr(world, persona)).get("/api/v1/models/?page_size=100").json()
    assert {row["key"] for row in body["results"]} == VISIBLE[persona]
    assert body["count"] == len(VISIBLE[persona])


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lists_exactly_the_models_in_scope_ui(persona, world, browser_client):
    response = browser_client.as_user(getattr(world, persona)).get(reverse("models_registry:model-list"))
    assert response.status_code == 200
    shown = {m.key for m in response.context["page"]}
    assert shown == VISIBLE[persona]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("key", sorted(ALL))
def test_it_answers_detail_with_404_outside_scope(persona, key, world, api, browser_client):
    user = getattr(world, persona)
    expected = 200 if key in VISIBLE[persona] else 404
    assert api.as_user(user).get(f"/api/v1/models/{key}/").status_code == expected
    assert browser_client.as_user(user).get(f"/models/{key}/").status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("key", sorted(ALL))
def test_it_allows_updates_only_to_the_model_team_and_compliance(persona, key, world, api, browser_client):
    user = getattr(world, persona)
    expected = expected_update_status(persona, key)
    events_before = AuditEvent.objects.count()
    response = api.as_user(user).patch(f"/api/v1/models/{key}/", {"name": f"Renamed by {persona}"}, format="json")
    assert response.status_code == expected, response.content
    renamed = Model.objects.get(key=key).name == f"Renamed by {persona}"
    assert renamed is (expected == 200)
    assert AuditEvent.objects.count() == events_before + (1 if expected == 200 else 0)
    ui_expected = expected
    assert browser_client.as_user(user).get(f"/models/{key}/edit/").status_code == ui_expected


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_allows_model_registration_only_to_creating_roles(persona, world, api, browser_client):
    user = getattr(world, persona)
    payload = {
        "key": f"new-by-{persona}",
        "name": "New model",
        "purpose": "alpha",
        "desk": "sys-eq",
        "model_type": "random_forest",
        "intended_use": "Research signal.",
        "owner": "owner",
        "developers": ["developer"],
        "notional_at_stake": "1000000",
        "complexity_rating": "low",
        "explainability_rating": "high",
    }
    if persona.startswith("owner"):
        del payload["owner"]  # an owner registers models they own
    response = api.as_user(user).post("/api/v1/models/", payload, format="json")
    assert response.status_code == (201 if persona in CREATES else 403), response.content
    assert Model.objects.filter(key=payload["key"]).exists() is (persona in CREATES)
    page = browser_client.as_user(user).get(reverse("models_registry:model-create"))
    assert page.status_code == (200 if persona in CREATES else 403)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_versions_only_of_visible_models(persona, world, api):
    user = getattr(world, persona)
    for key in sorted(ALL - {"draft-on-desk"}):
        response = api.as_user(user).get(f"/api/v1/models/{key}/versions/1.0/")
        assert response.status_code == (200 if key in VISIBLE[persona] else 404)


@pytest.mark.django_db
def test_it_hides_work_in_progress_versions_from_traders(world, api):
    from tests.factories import make_version

    make_version(world.developer, world.mine, label="2.0-rc1")
    body = api.as_user(world.trader).get("/api/v1/models/mine/versions/").json()
    assert [row["version"] for row in body["results"]] == ["1.0"]
    assert api.as_user(world.trader).get("/api/v1/models/mine/versions/2.0-rc1/").status_code == 404
    body = api.as_user(world.developer).get("/api/v1/models/mine/versions/").json()
    assert {row["version"] for row in body["results"]} == {"1.0", "2.0-rc1"}


DATA_SOURCE_VISIBLE = {
    "developer": {"Public feed"},
    "developer2": {"Public feed"},
    "owner": {"Public feed"},
    "owner2": {"Public feed", "Card panel"},  # owns the restricted source
    "validator": {"Public feed"},
    "validator2": {"Public feed"},
    "compliance": {"Public feed", "Card panel"},
    "auditor": {"Public feed", "Card panel"},
    "trader": {"Public feed"},
    "outsider": {"Public feed"},
    "admin": {"Public feed", "Card panel"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_it_shows_restricted_data_sources_only_to_those_granted(persona, world, api, browser_client):
    user = getattr(world, persona)
    body = api.as_user(user).get("/api/v1/data-sources/").json()
    assert {row["name"] for row in body["results"]} == DATA_SOURCE_VISIBLE[persona]
    expected = 200 if "Card panel" in DATA_SOURCE_VISIBLE[persona] else 404
    assert api.as_user(user).get(f"/api/v1/data-sources/{world.restricted_source.pk}/").status_code == expected
    assert browser_client.as_user(user).get(f"/data-sources/{world.restricted_source.pk}/").status_code == expected


@pytest.mark.django_db
def test_it_requires_authentication_everywhere(world, client):
    from rest_framework.test import APIClient

    anonymous = APIClient()
    for path in ["/api/v1/models/", "/api/v1/models/mine/", "/api/v1/data-sources/", "/api/v1/models/mine/versions/"]:
        assert anonymous.get(path).status_code == 401
    response = client.get("/models/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
