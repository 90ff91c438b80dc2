"""Validation plans and runs: who may set them up, and the run itself (called by the Celery task).

A run is claimed with a conditional UPDATE, works from the immutable evidence file, and writes all of
its results in one transaction at the end: a worker that dies mid-run leaves no partial results, and
the redelivered message (acks_late) simply runs it again with the same inputs and the same answers.
"""

import logging
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from governance.audit import audit_record
from governance.exceptions import Conflict
from governance.roles import Role, user_roles
from risk import plans
from risk.datasets import DatasetError, read_columns
from risk.metrics import backtest, classification, regression
from risk.metrics._checks import MetricInputError
from risk.models import Evidence, ValidationPlan, ValidationRun

logger = logging.getLogger(__name__)
R = ValidationRun.Status


def _require_validator(actor, version) -> None:
    if not (version.model.validator_id == actor.pk and Role.VALIDATOR in user_roles(actor)):
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
    plans.check_plan(template, tests, options)
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
def run_start(actor, version, dataset: Evidence) -> ValidationRun:
    """Queue a run of the version's plan on one of its datasets; the worker starts after commit."""
    _require_validator(actor, version)
    plan = ValidationPlan.objects.filter(version=version).first()
    if plan is None:
        raise Conflict("Set up the validation plan first.")
    if dataset.version_id != version.pk or dataset.kind not in (Evidence.Kind.DATASET, Evidence.Kind.BACKTEST):
        raise ValidationError({"dataset": "Choose a dataset or backtest file attached to this version."})
    run = ValidationRun.objects.create(
        version=version,
        dataset=dataset,
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
        changes={"run": [None, run.pk], "dataset_sha256": [None, dataset.sha256]},
    )
    from risk.tasks import run_validation

    transaction.on_commit(lambda: run_validation.delay(run.pk))
    return run


def run_execute(run_id: int) -> str:
    """Claim and perform a run. Returns its final status; safe to call again for the same run."""
    claimed = ValidationRun.objects.filter(pk=run_id, status__in=[R.QUEUED, R.RUNNING]).update(
        status=R.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now(), progress=5
    )
    if not claimed:
        return ValidationRun.objects.filter(pk=run_id).values_list("status", flat=True).first() or "missing"
    run = ValidationRun.objects.select_related("dataset", "version__model").get(pk=run_id)
    try:
        results = compute_results(run, on_progress=lambda p: ValidationRun.objects.filter(pk=run_id).update(progress=p))
    except (DatasetError, MetricInputError) as exc:
        return _finish(run, R.FAILED, [], str(exc))
    return _finish(run, R.SUCCEEDED, results, "")


@transaction.atomic
def _finish(run, status, results, error) -> str:
    updated = ValidationRun.objects.filter(pk=run.pk, status=R.RUNNING).update(
        status=status, results=results, error=error, progress=100, finished_at=timezone.now()
    )
    if updated:
        audit_record(
            None,
            f"validation_run.{status}",
            run.version,
            reason=error[:500],
            changes={"run": [None, run.pk], "outcomes": [None, _summary(results)]},
        )
    return status


def _summary(results) -> dict:
    counts = {"pass": 0, "warn": 0, "fail": 0}
    for row in results:
        counts[row["outcome"]] += 1
    return counts


def compute_results(run, on_progress=lambda p: None) -> list[dict]:
    """Read the dataset, compute every metric of the template, grade each test, re-perform the claims."""
    try:
        return _compute(run, on_progress)
    except MetricInputError as exc:
        # Kernels speak of array positions; people read file rows (1 is the header).
        message = re.sub(r"position (\d+)", lambda m: f"row {int(m.group(1)) + 2}", str(exc))
        name = run.dataset.original_name
        raise MetricInputError(message if message.startswith(name) else f"{name}: {message}") from None


def _compute(run, on_progress) -> list[dict]:
    plan = run.plan_snapshot
    template = plans.TEMPLATES[plan["template"]]
    columns = read_columns(run.dataset, template["columns"], template["optional_columns"])
    on_progress(40)
    options = plan["options"]
    if plan["template"] == "classifier":
        values = classification.classifier_report(columns["y_true"], columns["y_pred"], columns.get("y_score"))
    elif plan["template"] == "regressor":
        values = regression.regression_report(columns["y_true"], columns["y_pred"])
    else:
        values = backtest.backtest_report(
            columns["return"],
            options.get("periods_per_year", 252),
            options.get("risk_free", 0.0),
            columns.get("position"),
        )
    on_progress(80)
    results = []
    for test in plan["tests"]:
        if test["metric"] not in values:
            raise MetricInputError(
                f"{run.dataset.original_name}: the plan's metric {test['metric']} cannot be computed from this dataset"
            )
        value = values[test["metric"]]
        results.append(
            {
                "test": test["test"],
                "metric": test["metric"],
                "value": value,
                "threshold": {
                    "pass": test["pass"],
                    "fail": test["fail"],
                    "higher_is_better": test.get("higher_is_better", True),
                },
                "outcome": plans.outcome(test, value),
            }
        )
    tolerance = options.get("tolerance", 1e-3)
    for name, claimed in sorted((plan.get("claimed_performance") or {}).items()):
        if name in values:
            difference = abs(values[name] - claimed)
            results.append(
                {
                    "test": f"re-perform {name}",
                    "metric": name,
                    "value": values[name],
                    "threshold": {"claimed": claimed, "tolerance": tolerance},
                    "outcome": "pass" if difference <= tolerance else "fail",
                }
            )
    return results
