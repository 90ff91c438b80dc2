"""The finding page offers each person only what they may do to it, and a refused action comes back with the
reason beside the form and the comment as typed, never a bare 403 (issue 21)."""

import re

import pytest

from risk.validation.models import Finding

COMMENT = "Re-ran the calibration on the 2026 holdout; the tails now agree within 2 points."


@pytest.fixture
def finding(world):
    return Finding.objects.create(
        version=world.mine_v1,
        severity="medium",
        title="Calibration drifts in the tails",
        description="Scores above 0.9 are over-confident.",
        owner=world.developer,
        due_date="2027-01-31",
        raised_by=world.validator,
    )


def _offered(html: str) -> set[str]:
    form = re.search(r'<form method="post" class="card" data-testid="finding-action">.*?</form>', html, re.S)
    return set(re.findall(r'<option value="(\w+)"', form.group(0))) if form else set()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "person, offered",
    [
        ("developer", {"start_remediation"}),  # owns the remediation: neither closes nor accepts it
        ("validator", {"close"}),
        ("compliance", {"accept_risk"}),
        ("owner", set()),
        ("auditor", set()),
    ],
)
def test_each_person_is_offered_only_what_they_may_do(world, browser_client, finding, person, offered):
    page = browser_client.as_user(getattr(world, person)).get(f"/findings/{finding.pk}/")
    assert page.status_code == 200
    assert _offered(page.content.decode()) == offered


@pytest.mark.django_db
def test_an_action_not_offered_is_refused_beside_the_form_and_the_comment_is_kept(world, browser_client, finding):
    page = browser_client.as_user(world.developer).post(
        f"/findings/{finding.pk}/", {"action": "close", "comment": COMMENT}
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert COMMENT in html and "Select a valid choice" in html
    finding.refresh_from_db()
    assert finding.status == "open"


@pytest.mark.django_db
def test_a_refused_risk_acceptance_keeps_the_justification_and_says_why(world, browser_client, finding):
    page = browser_client.as_user(world.compliance).post(
        f"/findings/{finding.pk}/", {"action": "accept_risk", "comment": COMMENT, "password": "wrong"}
    )
    assert page.status_code in (400, 403)
    html = page.content.decode()
    assert COMMENT in html and 'data-testid="finding-action"' in html
    assert re.search(r'class="errorlist[^"]*"', html)
    finding.refresh_from_db()
    assert finding.status == "open"
