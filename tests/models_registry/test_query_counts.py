"""List pages cost a fixed number of queries whatever the page size (no per-row permission checks)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models_registry.models import Model
from tests.factories import make_model, make_version


@pytest.fixture
def many_models(world):
    for i in range(30):
        make_model(
            world.compliance,
            key=f"bulk-{i:02d}",
            owner=world.owner,
            developers=[world.developer],
            validator=world.validator if i % 2 else None,
            desk=world.desk,
        )
    return world


def count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["developer", "compliance", "trader", "validator"])
def test_it_lists_models_in_constant_queries_api(persona, many_models, api):
    client = api.as_user(getattr(many_models, persona))
    client.get("/api/v1/models/?page_size=1")  # warm the permission ids the access rules cache
    small = count_queries(lambda: client.get("/api/v1/models/?page_size=2"))
    large = count_queries(lambda: client.get("/api/v1/models/?page_size=30"))
    assert small == large
    # token lookup, user groups (roles), count, page, developers prefetch (+ trader's profile)
    assert large <= 6


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["developer", "compliance", "auditor"])
def test_it_lists_models_in_constant_queries_ui(persona, many_models, browser_client):
    # The page has no page_size (always 25 rows): a filter that matches two models makes the small page.
    Model.objects.filter(key__in=["bulk-00", "bulk-01"]).update(is_vendor=True, vendor_name="Acme Analytics")
    client = browser_client.as_user(getattr(many_models, persona))
    client.get("/models/")  # warm the session
    rows = {}

    def list_page(query):
        def get():
            response = client.get(f"/models/?{query}")
            rows[query] = len(response.context["page"])
            return response

        return get

    small = count_queries(list_page("is_vendor=true"))
    many = count_queries(list_page("is_vendor=false"))
    assert rows == {"is_vendor=true": 2, "is_vendor=false": 25}
    assert small == many
    assert many <= 8 + (persona == "auditor")  # an auditor's access window is read once per request


@pytest.mark.django_db
def test_it_lists_versions_and_data_sources_in_constant_queries(many_models, api):
    client = api.as_user(many_models.developer)
    for i in range(12):
        make_version(many_models.developer, many_models.mine, label=f"3.{i}")
    client.get("/api/v1/models/mine/versions/?page_size=1")  # warm the permission ids the access rules cache
    small = count_queries(lambda: client.get("/api/v1/models/mine/versions/?page_size=2"))
    large = count_queries(lambda: client.get("/api/v1/models/mine/versions/?page_size=20"))
    assert small == large
    assert count_queries(lambda: client.get("/api/v1/data-sources/?page_size=1")) == count_queries(
        lambda: client.get("/api/v1/data-sources/?page_size=50")
    )
