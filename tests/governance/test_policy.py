import re

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
    assert 'data-testid="incident-response"' in page
    assert re.search(r'<input type="checkbox" name="suspend_1_high"[^>]* checked>', page)
    data = {"months_1": 12, "months_2": 24, "months_3": 36, "approvals_1": 2, "approvals_2": 1, "approvals_3": 1}
    data |= {"suspend_1_critical": "1", "suspend_2_critical": "1", "revalidation_3_low": "1"}
    assert client.post("/policy/", data).status_code == 302
    policy = policy_in_force()
    assert policy.incident_response["suspend"] == {"1": ["critical"], "2": ["critical"], "3": []}
    assert policy.incident_response["revalidation"] == {"1": [], "2": [], "3": ["low"]}
    assert policy.incident_suspends(1, "critical") and not policy.incident_suspends(1, "high")
    assert policy.incident_requires_revalidation(3, "low")


GOOD = {"months_1": 12, "months_2": 24, "months_3": 36, "approvals_1": 2, "approvals_2": 1, "approvals_3": 1}


def _field(page: str, name: str) -> tuple[str, str]:
    """The input named `name` and the text of the error list its aria-describedby points at ("" without one)."""
    tag = re.search(rf'<(?:input|textarea)[^>]*name="{name}"[^>]*>', page).group(0)
    described = re.search(r'aria-describedby="([^"]*)"', tag)
    if not described:
        return tag, ""
    [error_id] = [i for i in described.group(1).split() if i.endswith("_error")]
    errors = re.search(rf'<ul class="errorlist" id="{error_id}">(.*?)</ul>', page, re.S)
    return tag, re.sub(r"<[^>]+>", " ", errors.group(1))


@pytest.mark.django_db
def test_a_non_number_is_an_error_beside_its_field_the_page_keeps_what_was_typed_and_nothing_is_published(
    world, browser_client
):
    client = browser_client.as_user(world.compliance)
    typed = GOOD | {"ongoing_2": "quarterly", "months_1": "9", "profile": "SR 11-7 legacy", "notes": "Typed notes."}
    response = client.post("/policy/", typed)
    assert response.status_code == 400 and GovernancePolicy.objects.count() == 1
    page = response.content.decode()
    tag, error = _field(page, "ongoing_2")
    assert 'aria-invalid="true"' in tag and 'value="quarterly"' in tag and "Enter a whole number." in error
    assert re.search(r'<ul class="errorlist" id="ongoing_2_error">', page)
    for untouched in ("ongoing_1", "ongoing_3", "months_1"):
        tag, error = _field(page, untouched)
        assert "aria-invalid" not in tag and error == "", untouched
    assert 'value="9"' in _field(page, "months_1")[0] and 'value="SR 11-7 legacy"' in _field(page, "profile")[0]
    assert "Typed notes.</textarea>" in page and 'data-testid="policy-refused"' in page
    assert "Give whole numbers" not in page  # no page-level message in place of the field's


@pytest.mark.django_db
@pytest.mark.parametrize(
    "typed, field, message",
    [
        ({"months_3": 121}, "months_3", "Tier 3: a whole number between 1 and 120."),
        ({"approvals_2": 0}, "approvals_2", "Tier 2: a whole number between 1 and 120."),
        ({"ongoing_2": 121}, "ongoing_2", "Tier 2: a whole number of months from 0 (none) to 120."),
        (
            {"kri_tier1-overdue_amber": 5, "kri_tier1-overdue_red": 2},
            "kri_tier1-overdue_amber",
            "amber must not be above red",
        ),
        ({"kri_tier1-overdue_red": 0}, "kri_tier1-overdue_red", "give amber and red as whole numbers from 1"),
        ({"profile": "P" * 41}, "profile", "at most 40 characters"),
    ],
)
def test_a_rule_of_the_policy_service_is_an_error_beside_the_field_it_is_about(
    typed, field, message, world, browser_client
):
    response = browser_client.as_user(world.compliance).post("/policy/", GOOD | typed)
    assert response.status_code == 400 and GovernancePolicy.objects.count() == 1
    tag, error = _field(response.content.decode(), field)
    assert 'aria-invalid="true"' in tag and message in error
    assert response.content.decode().count('aria-invalid="true"') == 1  # that field only


@pytest.mark.django_db
def test_the_service_names_the_tier_and_the_indicator_its_rules_are_about(world):
    with pytest.raises(ValidationError) as refused:
        policy_publish(world.compliance, ongoing_validation_months={"1": 1, "2": 200, "3": -1})
    errors = refused.value.error_dict["ongoing_validation_months"]
    assert [e.params["tier"] for e in errors] == ["2", "3"]
    assert refused.value.message_dict["ongoing_validation_months"][0].startswith("Tier 2: ")


@pytest.mark.django_db
def test_version_1_is_in_force_from_before_anything_is_recorded(world, browser_client):
    # Vigil's defaults apply from the start: a decision taken with the clock set back (the demo's year) cites a
    # version published before it, as migrate writes version 1.
    import datetime as dt

    import time_machine

    from governance.core import moments

    first = GovernancePolicy.objects.get(version=1)
    assert first.published_at == moments.EARLIEST and first.published_by is None
    page = browser_client.as_user(world.compliance).get("/policy/").content.decode()
    assert "Vigil's defaults, in force from the start" in page and "1970-01-01" not in page
    with time_machine.travel(dt.datetime(2001, 1, 1, tzinfo=dt.UTC)):
        later = policy_publish(world.compliance, due_soon_days=21)
    assert later.published_at > first.published_at
    page = browser_client.as_user(world.compliance).get("/policy/").content.decode()
    assert "1970-01-01" not in page and "<td>from the start</td>" in page


@pytest.mark.django_db
def test_compliance_sets_who_acknowledges_a_card_by_tier_on_the_policy_page(world, browser_client):
    """Issue 24: the policy page says, and sets, whose acknowledgement of a model's card the gate waits for."""
    from risk.gate import decisions

    client = browser_client.as_user(world.compliance)
    page = client.get("/policy/").content.decode()
    assert "Tier 1: nobody is asked" in page and 'name="ack_traders_1"' in page
    assert (
        client.post("/policy/", GOOD | {"ack_traders_1": "1", "ack_desk_head_1": "1", "ack_traders_2": "1"}).status_code
        == 302
    )
    policy = policy_in_force()
    assert policy.acknowledgement_required == {"1": ["traders", "desk_head"], "2": ["traders"], "3": []}
    page = client.get("/policy/").content.decode()
    assert "Tier 1: by each trader of the desk and by the desk&#x27;s head; the gate answers blocked" in page
    assert re.search(r'<input type="checkbox" name="ack_traders_2"[^>]* checked>', page)
    codes = [r["code"] for r in decisions.compute(world.mine).body["reasons"]]
    assert ("not_acknowledged" in codes) == (world.mine.risk_tier in (1, 2))  # the trader has not acknowledged
