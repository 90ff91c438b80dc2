"""Validation plans and runs: who may set them up, and the run itself (called by the Celery task).

A run is claimed with a conditional UPDATE, works from immutable evidence files (risk.engine), renders its
report, and writes results, charts and the report evidence in one transaction at the end: a worker that
dies mid-run leaves no partial results, and the redelivered message (acks_late) simply runs it again with
the same inputs and the same answers. Whichever delivery finishes first wins; a later one changes nothing.
"""

import logging

from celery import current_app
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from governance.core.audit import audit_record
from governance.core.exceptions import Conflict
from risk.metrics._checks import MetricInputError
from risk.validation import engine, plans, report, services
from risk.validation.access import is_validator_of
from risk.validation.datasets import DatasetError
from risk.validation.models import Evidence, ValidationPlan, ValidationRun

logger = logging.getLogger(__name__)
R = ValidationRun.Status
RUN_TASK = "risk.run_validation"
MAX_ATTEMPTS = 3  # deliveries of one run before Vigil stops retrying a run that keeps killing its worker


def _require_validator(actor, version) -> None:
    if not is_validator_of(actor, version):
        raise PermissionDenied("Only the model's validator sets up and runs validation.")


@transaction.atomic
def plan_save(actor, version, *, template=None, tests=None, options=None) -> ValidationPlan:
    """Create the plan from the template library, or save the validator's edits to it."""
    _require_validator(actor, version)
    proposal = plans.proposed_plan(version.model)
    plan = ValidationPlan.objects.select_for_update().filter(version=version).first()
    template = template or (plan.template if plan else proposal["template"])
    tests = tests if tests is not None else (plan.tests if plan else proposal["tests"])
    options = {**proposal["options"], **(plan.options if plan else {}), **(options or {})}
    plans.check_plan(template, tests, options, tier=version.model.risk_tier)
    tests = plans.normalized_tests(tests)
    before = {"template": plan.template, "tests": plan.tests, "options": plan.options} if plan else None
    plan, _ = ValidationPlan.objects.update_or_create(
        version=version, defaults={"template": template, "tests": tests, "options": options, "updated_by": actor}
    )
    audit_record(
        actor,
        "validation_plan.save",
        version,
        changes={"plan": [before, {"template": template, "tests": tests, "options": options}]},
    )
    return plan


RUN_INPUT_KINDS = {
    "dataset": (Evidence.Kind.DATASET, Evidence.Kind.BACKTEST),
    "reference": (Evidence.Kind.DATASET,),
    "trial_returns": (Evidence.Kind.TRIAL_RETURNS, Evidence.Kind.BACKTEST, Evidence.Kind.DATASET),
}


@transaction.atomic
def run_start(actor, version, dataset: Evidence, reference: Evidence = None, trial_returns: Evidence = None):
    """Queue a run of the version's plan on its datasets; the worker starts after commit.

    `reference` is the training sample (stability tests); `trial_returns` the matrix of every configuration
    tried (probability of backtest overfitting).
    """
    _require_validator(actor, version)
    plan = ValidationPlan.objects.filter(version=version).first()
    if plan is None:
        raise Conflict("Set up the validation plan first.")
    errors = {}
    for field, evidence in (("dataset", dataset), ("reference", reference), ("trial_returns", trial_returns)):
        if evidence is None and field != "dataset":
            continue
        kinds = RUN_INPUT_KINDS[field]
        if evidence is None or evidence.version_id != version.pk or evidence.kind not in kinds:
            errors[field] = f"Choose a file of kind {' or '.join(kinds)} attached to this version."
    if errors:
        raise ValidationError(errors)
    run = ValidationRun.objects.create(
        version=version,
        dataset=dataset,
        reference=reference,
        trial_returns=trial_returns,
        requested_by=actor,
        input_sha256=dataset.sha256,
        plan_snapshot={
            "template": plan.template,
            "tests": plan.tests,
            "options": plan.options,
            "claimed_performance": version.claimed_performance,
        },
    )
    audit_record(
        actor,
        "validation_run.start",
        version,
        changes={
            "run": [None, run.pk],
            "inputs": [None, {e.original_name: e.sha256 for e in (dataset, reference, trial_returns) if e}],
        },
    )
    # By name: the task module imports this one, and Celery finds its tasks when the app is finalised.
    transaction.on_commit(lambda: current_app.tasks[RUN_TASK].delay(run.pk))
    return run


def run_execute(run_id: int) -> str:
    """Claim and perform a run. Returns its final status; safe to call again for the same run."""
    claimed = ValidationRun.objects.filter(pk=run_id, status__in=[R.QUEUED, R.RUNNING]).update(
        status=R.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now(), progress=5
    )
    if not claimed:
        return ValidationRun.objects.filter(pk=run_id).values_list("status", flat=True).first() or "missing"
    run = ValidationRun.objects.select_related(
        "dataset", "reference", "trial_returns", "version__model__owner", "version__model__validator", "requested_by"
    ).get(pk=run_id)
    if run.attempts > MAX_ATTEMPTS:
        # Each earlier attempt died with its worker (a redelivered message): out of memory, most likely.
        return _finish(
            run,
            R.FAILED,
            error=f"Stopped after {MAX_ATTEMPTS} attempts: the worker was lost each time (out of memory?). "
            "Give the workers more memory or split the dataset, then start a new run.",
        )

    def progress(percent):
        ValidationRun.objects.filter(pk=run_id, status=R.RUNNING).update(progress=percent)

    try:
        outcome = engine.compute(run, on_progress=progress)
    except (DatasetError, MetricInputError) as exc:
        return _finish(run, R.FAILED, error=str(exc))
    finished_at = timezone.now()
    parts = {
        "results": outcome.results,
        "charts": outcome.charts,
        "fingerprints": outcome.fingerprints,
        "finished_at": finished_at,
    }
    pdf = report.render_pdf(report.render_html(run, **parts))  # slow: outside any transaction or lock
    progress(95)
    return _finish(run, R.SUCCEEDED, pdf=pdf, **parts)


def run_give_up(run_id, reason: str) -> None:
    """Mark a run that could not be performed as failed (its task gave up), keeping no partial results."""
    run = ValidationRun.objects.select_related("version").filter(pk=run_id).first()
    if run is None or run.status not in (R.QUEUED, R.RUNNING):
        return
    ValidationRun.objects.filter(pk=run.pk, status=run.status).update(status=R.RUNNING)
    logger.error("validation run %s gave up: %s", run_id, reason)
    _finish(run, R.FAILED, error=f"The run could not be completed ({reason[:400]}); start it again.")


@transaction.atomic
def _finish(run, status, *, error="", results=(), charts=None, fingerprints=(), finished_at=None, pdf=None) -> str:
    """Write the outcome once: results, charts and the report evidence together, or nothing at all."""
    current = ValidationRun.objects.select_for_update(of=("self",)).filter(pk=run.pk).first()
    if current is None or current.status != R.RUNNING:
        return current.status if current else "missing"  # another delivery of the same run finished it first
    evidence = None
    try:
        if pdf is not None:
            evidence = services.evidence_store_generated(
                run.version,
                content=pdf,
                name=report.file_name(run),
                kind=Evidence.Kind.VALIDATION_REPORT,
                description=f"Generated by validation run #{run.pk}",
                on_behalf_of=run.requested_by,
            )
        ValidationRun.objects.filter(pk=run.pk).update(
            status=status,
            results=list(results),
            charts=charts or {},
            fingerprints=list(fingerprints),
            report=evidence,
            error=error,
            progress=100,
            finished_at=finished_at or timezone.now(),
        )
        audit_record(
            None,
            f"validation_run.{status}",
            run.version,
            reason=error[:500],
            changes={
                "run": [None, run.pk],
                "outcomes": [None, _summary(results)],
                "report_sha256": [None, evidence.sha256 if evidence else None],
            },
        )
    except Exception:
        if evidence is not None:
            evidence.file.delete(save=False)  # the row rolls back with the transaction; the file must go too
        raise
    return status


def _summary(results) -> dict:
    counts = {"pass": 0, "warn": 0, "fail": 0, "skipped": 0}
    for row in results:
        counts[row["outcome"]] += 1
    return counts
