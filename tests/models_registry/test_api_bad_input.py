"""Bad input gets a 400 naming the field and writes nothing; frozen versions answer 409; no hard delete."""

import pytest

from governance.core.models import AuditEvent
from models_registry.models import Model, ModelVersion

VALID = {
    "key": "fx-new-signal",
    "name": "FX signal",
    "purpose": "alpha",
    "desk": "sys-eq",
    "model_type": "random_forest",
    "intended_use": "Research.",
    "owner": "owner",
    "developers": ["developer"],
    "notional_at_stake": "2500000",
    "complexity_rating": "medium",
    "explainability_rating": "medium",
    "asset_classes": ["fx"],
}


def counts():
    return Model.objects.count(), ModelVersion.objects.count(), AuditEvent.objects.count()


@pytest.mark.django_db
def test_it_creates_a_model_with_a_computed_tier_and_an_audit_event(world, api):
    last_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    response = api.as_user(world.compliance).post("/api/v1/models/", VALID, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["risk_tier"] == 3 and body["computed_tier"] == 3 and body["status"] == "draft"
    assert body["developers"] == ["developer"]
    event = AuditEvent.objects.get(id__gt=last_id, action="model.create")
    assert event.object_repr == "fx-new-signal" and event.changes["key"] == [None, "fx-new-signal"]


BAD_CASES = [
    ({"key": "mine"}, "key"),  # duplicate of an existing key
    ({"key": "Not A Slug!"}, "key"),
    ({"key": "new"}, "key"),  # reserved by the UI's /models/new/
    ({"purpose": "astrology"}, "purpose"),
    ({"model_type": 7}, "model_type"),
    ({"notional_at_stake": "lots"}, "notional_at_stake"),
    ({"notional_at_stake": "-5"}, "notional_at_stake"),
    ({"downstream_consumers": "three"}, "downstream_consumers"),
    ({"name": "x" * 201}, "name"),
    ({"description": "x" * 10001}, "description"),
    ({"asset_classes": ["tulips"]}, "asset_classes"),
    ({"asset_classes": "equities"}, "asset_classes"),
    ({"desk": "no-such-desk"}, "desk"),
    ({"owner": "nobody"}, "owner"),
    ({"owner": "developer"}, "owner"),  # holds no owner role
    ({"developers": ["validator"]}, "developers"),
    ({"developers": []}, "developers"),
    ({"is_vendor": True, "vendor_name": ""}, "vendor_name"),
    ({"validator": "developer"}, "validator"),
    ({"tier_override": 1}, "tier_override_justification"),
    ({"tier_override": 9, "tier_override_justification": "x"}, "tier_override"),
    ({"intended_use": ""}, "intended_use"),
    ({"upstream_models": ["does-not-exist"]}, "upstream_models"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("change,field", BAD_CASES)
def test_it_rejects_bad_model_input_by_field_and_writes_nothing(change, field, world, api):
    before = counts()
    response = api.as_user(world.compliance).post("/api/v1/models/", {**VALID, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert counts() == before


@pytest.mark.django_db
def test_it_refuses_a_validator_who_develops_the_model_sr11_7_independence(world, api):
    before = counts()
    payload = {**VALID, "developers": ["developer"], "validator": "validator"}
    api.as_user(world.compliance).post("/api/v1/models/", payload, format="json")
    response = api.as_user(world.compliance).patch(
        "/api/v1/models/fx-new-signal/",
        {"developers": ["developer"], "owner": "owner", "validator": "validator"},
        format="json",
    )
    assert response.status_code == 200
    world.validator.groups.add(*world.developer.groups.all())  # the validator also develops models
    response = api.as_user(world.compliance).patch(
        "/api/v1/models/fx-new-signal/", {"developers": ["developer", "validator"]}, format="json"
    )
    assert response.status_code == 400 and "validator" in response.json()
    assert list(Model.objects.get(key="fx-new-signal").developers.values_list("username", flat=True)) == ["developer"]
    assert counts()[0] == before[0] + 1


@pytest.mark.django_db
def test_it_reserves_validator_assignment_and_tier_overrides_to_compliance(world, api):
    response = api.as_user(world.developer).patch("/api/v1/models/mine/", {"validator": "validator2"}, format="json")
    assert response.status_code == 400 and "validator" in response.json()
    response = api.as_user(world.developer).patch(
        "/api/v1/models/mine/", {"tier_override": 3, "tier_override_justification": "Small"}, format="json"
    )
    assert response.status_code == 400 and "tier_override" in response.json()
    assert Model.objects.get(key="mine").validator == world.validator
    response = api.as_user(world.compliance).patch(
        "/api/v1/models/mine/",
        {"tier_override": 1, "tier_override_justification": "Feeds the VaR engine."},
        format="json",
    )
    assert response.status_code == 200 and response.json()["risk_tier"] == 1


@pytest.mark.django_db
def test_it_rejects_malformed_json_bodies(world, api):
    response = api.as_user(world.compliance).post("/api/v1/models/", "{not json", content_type="application/json")
    assert response.status_code == 400
    response = api.as_user(world.compliance).post("/api/v1/models/", ["a", "list"], format="json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_it_never_hard_deletes_models_or_versions(world, api):
    client = api.as_user(world.compliance)
    assert client.delete("/api/v1/models/mine/").status_code == 405
    assert client.delete("/api/v1/models/mine/versions/1.0/").status_code == 405
    assert client.put("/api/v1/models/mine/", VALID, format="json").status_code == 405
    assert Model.objects.filter(key="mine").exists()


VERSION = {
    "version": "2.0",
    "artifact_uri": "s3://a/b",
    "artifact_sha256": "a" * 64,
    "code_revision": "abc123",
    "hyperparameters": {"depth": 3},
    "claimed_performance": {"sharpe": 1.1, "auc": 0.6},
}


@pytest.mark.django_db
def test_it_registers_versions_with_their_data_sources(world, api):
    payload = {**VERSION, "training_sources": [world.public_source.pk], "inference_sources": [world.public_source.pk]}
    response = api.as_user(world.developer).post("/api/v1/models/mine/versions/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["training_sources"] == [world.public_source.pk]
    assert body["created_by"] == "developer"


VERSION_BAD = [
    ({"version": "1.0"}, "version"),  # exists already
    ({"version": "../etc"}, "version"),
    ({"artifact_sha256": "xyz"}, "artifact_sha256"),
    ({"artifact_sha256": "A" * 64}, "artifact_sha256"),
    ({"hyperparameters": [1, 2]}, "hyperparameters"),
    ({"claimed_performance": {"sharpe": "high"}}, "claimed_performance"),
    ({"claimed_performance": {"sharpe": True}}, "claimed_performance"),
    ({"code_revision": ""}, "code_revision"),
    ({"training_sources": [999999]}, "training_sources"),
    ({"training_sources": ["one"]}, "training_sources"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("change,field", VERSION_BAD)
def test_it_rejects_bad_version_input_by_field(change, field, world, api):
    before = counts()
    response = api.as_user(world.developer).post("/api/v1/models/mine/versions/", {**VERSION, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert counts() == before


@pytest.mark.django_db
def test_it_refuses_restricted_sources_the_developer_was_not_granted(world, api):
    payload = {**VERSION, "training_sources": [world.restricted_source.pk]}
    response = api.as_user(world.developer).post("/api/v1/models/mine/versions/", payload, format="json")
    assert response.status_code == 400 and "training_sources" in response.json()
    # The error is the same as for a source that does not exist: nothing is revealed.
    missing = api.as_user(world.developer).post(
        "/api/v1/models/mine/versions/", {**VERSION, "training_sources": [987654]}, format="json"
    )
    assert response.json()["training_sources"][0].replace(str(world.restricted_source.pk), "N") == missing.json()[
        "training_sources"
    ][0].replace("987654", "N")


@pytest.mark.django_db
def test_it_freezes_versions_that_left_draft_with_409(world, api):
    client = api.as_user(world.developer)
    before = counts()
    response = client.patch("/api/v1/models/mine/versions/1.0/", {"notes": "tweak"}, format="json")
    assert response.status_code == 409
    assert "frozen" in response.json()["detail"] and response.json()["reasons"]
    assert counts() == before
    client.post("/api/v1/models/mine/versions/", VERSION, format="json")
    response = client.patch("/api/v1/models/mine/versions/2.0/", {"notes": "tweak", "reason": "typo"}, format="json")
    assert response.status_code == 200 and response.json()["notes"] == "tweak"
    event = AuditEvent.objects.filter(action="version.update").latest("id")
    assert event.changes == {"notes": ["", "tweak"]} and event.reason == "typo"


@pytest.mark.django_db
def test_it_lets_only_the_model_team_add_versions(world, api):
    for persona, expected in [
        ("developer", 201),
        ("owner", 201),
        ("validator", 403),
        ("compliance", 403),
        ("auditor", 403),
        ("trader", 403),
        ("developer2", 404),
    ]:
        payload = {**VERSION, "version": f"9.{persona}"}
        response = api.as_user(getattr(world, persona)).post("/api/v1/models/mine/versions/", payload, format="json")
        assert response.status_code == expected, (persona, response.content)


@pytest.mark.django_db
def test_it_answers_unknown_ids_and_keys_with_404_not_500(world, api):
    client = api.as_user(world.compliance)
    assert client.get("/api/v1/data-sources/99999999999999999/").status_code == 404
    assert client.get("/api/v1/data-sources/abc/").status_code == 404
    assert client.get("/api/v1/models/NOPE/").status_code == 404
    assert client.get("/api/v1/models/mine/versions/9.9/").status_code == 404
    assert client.get("/api/v1/models/?risk_tier=7").status_code == 400
    assert client.get("/api/v1/models/?page=999").status_code == 404


@pytest.mark.django_db
def test_it_filters_searches_orders_and_paginates(world, api):
    client = api.as_user(world.compliance)
    assert [r["key"] for r in client.get("/api/v1/models/?desk=rates").json()["results"]] == ["theirs"]
    assert [r["key"] for r in client.get("/api/v1/models/?status=draft").json()["results"]] == ["draft-on-desk"]
    assert [r["key"] for r in client.get("/api/v1/models/?search=thei").json()["results"]] == ["theirs"]
    keys = [r["key"] for r in client.get("/api/v1/models/?ordering=-key").json()["results"]]
    assert keys == sorted(keys, reverse=True)
    page = client.get("/api/v1/models/?page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]


@pytest.mark.django_db
def test_it_rejects_non_finite_numbers_in_json(world, api):
    import json

    before = counts()
    body = json.dumps(VERSION)[:-1] + ', "claimed_performance": {"sharpe": Infinity}}'
    response = api.as_user(world.developer).post("/api/v1/models/mine/versions/", body, content_type="application/json")
    assert response.status_code == 400
    assert counts() == before
