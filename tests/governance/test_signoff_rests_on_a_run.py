"""A validation sign-off rests on a validation run: it cites the run (the latest succeeded one unless the
validator names another), the signature pins the run and the hash of its results, and "validated" is refused
while a failed test has neither a finding raised from it nor a written disposition, or a warning is not
acknowledged one by one."""

import datetime as dt

import numpy as np
import pytest

from governance.core.exceptions import Conflict
from governance.core.models import Signature
from governance.core.signatures import verify
from governance.lifecycle import workflow
from risk.validation import findings
from risk.validation.models import ValidationRun
from risk.validation.plans import label_for_test
from tests.factories import PASSWORD
from tests.governance.lifecycle_helpers import graded_in_validation, signoff_for

RNG = np.random.default_rng(11)


@pytest.fixture
def graded(world):
    """mine 5.0 (a classifier) in validation, with a succeeded run of a no-skill model: tests fail and warn."""
    version, run, report = graded_in_validation(world)
    failed = [r["test"] for r in run.results if r["outcome"] == "fail"]
    warned = [r["test"] for r in run.results if r["outcome"] == "warn"]
    assert failed, run.results
    return version, run, failed, warned, signoff_for(version, report)


def sign(world, version, signoff):
    return workflow.version_transition(world.validator, version, "validate", password=PASSWORD, signoff=signoff)


@pytest.mark.django_db
def test_it_refuses_validated_over_a_failed_test_nobody_addressed(world, graded):
    version, run, failed, warned, signoff = graded
    with pytest.raises(Conflict) as refused:
        sign(world, version, signoff)
    reasons = " ".join(refused.value.reasons)
    for test in failed:  # named in words: "Hit rate", "Re-performance of the claimed Sharpe ratio"
        assert f"{label_for_test(test)} failed in validation run #{run.pk}" in reasons
    for test in warned:
        assert f"Acknowledge the warning on {label_for_test(test)}" in reasons
    assert "re-perform" not in reasons and "_" not in reasons
    assert not Signature.objects.filter(object_id=str(version.pk), meaning="validated").exists()


@pytest.mark.django_db
def test_a_finding_raised_from_the_test_or_a_written_disposition_addresses_it(world, graded):
    version, run, failed, warned, signoff = graded
    first, *others = failed
    findings.finding_raise(
        world.validator,
        version,
        severity="medium",
        title=f"{first} below threshold",
        description="No skill.",
        owner=world.developer,
        due_date=dt.date.today() + dt.timedelta(days=30),
        run=run,
        test=first,
    )
    short = {**signoff, "dispositions": {t: "ok" for t in others}, "acknowledged_warnings": warned}
    if others:
        with pytest.raises(Conflict):  # a disposition must say something (20 characters at least)
            sign(world, version, short)
    written = {t: "Immaterial for the desk's use: the score only ranks, it does not size." for t in others}
    moved = sign(world, version, {**signoff, "dispositions": written, "acknowledged_warnings": warned})
    assert moved.status == "validated"
    signature = Signature.objects.get(object_id=str(version.pk), meaning="validated")
    assert signature.payload["validation_run"]["id"] == run.pk
    assert signature.payload["signoff"]["run"] == run.pk
    assert signature.payload["signoff"]["dispositions"] == written
    assert verify(signature)[0]
    # The signature pins the run's results: editing them afterwards breaks it.
    ValidationRun.objects.filter(pk=run.pk).update(results=[{**run.results[0], "outcome": "pass"}])
    assert verify(signature) == (False, "the signed record or its evidence changed after signing")


@pytest.mark.django_db
def test_it_cites_only_succeeded_runs_of_the_version(world, graded):
    version, run, failed, warned, signoff = graded
    with pytest.raises(Exception) as refused:
        sign(world, version, {**signoff, "run": run.pk + 1000})
    assert "signoff.run" in refused.value.message_dict


@pytest.mark.django_db
def test_the_sign_off_form_asks_for_each_failed_test_and_warning(world, browser_client, graded):
    version, run, failed, warned, _ = graded
    page = browser_client.as_user(world.validator).get(f"/models/mine/versions/{version.version}/actions/validate/")
    form = page.context["signoff_form"]
    labels = " ".join(str(f.label) for f in form)
    assert all(f"{label_for_test(t)} failed" in labels for t in failed)
    assert all(f"warning on {label_for_test(t)}" in labels for t in warned)
    assert form.fields["run"].initial == run.pk


@pytest.fixture
def validated_with_conditions(world, graded):
    version, run, failed, warned, signoff = graded
    dispositions = {t: "Immaterial for the desk's use: the score only ranks, it does not size." for t in failed}
    version = workflow.version_transition(
        world.validator,
        version,
        "validate_with_conditions",
        password=PASSWORD,
        signoff={**signoff, "dispositions": dispositions, "acknowledged_warnings": warned, "conditions": "Rank only."},
    )
    return version, run, failed, dispositions


@pytest.mark.django_db
def test_the_approval_screen_shows_what_is_approved_and_the_signature_pins_it(
    world, browser_client, validated_with_conditions
):
    version, run, failed, dispositions = validated_with_conditions
    page = browser_client.as_user(world.compliance).get(f"/models/mine/versions/{version.version}/")
    lifecycle = next(p for p in page.context["panels"] if p.name == "lifecycle").context
    summary = lifecycle["approval_summary"]
    assert summary["run"]["id"] == run.pk and summary["run"]["outcomes"]["fail"] == len(failed)
    assert [f["disposition"] for f in summary["run"]["failed"]] == [dispositions[t] for t in failed]
    assert summary["conditions"] == "Rank only." and summary["tier"] == world.mine.risk_tier
    assert summary["policy_version"] == 1 and set(summary["open_findings"]) == {"high", "medium", "low"}
    html = page.content.decode()
    assert 'data-testid="approval-summary"' in html and "Rank only." in html and f"#{run.pk}:" in html
    moved = workflow.version_transition(world.compliance, version, "approve_deployment", password=PASSWORD)
    approval = Signature.objects.get(object_id=str(version.pk), meaning="approved")
    assert approval.payload["approval_summary"] == summary and verify(approval)[0]
    assert moved.status in ("approved", "validated_with_conditions")


@pytest.mark.django_db
def test_everyone_who_sees_the_version_reads_its_conditions_of_use(world, browser_client, validated_with_conditions):
    version, *_ = validated_with_conditions
    for persona in ("developer", "validator", "compliance", "auditor"):
        page = browser_client.as_user(getattr(world, persona)).get(f"/models/mine/versions/{version.version}/")
        assert "Conditions of use set at validation:</strong> Rank only." in page.content.decode(), persona
    # Approvers are not shown the approval screen unless approving is theirs to do.
    page = browser_client.as_user(world.developer).get(f"/models/mine/versions/{version.version}/")
    assert 'data-testid="approval-summary"' not in page.content.decode()


@pytest.mark.django_db
def test_a_trader_reads_the_pilot_limits_in_plain_words(world, browser_client):
    html = " ".join(browser_client.as_user(world.trader).get("/models/mine/versions/1.0/").content.decode().split())
    assert "How this version may be used" in html
    assert "a notional of at most USD 5,000,000; only ESZ6, NQZ6; on XCME; until" in html
