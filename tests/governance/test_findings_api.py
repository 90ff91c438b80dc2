import datetime as dt

import pytest

from governance.core.models import AuditEvent, Notification
from risk.validation.models import Finding
from tests.factories import PASSWORD
from tests.governance.lifecycle_helpers import new_draft
from tests.outbox import deliver

TODAY = dt.date.today()


def raise_finding(api, world, **overrides):
    body = {
        "model": "mine",
        "version": "1.0",
        "severity": "high",
        "title": "Look-ahead bias",
        "description": "Uses the close to trade the close.",
        "owner": "developer",
        "due_date": (TODAY + dt.timedelta(days=14)).isoformat(),
        **overrides,
    }
    return api.as_user(world.validator).post("/api/v1/findings/", body, format="json")


@pytest.mark.django_db
def test_it_lets_the_validator_raise_and_notifies_the_owner(world, api):
    response = raise_finding(api, world)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "open" and response.json()["owner"] == "developer"
    deliver()
    assert Notification.objects.filter(user=world.developer, kind="assignment").exists()
    assert AuditEvent.objects.filter(action="finding.raise").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona,expected",
    [("developer", 403), ("compliance", 403), ("auditor", 403), ("validator2", 404), ("trader", 403)],
)
def test_it_refuses_findings_from_anyone_but_the_validator(persona, expected, world, api):
    body = {
        "model": "mine",
        "version": "1.0",
        "severity": "low",
        "title": "t",
        "description": "d",
        "owner": "developer",
        "due_date": TODAY.isoformat(),
    }
    response = api.as_user(getattr(world, persona)).post("/api/v1/findings/", body, format="json")
    assert response.status_code == expected
    assert not Finding.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change,field",
    [
        ({"severity": "catastrophic"}, "severity"),
        ({"due_date": "2000-01-01"}, "due_date"),
        ({"owner": "trader"}, "owner"),
        ({"owner": "nobody"}, "owner"),
        ({"title": ""}, "title"),
    ],
)
def test_it_rejects_bad_findings_by_field(change, field, world, api):
    response = raise_finding(api, world, **change)
    assert response.status_code == 400 and field in response.json(), response.content
    assert not Finding.objects.exists()


@pytest.mark.django_db
def test_it_tracks_a_finding_to_closure_by_the_validator_not_the_fixer(world, api):
    finding_id = raise_finding(api, world).json()["id"]
    url = f"/api/v1/findings/{finding_id}/actions/"
    assert (
        api.as_user(world.validator)
        .post(url, {"action": "start_remediation", "comment": "x"}, format="json")
        .status_code
        == 403
    )
    response = api.as_user(world.developer).post(
        url, {"action": "start_remediation", "comment": "Shifted features"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "in_remediation"
    assert (
        api.as_user(world.developer).post(url, {"action": "close", "comment": "done"}, format="json").status_code == 403
    )
    response = api.as_user(world.validator).post(
        url, {"action": "close", "comment": "Re-ran the backtest."}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "closed"
    again = api.as_user(world.validator).post(url, {"action": "close", "comment": "again"}, format="json")
    assert again.status_code == 409


@pytest.mark.django_db
def test_it_accepts_risk_only_with_compliance_signature(world, api):
    finding_id = raise_finding(api, world).json()["id"]
    url = f"/api/v1/findings/{finding_id}/actions/"
    body = {"action": "accept_risk", "comment": "Immaterial at current size; review in Q3.", "password": "wrong"}
    assert api.as_user(world.compliance).post(url, body, format="json").status_code == 400
    assert Finding.objects.get(pk=finding_id).status == "open"
    response = api.as_user(world.compliance).post(url, {**body, "password": PASSWORD}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "risk_accepted"
    finding = Finding.objects.get(pk=finding_id)
    assert finding.risk_acceptance.meaning == "risk_accepted" and finding.risk_acceptance.signer == world.compliance


@pytest.mark.django_db
def test_it_flags_overdue_findings_and_scopes_the_list(world, api):
    raise_finding(api, world)
    Finding.objects.update(due_date=TODAY - dt.timedelta(days=1))
    body = api.as_user(world.developer).get("/api/v1/findings/").json()
    assert body["count"] == 1 and body["results"][0]["is_overdue"] is True
    assert api.as_user(world.developer2).get("/api/v1/findings/").json()["count"] == 0
    assert api.as_user(world.trader).get("/api/v1/findings/").json()["count"] == 0
    assert api.as_user(world.auditor).get("/api/v1/findings/?status=open").json()["count"] == 1


@pytest.mark.django_db
def test_it_works_findings_from_the_pages(world, browser_client):
    version = new_draft(world)
    client = browser_client.as_user(world.validator)
    response = client.post(
        f"/models/mine/versions/{version.version}/findings/",
        {
            "severity": "medium",
            "title": "Stale data",
            "description": "Feed lags.",
            "owner": world.developer.pk,
            "due_date": (TODAY + dt.timedelta(days=7)).isoformat(),
        },
    )
    assert response.status_code == 302
    finding = Finding.objects.get(title="Stale data")
    page = browser_client.as_user(world.developer).get(f"/findings/{finding.pk}/")
    assert page.status_code == 200 and b"Stale data" in page.content
    browser_client.as_user(world.developer).post(
        f"/findings/{finding.pk}/", {"action": "start_remediation", "comment": "Switched feed."}
    )
    assert Finding.objects.get(pk=finding.pk).status == "in_remediation"
    assert browser_client.as_user(world.developer2).get(f"/findings/{finding.pk}/").status_code == 404
