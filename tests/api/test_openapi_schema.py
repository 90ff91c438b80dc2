"""The API against its own OpenAPI schema: no 5xx, and every response matches what the schema promises.

Generation is derandomized so that CI runs the same examples every time. VIGIL_SCHEMA_EXAMPLES sets how many
examples each operation gets (a deeper hunt for pathological inputs, by hand: VIGIL_SCHEMA_EXAMPLES=500).
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from vigil.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
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
    from rest_framework.authtoken.models import Token

    from risk.monitoring import evaluation, proposals

    # Monitors with a result, so that the monitors list answers with every field of its schema filled.
    for monitor in proposals.propose(world.mine_v1):
        if monitor.measure in ("staleness", "accuracy"):
            evaluation.evaluate(monitor, timezone.now())
    return Token.objects.create(user=world.compliance).key


@pytest.mark.schema
@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("VIGIL_SCHEMA_EXAMPLES", "100")),
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


def test_it_serves_the_schema_and_docs_without_a_cdn(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    docs = client.get("/api/docs/").content.decode()
    assert "cdn" not in docs.lower() and "/static/drf_spectacular_sidecar/" in docs
