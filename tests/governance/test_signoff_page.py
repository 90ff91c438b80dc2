"""A signing action has a page of its own, as wide as the screen: the sign-off form beside what it signs (the
version, the run it rests on with its headline figures, the open findings, the evidence). Bad input answers 400
with the page as it was typed; the version page's side column only links to it."""

import re

import pytest

from governance.lifecycle import workflow
from models_registry.models import ModelVersion
from risk.validation.plans import label_for_test
from tests.factories import PASSWORD
from tests.governance.lifecycle_helpers import attach, graded_in_validation, new_draft

pytestmark = pytest.mark.slow(reason="each test walks a version into validation; the graded ones run a validation")

RATIONALE = "Reviewed the data lineage, the code, the backtest windows and the claimed figures line by line."


def _in_validation_with_a_report(world):
    version = workflow.version_transition(world.developer, new_draft(world), "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    return version, attach(world.validator, version, "validation_report")


@pytest.mark.django_db
def test_the_page_shows_what_is_signed_beside_the_form(world, browser_client):
    version, run, report = graded_in_validation(world)
    client = browser_client.as_user(world.validator)
    url = f"/models/mine/versions/{version.version}/"
    panel = client.get(url).content.decode()
    assert f'href="{url}actions/validate/"' in panel  # the side column links to the page...
    assert "id_validate_no_findings_justification" not in panel  # ...and no longer holds the form

    response = client.get(f"{url}actions/validate/")
    assert response.status_code == 200
    html = response.content.decode()
    subject = response.context["subject"]
    assert subject["run"]["run"] == run and report in subject["evidence"]
    assert f"Run #{run.pk}</a>" in html and 'data-testid="headline-figures"' in html
    headline = [m["label"] for m in run.metrics if m.get("headline")]
    assert headline and all(label in html for label in headline)
    failed = [r["test"] for r in run.results if r["outcome"] == "fail"]
    assert f"{label_for_test(failed[0])}:" in html[html.index('data-testid="cited-run"') :]
    assert 'data-testid="open-findings"' in html and report.original_name in html
    # Labels above their fields; the run chooser, the dispositions, the three elements and the signature.
    for field in ("run", "disposition_0", "conceptual_soundness_na", "no_findings_justification", "password"):
        assert f'<label for="id_validate_{field}">' in html, field


@pytest.mark.django_db
def test_bad_input_answers_400_with_the_rationale_kept(world, browser_client):
    version, report = _in_validation_with_a_report(world)
    url = f"/models/mine/versions/{version.version}/actions/validate/"
    typed = {
        "action": "validate",
        "tier_confirmed": "2",
        "no_findings_justification": RATIONALE,
        "outcomes_analysis_evidence": [str(report.pk)],
        "password": "not-the-password",
    }
    response = browser_client.as_user(world.validator).post(url, typed)
    assert response.status_code == 400
    html = response.content.decode()
    assert RATIONALE in html  # never lose the rationale
    assert "not-the-password" not in html  # never send the password back
    assert re.search(rf'name="outcomes_analysis_evidence" value="{report.pk}"[^>]*checked', html)
    assert "nothing was signed" in html and 'data-testid="refusal"' in html
    assert ModelVersion.objects.get(pk=version.pk).status == "in_validation"


@pytest.mark.django_db
def test_signing_through_the_page_validates_the_version(world, browser_client):
    version, report = _in_validation_with_a_report(world)
    url = f"/models/mine/versions/{version.version}/"
    typed = {
        "action": "validate",
        "tier_confirmed": str(world.mine.risk_tier),
        "no_findings_justification": RATIONALE,
        "conceptual_soundness_evidence": [str(report.pk)],
        "ongoing_monitoring_na": "Monitoring plan reviewed with the desk; thresholds agreed.",
        "outcomes_analysis_evidence": [str(report.pk)],
        "comment": "Sound.",
        "password": PASSWORD,
    }
    response = browser_client.as_user(world.validator).post(f"{url}actions/validate/", typed)
    assert response.status_code == 302 and response["Location"] == url
    assert ModelVersion.objects.get(pk=version.pk).status == "validated"


@pytest.mark.django_db
def test_only_the_signer_reaches_the_page_of_an_action_that_has_one(world, browser_client):
    version, _report = _in_validation_with_a_report(world)
    url = f"/models/mine/versions/{version.version}/actions/"
    assert browser_client.as_user(world.developer).get(f"{url}validate/").status_code == 404  # not theirs
    validator = browser_client.as_user(world.validator)
    assert validator.get(f"{url}approve_deployment/").status_code == 404  # not from this status
    assert validator.get(f"{url}submit/").status_code == 404  # a comment-only action stays in the panel
    assert validator.get(f"{url}no_such_action/").status_code == 404
    assert validator.get(f"{url}reject/").status_code == 200
