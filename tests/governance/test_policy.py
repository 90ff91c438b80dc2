import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.core.models import GovernancePolicy
from governance.core.policy import policy_in_force, policy_publish


@pytest.mark.django_db
def test_it_publishes_new_versions_and_never_edits_old_ones(world):
    first = policy_in_force()
    assert first.version == 1 and first.months_for(1) == 12
    second = policy_publish(
        world.compliance,
        revalidation_months={"1": 6, "2": 12, "3": 24},
        approvals_required={"1": 2, "2": 2, "3": 1},
        profile="SR 11-7 legacy",
    )
    assert policy_in_force() == second and second.version == 2 and second.months_for(1) == 6
    first.refresh_from_db()
    assert first.months_for(1) == 12


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"revalidation_months": {"1": 0, "2": 1, "3": 1}},
        {"revalidation_months": {"1": 12}},
        {"approvals_required": {"1": "two", "2": 1, "3": 1}},
        {"required_evidence": {"validate": "validation_report"}},
        {"incident_response": {"suspend": {"1": ["catastrophic"], "2": [], "3": []}, "revalidation": {}}},
        {
            "incident_response": {
                "suspend": {"1": "critical", "2": [], "3": []},
                "revalidation": {"1": [], "2": [], "3": []},
            }
        },
    ],
)
def test_it_rejects_malformed_policies(fields, world):
    with pytest.raises(ValidationError):
        policy_publish(world.compliance, **fields)
    assert GovernancePolicy.objects.count() == 1


@pytest.mark.django_db
def test_it_lets_only_compliance_publish(world, browser_client):
    with pytest.raises(PermissionDenied):
        policy_publish(world.admin, revalidation_months={"1": 6, "2": 12, "3": 24})
    assert browser_client.as_user(world.developer).post("/policy/", {"months_1": 1}).status_code == 403
    data = {"months_1": 9, "months_2": 18, "months_3": 30, "approvals_1": 2, "approvals_2": 1, "approvals_3": 1}
    response = browser_client.as_user(world.compliance).post("/policy/", data)
    assert response.status_code == 302 and policy_in_force().months_for(1) == 9


@pytest.mark.django_db
def test_compliance_sets_the_incident_response_by_tier_on_the_policy_page(world, browser_client):
    client = browser_client.as_user(world.compliance)
    page = client.get("/policy/").content.decode()
    assert 'data-testid="incident-response"' in page and 'name="suspend_1_high" value="1" checked' in page
    data = {"months_1": 12, "months_2": 24, "months_3": 36, "approvals_1": 2, "approvals_2": 1, "approvals_3": 1}
    data |= {"suspend_1_critical": "1", "suspend_2_critical": "1", "revalidation_3_low": "1"}
    assert client.post("/policy/", data).status_code == 302
    policy = policy_in_force()
    assert policy.incident_response["suspend"] == {"1": ["critical"], "2": ["critical"], "3": []}
    assert policy.incident_response["revalidation"] == {"1": [], "2": [], "3": ["low"]}
    assert policy.incident_suspends(1, "critical") and not policy.incident_suspends(1, "high")
    assert policy.incident_requires_revalidation(3, "low")
