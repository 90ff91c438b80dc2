"""Validation plans and runs: who may set them up, and the run itself (called by the Celery task).

A run is claimed with a conditional UPDATE, works from immutable evidence files (risk.engine, computed in a child
process with a memory and a time limit: governance.core.confinement), renders its report, and writes results,
charts and the report evidence in one transaction at the end: a worker that dies mid-run leaves no partial results,
and the job is taken up again (governance.core.jobs) with the same inputs and the same answers. Whichever delivery
finishes first wins; a later one changes nothing.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.core import confinement, jobs
from governance.core.audit import audit_record, audit_type
from governance.core.error_text import bounded
from governance.core.exceptions import Conflict
from governance.core.models import Job
from models_registry.choices import LifecycleStatus
from risk.validation import plans, services
from risk.validation.access import is_validator_of
from risk.validation.models import Evidence, ValidationPlan, ValidationRun
from risk.validation.selectors import RUN_INPUT_KINDS

logger = logging.getLogger(__name__)
R = ValidationRun.Status
JOB_KIND = "validation_run"
MAX_ATTEMPTS = 3  # deliveries of one run before Vigil stops retrying a run that keeps killing its worker


def validation_open(version) -> bool:
    """Plans and runs change only while the version is in validation: once it is signed, they are what was
    signed (a revalidation is a new version)."""
    return version.status == LifecycleStatus.IN_VALIDATION


def closed_reason(version) -> str:
    status = version.get_status_display().lower()
    return f"The version is {status}: its validation plan and runs change only while it is in validation."


def _require_open_validation(actor, version) -> None:
    if not is_validator_of(actor, version):
        raise PermissionDenied("Only the model's validator sets up and runs validation.")
    if not validation_open(version):
        raise Conflict(closed_reason(version))


@transaction.atomic
def plan_save(actor, version, *, template=None, tests=None, options=None) -> ValidationPlan:
    """Create the plan from the template library, or save the validator's edits to it."""
    _require_open_validation(actor, version)
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


@transaction.atomic
def run_start(
    actor,
    version,
    dataset: Evidence,
    reference: Evidence = None,
    trial_returns: Evidence = None,
    prediction_log: Evidence = None,
    model: Evidence = None,
    attributions: Evidence = None,
):
    """Queue a run of the version's plan on its datasets; the worker starts after commit.

    `reference` is the training sample (stability tests); `trial_returns` the matrix of every configuration
    tried (probability of backtest overfitting); `prediction_log` the predictions of a trading model whose plan
    also tests it as a classifier or regressor (`dataset` then holds its returns); `model` the version's ONNX
    model, which Vigil runs to re-perform the predictions; `attributions` the developer's SHAP values.
    """
    _require_open_validation(actor, version)
    plan = ValidationPlan.objects.filter(version=version).first()
    if plan is None:
        raise Conflict("Set up the validation plan first.")
    errors = {}
    if prediction_log is not None and not plans.uses_prediction_log(plan.template):
        errors["prediction_log"] = "This plan tests one dataset; a prediction log is for a plan of a trading model."
    for field, evidence in (("model", model), ("attributions", attributions)):
        if evidence is not None and not plans.tests_predictions(plan.template):
            errors[field] = "This plan tests returns only: it has no predictions to run a model or explain."
    inputs = (
        ("dataset", dataset),
        ("reference", reference),
        ("trial_returns", trial_returns),
        ("prediction_log", prediction_log),
        ("model", model),
        ("attributions", attributions),
    )
    for field, evidence in inputs:
        if field in errors:
            continue
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
        prediction_log=prediction_log,
        model=model,
        attributions=attributions,
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
            "inputs": [
                None,
                {e.original_name: e.sha256 for _, e in inputs if e},
            ],
        },
    )
    run.job = jobs.enqueue(JOB_KIND, subject=run, requested_by=actor, max_attempts=MAX_ATTEMPTS)
    run.save(update_fields=["job"])
    return run


def run_execute(run_id: int) -> str:
    """Perform a run now, in this process, through its job (what a worker does); returns the run's status.
    Safe to call again for the same run."""
    job_id = ValidationRun.objects.filter(pk=run_id).values_list("job_id", flat=True).first()
    if job_id is None:
        job_id = _attach_job(run_id)
    if job_id is not None:
        jobs.execute(job_id)
    return ValidationRun.objects.filter(pk=run_id).values_list("status", flat=True).first() or "missing"


@transaction.atomic
def _attach_job(run_id: int) -> int | None:
    """A run queued before runs moved onto the job backbone gets its job on first execution."""
    run = ValidationRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        return None
    if run.job_id is None:
        run.job = Job.objects.create(
            kind=JOB_KIND,
            subject_type=audit_type(run),
            subject_id=str(run.pk),
            requested_by_id=run.requested_by_id,
            max_attempts=MAX_ATTEMPTS,
        )
        run.save(update_fields=["job"])
    return run.job_id


def perform(job, progress) -> dict:
    """The job runner of validation runs: mark the run running, compute, report, and write it once."""
    # Here, not at the top: the engine and the report bring pyarrow, SciPy and matplotlib (about 150 MB), which
    # every other process (web workers, exports, monitoring) never needs; only a process running a validation
    # pays for them (tests/core/test_process_footprint.py keeps it so).
    from risk.metrics._checks import MetricInputError
    from risk.validation import engine, report
    from risk.validation.datasets import DatasetError

    run_id = int(job.subject_id)
    started = ValidationRun.objects.filter(pk=run_id, status__in=[R.QUEUED, R.RUNNING]).update(
        status=R.RUNNING, attempts=job.attempts, started_at=timezone.now(), progress=5
    )
    if not started:
        return {"run": run_id, "status": "already finished"}  # another delivery of the same run finished it
    run = ValidationRun.objects.select_related(
        "dataset",
        "reference",
        "trial_returns",
        "prediction_log",
        "model",
        "attributions",
        "version__model__owner",
        "version__model__validator",
        "requested_by",
    ).get(pk=run_id)

    def run_progress(percent):
        ValidationRun.objects.filter(pk=run_id, status=R.RUNNING).update(progress=percent)
        progress(percent)

    try:
        outcome = _compute(engine, run, run_progress)
    except (DatasetError, MetricInputError) as exc:
        _finish(run, R.FAILED, error=str(exc))
        raise jobs.JobFailed(str(exc)) from exc
    except confinement.Exceeded as exc:
        # Not retried: a file that exhausted the run's memory or time once will do it again.
        model = f", check that the model {run.model.original_name} runs within it" if run.model_id else ""
        message = (
            f"The computation {exc}. Split the file or choose fewer columns{model}, or ask an administrator to "
            "raise the limit; then start a new run."
        )
        logger.error("validation run %s stopped: %s", run_id, message)
        _finish(run, R.FAILED, error=message)
        raise jobs.JobFailed(message) from exc
    finished_at = timezone.now()
    parts = {
        "results": outcome.results,
        "metrics": outcome.metrics,
        "charts": outcome.charts,
        "fingerprints": outcome.fingerprints,
        "finished_at": finished_at,
    }
    pdf = report.render_pdf(report.render_html(run, **parts))  # slow: outside any transaction or lock
    run_progress(95)
    status = _finish(run, R.SUCCEEDED, pdf=pdf, **parts)
    return {"run": run_id, "status": status}


def _compute(engine, run, on_progress):
    """engine.compute in a child process with the run's memory and time limits (governance.core.confinement):
    whatever a file does to the computation, the worker survives to record it."""
    return confinement.run(
        engine.compute,
        run,
        memory_mb=settings.VIGIL_VALIDATION_MEMORY_MB,
        seconds=settings.VIGIL_VALIDATION_TIME_LIMIT_SECONDS,
        on_progress=on_progress,
        memory_setting="VIGIL_VALIDATION_MEMORY_MB",
        time_setting="VIGIL_VALIDATION_TIME_LIMIT_SECONDS",
    )


def run_give_up(job, reason: str) -> None:
    """Its job gave up (retries spent, a worker lost on every delivery, a bug): the run fails with the reason,
    keeping no partial results."""
    run = ValidationRun.objects.select_related("version").filter(pk=int(job.subject_id)).first()
    if run is None or run.status not in (R.QUEUED, R.RUNNING):
        return
    logger.error("validation run %s gave up: %s", run.pk, reason)
    ValidationRun.objects.filter(pk=run.pk).update(attempts=job.attempts)
    _finish(run, R.FAILED, error=f"{reason[:1000]} Start a new run once the cause is fixed.")


def register_job_runner() -> None:
    jobs.register(JOB_KIND, perform, on_give_up=run_give_up)


@transaction.atomic
def _finish(
    run, status, *, error="", results=(), metrics=(), charts=None, fingerprints=(), finished_at=None, pdf=None
) -> str:
    """Write the outcome once: results, charts and the report evidence together, or nothing at all."""
    current = ValidationRun.objects.select_for_update(of=("self",)).filter(pk=run.pk).first()
    if current is None or current.status not in (R.QUEUED, R.RUNNING):
        return current.status if current else "missing"  # another delivery of the same run finished it first
    evidence, error = None, bounded(error, where=f"validation run {run.pk}")
    try:
        if pdf is not None:
            from risk.validation import report  # lazily, as in perform()

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
            metrics=list(metrics),
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
