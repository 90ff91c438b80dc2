"""A refused lifecycle action comes back as it was typed, with each error beside the field it concerns in plain
words, and only what concerns no single field listed above the form."""

import datetime as dt
import re

import pytest

from governance.lifecycle import workflow
from models_registry.models import ModelVersion
from tests.factories import PASSWORD
from tests.governance.lifecycle_helpers import attach, graded_in_validation, new_draft, to_validated


def _errors_beside(html: str, field_id: str) -> str:
    """The error list that follows the control with this id (empty when there is none)."""
    match = re.search(rf'id="{field_id}"[^>]*>(?:\s*</textarea>)?\s*(<ul class="errorlist"[^>]*>.*?</ul>)?', html, re.S)
    assert match, f"no control {field_id}"
    return re.sub(r"<[^>]+>", " ", match.group(1) or "")


def _problems(html: str) -> str:
    match = re.search(r'data-testid="action-problems">(.*?)</ul>', html, re.S)
    return re.sub(r"<[^>]+>", " ", match.group(1)) if match else ""


def _in_validation_with_a_report(world):
    version = new_draft(world)
    version = workflow.version_transition(world.developer, version, "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    attach(world.validator, version, "validation_report")
    return version


@pytest.mark.django_db
def test_a_refused_signoff_shows_each_error_beside_its_field(world, browser_client):
    version = _in_validation_with_a_report(world)
    client = browser_client.as_user(world.validator)
    url = f"/models/mine/versions/{version.version}/"
    typed = {"action": "validate_with_conditions", "tier_confirmed": "2", "password": PASSWORD}
    typed["conceptual_soundness_na"] = "Reviewed the economic rationale and the documented features."
    response = client.post(f"{url}actions/validate_with_conditions/", typed)
    assert response.status_code == 400
    html = response.content.decode()
    prefix = "id_validate_with_conditions_"
    assert "State the conditions of use." in _errors_beside(html, f"{prefix}conditions")
    assert "at least 20 characters" in _errors_beside(html, f"{prefix}no_findings_justification")
    assert "justify" in _errors_beside(html, f"{prefix}outcomes_analysis_na").lower()
    assert _errors_beside(html, f"{prefix}conceptual_soundness_na") == ""
    # What was typed is kept; the errors are not repeated as "signoff: ..." above the form.
    assert "Reviewed the economic rationale and the documented features." in html
    assert "signoff" not in _problems(html).lower()
    assert ModelVersion.objects.get(pk=version.pk).status == "in_validation"


def _approved(world):
    version = to_validated(world, new_draft(world))
    return workflow.version_transition(world.compliance, version, "approve_deployment", password=PASSWORD)


@pytest.mark.django_db
def test_pilot_limits_that_do_not_hold_show_beside_their_fields(world, browser_client):
    version = _approved(world)
    url = f"/models/mine/versions/{version.version}/"
    owner = browser_client.as_user(world.owner)
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    response = owner.post(f"{url}transition/", {"action": "start_pilot", "max_notional": "0", "end_date": tomorrow})
    assert response.status_code == 400  # the old endpoint answers with the action's own page, as typed
    html = response.content.decode()
    assert "positive maximum notional" in _errors_beside(html, "id_start_pilot_max_notional")
    assert "instruments or venues" in _errors_beside(html, "id_start_pilot_instruments")
    assert _problems(html) == ""
    assert ModelVersion.objects.get(pk=version.pk).status == "approved"


@pytest.mark.django_db
def test_a_wrong_signing_password_shows_beside_the_password(world, browser_client):
    version = _approved(world)
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    pilot = {"max_notional": "1000000", "instruments": ["ESZ6"], "venues": [], "end_date": tomorrow}
    version = workflow.version_transition(world.owner, version, "start_pilot", pilot=pilot)
    attach(world.owner, version, "pilot_results", "pilot.md")
    url = f"/models/mine/versions/{version.version}/"
    client = browser_client.as_user(world.compliance)
    response = client.post(
        f"{url}actions/promote/", {"action": "promote", "comment": "Pilot clean.", "password": "wrong"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "nothing was signed" in _errors_beside(html, "id_promote_password")
    assert "Pilot clean." in html and _problems(html) == ""
    assert ModelVersion.objects.get(pk=version.pk).status == "pilot"


@pytest.mark.django_db
def test_every_problem_of_a_signoff_shows_in_one_round_with_the_wrong_password(world, browser_client):
    """An empty sign-off with a wrong password: the password's error and every content error at once, and a
    message at the top that nothing was signed; the refused signature is audited."""
    from governance.core.models import AuditEvent

    version = _in_validation_with_a_report(world)
    client = browser_client.as_user(world.validator)
    url = f"/models/mine/versions/{version.version}/"
    before = AuditEvent.objects.count()
    response = client.post(
        f"{url}actions/validate/", {"action": "validate", "tier_confirmed": "2", "password": "wrong"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "nothing was signed" in _errors_beside(html, "id_validate_password")
    assert "at least 20 characters" in _errors_beside(html, "id_validate_no_findings_justification")
    assert "justify" in _errors_beside(html, "id_validate_outcomes_analysis_na").lower()
    assert "Sign: validated: not done" in html
    assert "Signing means: validated." in html and "Signing means: Sign:" not in html
    assert AuditEvent.objects.count() == before + 1  # the refused signature attempt, nothing else
    assert ModelVersion.objects.get(pk=version.pk).status == "in_validation"


@pytest.mark.django_db
def test_an_empty_signoff_over_a_run_shows_the_runs_problems_in_the_same_round(world, browser_client):
    """Missing content, a failed test without a word and a warning not acknowledged: all in one round, each
    beside its own field, nothing left for a second round."""
    version, run, _report = graded_in_validation(world)
    client = browser_client.as_user(world.validator)
    url = f"/models/mine/versions/{version.version}/"
    typed = {"action": "validate", "tier_confirmed": "2", "password": PASSWORD, "run": str(run.pk)}
    response = client.post(f"{url}actions/validate/", typed)
    assert response.status_code == 400
    html = response.content.decode()
    assert "at least 20 characters" in _errors_beside(html, "id_validate_no_findings_justification")
    failed = [r for r in run.results if r["outcome"] == "fail"]
    warned = [r for r in run.results if r["outcome"] == "warn"]
    assert failed and warned
    assert "failed in validation run" in _errors_beside(html, "id_validate_disposition_0")
    assert "Acknowledge the warning" in html[html.index('id="id_validate_acknowledge_0"') :][:2000]
    assert _problems(html) == ""
