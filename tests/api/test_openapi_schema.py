"""The API against its own OpenAPI schema: no 5xx, and every response matches what the schema promises.

Generation is derandomized so that CI runs the same examples every time: each run repeats the same inputs, so
examples beyond the first few dozen per operation buy no new coverage in CI, only minutes (this test was a third
of the suite's time at 100). The suite takes 50 per operation; VIGIL_SCHEMA_EXAMPLES sets how many (a deeper hunt
for pathological inputs, by hand before a release: VIGIL_SCHEMA_EXAMPLES=500).
"""

import json
import os

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from models_registry import service_accounts
from tests.factories import UserFactory, token_for
from vigil.wsgi import application

# The schema the API serves (to signed-in people only, so not fetched here: there is no database at collection),
# from the generator that serves it, called through the WSGI application as a client would.
schema = schemathesis.openapi.from_dict(
    json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
)
schema.app = application
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture
def keep_connection_open():
    """Calling the WSGI app directly would close the test's database connection at request end (as Django's
    test client avoids doing); detach that handler for the duration of the test."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(world, keep_connection_open):
    from django.utils import timezone

    from risk.monitoring import evaluation, proposals

    # Monitors with a result, so that the monitors list answers with every field of its schema filled.
    for monitor in proposals.propose(world.mine_v1):
        if monitor.measure in ("staleness", "accuracy"):
            evaluation.evaluate(monitor, timezone.now())
    return token_for(world.compliance)


@pytest.mark.schema
@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("VIGIL_SCHEMA_EXAMPLES", "50")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
def test_it_conforms_to_its_openapi_schema(case, token):
    if case.path == "/api/v1/auth/token/":
        case.call_and_validate(checks=CHECKS)
    else:
        case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)


@pytest.mark.django_db
def test_it_serves_the_schema_and_docs_without_a_cdn(browser_client):
    client = browser_client.as_user(UserFactory())
    response = client.get("/api/schema/")
    assert response.status_code == 200
    docs = client.get("/api/docs/").content.decode()
    assert "cdn" not in docs.lower() and "/static/drf_spectacular_sidecar/" in docs


@pytest.mark.django_db
def test_it_shows_the_schema_and_docs_to_signed_in_people_only(client, api):
    assert client.get("/api/schema/").status_code == 401
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/login/?next=/api/docs/")
    assert api.as_user(UserFactory()).get("/api/schema/").status_code == 200  # a token will do, as for any call


@pytest.mark.django_db
def test_a_service_account_does_not_read_the_schema(world, api):
    _account, key = service_accounts.service_account_create(world.compliance, name="EQ OMS", desk=world.desk)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/schema/").status_code == 403
