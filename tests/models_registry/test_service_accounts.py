"""Service accounts: tokens for trading systems scoped to named models or a desk, reading the gate and/or pushing
monitoring data and nothing else; created, rotated and revoked by compliance, audited, the token shown once."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from governance.core import api_tokens
from governance.core.models import ApiToken, AuditEvent
from models_registry import service_accounts
from models_registry.models import ServiceAccount


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def create(world, **fields):
    values = {"name": "EQ OMS", "models": [world.mine], "can_read_gate": True, "can_push": False} | fields
    return service_accounts.service_account_create(world.compliance, **values)


POINTS = {"points": [{"metric": "pnl", "timestamp": "2026-01-05T10:00:00Z", "value": 12.5}]}


@pytest.mark.django_db
def test_an_account_reads_the_gate_of_its_models_and_nothing_else(world):
    _, token = create(world)
    client = client_with(token)
    assert client.get("/api/v1/gate/mine/").status_code == 200
    assert client.get("/api/v1/gate/theirs/").status_code == 404  # not in its scope: as if absent
    for url in ("/api/v1/models/", "/api/v1/models/mine/", "/api/v1/incidents/", "/api/v1/audit-events/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/api/v1/models/mine/monitoring/points/", POINTS, format="json").status_code == 403
    assert client.get("/models/mine/").status_code == 302  # no page: the login page, where it cannot sign in


@pytest.mark.django_db
def test_a_desk_account_sees_the_desks_models_in_any_status_and_may_push_when_allowed(world):
    _, token = create(world, name="Rates pipeline", models=[], desk=world.other_desk, can_push=True)
    client = client_with(token)
    assert client.get("/api/v1/gate/theirs/").status_code == 200
    assert client.get("/api/v1/gate/mine/").status_code == 404
    desk = client.get("/api/v1/gate/", {"desk": "rates"}).json()
    assert [d["model"] for d in desk["decisions"]] == ["theirs"]
    stored = client.post("/api/v1/models/theirs/monitoring/points/", POINTS, format="json")
    assert stored.status_code == 201, stored.content
    assert client.post("/api/v1/models/mine/monitoring/points/", POINTS, format="json").status_code == 404


@pytest.mark.django_db
def test_a_push_only_account_does_not_read_the_gate(world):
    _, token = create(world, can_read_gate=False, can_push=True)
    client = client_with(token)
    assert client.get("/api/v1/gate/mine/").status_code == 403
    assert client.post("/api/v1/models/mine/monitoring/points/", POINTS, format="json").status_code == 201


@pytest.mark.django_db
def test_rotating_replaces_the_token_at_once_and_revoking_stops_it(world):
    account, first = create(world)
    second = service_accounts.service_account_rotate(world.compliance, account)
    assert client_with(first).get("/api/v1/gate/mine/").status_code == 401
    assert client_with(second).get("/api/v1/gate/mine/").status_code == 200
    service_accounts.service_account_revoke(world.compliance, account, reason="System decommissioned.")
    assert client_with(second).get("/api/v1/gate/mine/").status_code == 401
    actions = list(AuditEvent.objects.filter(object_type=ServiceAccount.AUDIT_TYPE).values_list("action", flat=True))
    assert actions == ["service_account.create", "service_account.rotate", "service_account.revoke"]
    assert not any(first in str(e.changes) or second in str(e.changes) for e in AuditEvent.objects.all())


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["owner", "developer", "validator", "auditor", "trader"])
def test_only_compliance_manages_service_accounts(world, persona, browser_client):
    with pytest.raises(PermissionDenied):
        service_accounts.service_account_create(getattr(world, persona), name="X", models=[world.mine])
    assert browser_client.as_user(getattr(world, persona)).get("/service-accounts/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [({"models": []}, "models"), ({"can_read_gate": False}, "can_read_gate"), ({"name": " "}, "name")],
)
def test_a_bad_account_is_refused_naming_the_field(world, fields, field):
    with pytest.raises(ValidationError) as refused:
        create(world, **fields)
    assert field in refused.value.message_dict
    assert not ServiceAccount.objects.exists()


@pytest.mark.django_db
def test_compliance_creates_one_on_the_page_and_sees_its_token_once(world, browser_client):
    client = browser_client.as_user(world.compliance)
    page = client.post("/service-accounts/", {"name": "EQ OMS", "models": "mine", "can_read_gate": "on"})
    html = page.content.decode()
    shown = re.search(r'data-testid="token-value">(vgl[0-9a-f]{64})<', html)
    assert 'data-testid="new-token"' in html and shown is not None
    token = shown[1]  # the one secret Vigil never stores: its digest is the account's token
    assert ApiToken.objects.get(user=ServiceAccount.objects.get().user).digest == api_tokens.digest(token)
    assert token not in client.get("/service-accounts/").content.decode()
    refused = client.post("/service-accounts/", {"name": "Other", "models": "no-such-model", "can_read_gate": "on"})
    assert "No model has the key: no-such-model" in refused.content.decode()
    assert ServiceAccount.objects.count() == 1


@pytest.mark.django_db
def test_the_refusal_says_what_the_account_may_do(world):
    _, token = create(world)
    response = client_with(token).get("/api/v1/models/")
    assert (
        response.status_code == 403
        and response.json()["detail"] == "This service account may read the gate, nothing else."
    )
