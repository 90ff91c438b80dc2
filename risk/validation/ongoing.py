"""Ongoing validation (SR 11-7's outcomes analysis): the signed plan of a live version re-run on production data.

Here, the validation side: which run a version's validation signature cites, starting an ongoing run with that
run's plan, inputs and ONNX model, and comparing its outcomes with the signed run's (a test that passed then and
fails now becomes a finding linked to both runs). When runs fall due, what production data they read and what the
policy does about a regression is risk/monitoring/ongoing_validation.py's (it reads monitoring's rows).

An ongoing run is evidence like any other, but never a validator's: no sign-off can cite it (cite_run and
succeeded_runs take validator's runs only) and it never replaces the signature it is compared with.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from governance.core import jobs
from governance.core.audit import audit_record, audit_type, diff, snapshot
from governance.core.models import Signature
from governance.core.notifications import notify
from risk.validation.models import Evidence, Finding, ValidationRun

JOB_KIND = "ongoing_validation_run"
MAX_ATTEMPTS = 3
SIGNED_MEANINGS = (Signature.Meaning.VALIDATED, Signature.Meaning.VALIDATED_WITH_CONDITIONS)
# A regression is a finding of the tier's weight, to remediate within this many days.
SEVERITY_BY_TIER = {1: Finding.Severity.HIGH, 2: Finding.Severity.MEDIUM, 3: Finding.Severity.LOW}
REMEDIATION_DAYS = 30


def validation_signature(version) -> Signature | None:
    return (
        Signature.objects.filter(
            object_type=audit_type(version), object_id=str(version.pk), meaning__in=SIGNED_MEANINGS
        )
        .order_by("-signed_at", "-id")
        .first()
    )


def signed_run(version, signature: Signature | None = None) -> ValidationRun | None:
    """The validator's run the version's latest validation signature cites (None when it cites none)."""
    signature = signature or validation_signature(version)
    cited = (signature.payload.get("validation_run") or {}) if signature else {}
    if not cited.get("id"):
        return None
    return (
        ValidationRun.objects.filter(
            pk=cited["id"], version=version, kind=ValidationRun.Kind.VALIDATION, status=ValidationRun.Status.SUCCEEDED
        )
        .select_related("reference", "trial_returns", "model")
        .first()
    )


def latest_ongoing(version) -> ValidationRun | None:
    return (
        ValidationRun.objects.filter(version=version, kind=ValidationRun.Kind.ONGOING)
        .order_by("-created_at", "-id")
        .first()
    )


@transaction.atomic
def ongoing_start(actor, version, baseline: ValidationRun, *, dataset: Evidence, prediction_log: Evidence = None):
    """Queue an ongoing run: the baseline's plan as it was run (tests, thresholds, options), its training sample
    and trial matrix, and its ONNX model, on production data Vigil wrote. `actor`: Vigil's system account. No
    attributions: the developer's SHAP values describe the validation sample's rows, not production's."""
    run = ValidationRun.objects.create(
        version=version,
        kind=ValidationRun.Kind.ONGOING,
        baseline=baseline,
        dataset=dataset,
        reference=baseline.reference,
        trial_returns=baseline.trial_returns,
        prediction_log=prediction_log,
        model=baseline.model,
        requested_by=actor,
        input_sha256=dataset.sha256,
        plan_snapshot=baseline.plan_snapshot,
    )
    inputs = [e for e in (dataset, prediction_log, baseline.reference, baseline.trial_returns, baseline.model) if e]
    audit_record(
        actor,
        "validation_run.start_ongoing",
        version,
        reason=f"scheduled validation on production data against signed run #{baseline.pk}",
        changes={
            "run": [None, run.pk],
            "baseline_run": [None, baseline.pk],
            "inputs": [None, {e.original_name: e.sha256 for e in inputs}],
        },
    )
    run.job = jobs.enqueue(JOB_KIND, subject=run, requested_by=actor, max_attempts=MAX_ATTEMPTS)
    run.save(update_fields=["job"])
    return run


def regressions(run: ValidationRun) -> list[dict]:
    """The graded rows of an ongoing run that fail now and passed in its baseline (same test name), each with
    both rows."""
    if run.baseline_id is None or run.status != ValidationRun.Status.SUCCEEDED:
        return []
    before = {row["test"]: row for row in run.baseline.results}
    return [
        {"test": row["test"], "now": row, "then": before[row["test"]]}
        for row in run.results
        if row["outcome"] == "fail" and before.get(row["test"], {}).get("outcome") == "pass"
    ]


@transaction.atomic
def regression_findings(actor, run: ValidationRun) -> list[Finding]:
    """Raise a finding per regression, linked to the ongoing run and to the signed run, owned by the model's owner;
    raised by the governance policy (`actor`: Vigil's system account). Safe to call again: a test that already has
    its finding from this run gets no second one. Returns the findings raised now."""
    run = ValidationRun.objects.select_related("version__model", "baseline").get(pk=run.pk)
    version, model = run.version, run.version.model
    raised = set(Finding.objects.filter(run=run).values_list("test", flat=True))
    found = []
    for regression in regressions(run):
        if regression["test"] in raised:
            continue
        now, then = regression["now"], regression["then"]
        finding = Finding.objects.create(
            version=version,
            run=run,
            baseline_run=run.baseline,
            test=regression["test"],
            severity=SEVERITY_BY_TIER.get(model.risk_tier, Finding.Severity.MEDIUM),
            title=f"{regression['test']} fails on production data"[:200],
            description=(
                f"Scheduled validation run #{run.pk} re-ran the signed plan on production data: {regression['test']} "
                f"is {_value(now)} (fails at {now.get('threshold', '')}). It passed in signed run #{run.baseline_id} "
                f"with {_value(then)}."
            ),
            owner=model.owner,
            due_date=timezone.now().date() + dt.timedelta(days=REMEDIATION_DAYS),
            raised_by=actor,
        )
        audit_record(
            actor,
            "finding.raise",
            finding,
            reason="a test that passed at sign-off fails on production data",
            changes=diff(
                {},
                snapshot(
                    finding,
                    ["version", "severity", "title", "owner", "due_date", "status", "run", "baseline_run", "test"],
                ),
            ),
        )
        notify(
            [model.owner_id, model.validator_id],
            "assignment",
            f"{finding} on {version}: it passed at sign-off.",
            f"/findings/{finding.pk}/",
        )
        found.append(finding)
    return found


def _value(row: dict) -> str:
    value = row.get("value")
    return f"{value:.4g}" if isinstance(value, int | float) else str(value)
