"""Values are checked: an artifact URI is a URI with a scheme, a code revision looks like a commit hash or a
tag, and unknown filter values are refused with a message instead of being silently ignored."""

import pytest

from models_registry.models import ModelVersion


def version_body(**overrides):
    return {
        "version": "7.0",
        "artifact_uri": "s3://models/mine/7.0/model.bin",
        "artifact_sha256": "a" * 64,
        "code_revision": "9fceb02d0ae598e95dc970b74767f19372d61af8",
        **overrides,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value",
    [
        ("artifact_uri", "model.bin"),
        ("artifact_uri", "models/mine/7.0"),
        ("artifact_uri", "s3:// with spaces"),
        ("code_revision", "not a revision!"),
        ("code_revision", "-rf"),
        ("code_revision", "a;b"),
    ],
)
def test_it_refuses_artifact_uris_and_revisions_that_are_not_with_the_field_named(field, value, world, api):
    response = api.as_user(world.developer).post(
        "/api/v1/models/mine/versions/", version_body(**{field: value}), format="json"
    )
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not ModelVersion.objects.filter(model=world.mine, version="7.0").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "revision", ["9fceb02", "9fceb02d0ae598e95dc970b74767f19372d61af8", "v1.4.2", "release-2026.11"]
)
def test_it_accepts_commit_hashes_and_tags(revision, world, api):
    response = api.as_user(world.developer).post(
        "/api/v1/models/mine/versions/", version_body(code_revision=revision), format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["status=bogus", "risk_tier=7", "purpose=nonsense", "is_vendor=perhaps"])
def test_unknown_filter_values_are_refused_in_the_api_and_on_the_page(query, world, api, browser_client):
    response = api.as_user(world.compliance).get(f"/api/v1/models/?{query}")
    assert response.status_code == 400
    field = query.split("=")[0]
    assert field in response.json()
    page = browser_client.as_user(world.compliance).get(f"/models/?{query}")
    assert page.status_code == 400
    assert field in page.context["filter_errors"]
    assert list(page.context["page"]) == []  # nothing is listed as if the filter had been ignored


@pytest.mark.django_db
def test_column_headers_sort_the_inventory_and_blank_dates_sort_last_both_ways(world, browser_client):
    from models_registry.models import Model

    Model.objects.filter(key="theirs").update(next_validation_due="2027-01-01")
    Model.objects.filter(key="mine").update(next_validation_due="2028-01-01")
    Model.objects.filter(key="draft-on-desk").update(next_validation_due=None)
    client = browser_client.as_user(world.compliance)
    page = client.get("/models/?ordering=next_validation_due")
    assert [m.key for m in page.context["page"]] == ["theirs", "mine", "draft-on-desk"]
    assert 'href="?ordering=-next_validation_due"' in page.content.decode()  # the header reverses it
    page = client.get("/models/?ordering=-next_validation_due")
    assert [m.key for m in page.context["page"]] == ["mine", "theirs", "draft-on-desk"]
