"""Scheduled validation on live data: when a live version's signed plan re-runs, on what, and what a regression does.

A daily beat task sweeps the versions in pilot or production (both trade and report what they do; a suspended one
does not, an approved one has not started). One is due when its tier's cadence in the policy (months, 0: none) has
passed since its last ongoing run, or since its validation signature when it has none. A due version's production
data since that signature is written as an evidence file of kind production_data, hashed like any other: its
labelled predictions as a prediction log (timestamp, y_true, y_pred, y_score when every row has one, one column per
feature), and for a plan that tests returns, daily returns, the day's P&L over the model's notional at stake (with
no notional, the returns cannot be stated honestly and no run starts). The signed run's plan then re-runs on it as
a job (risk/validation/ongoing.py). A version without such data gets no run; its check says why on the model page.

Idempotent: a second sweep on the same day finds the run it started and starts nothing.
"""

import calendar
import csv
import datetime as dt
import io
import logging
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from governance.core import jobs
from governance.core.policy import policy_in_force
from governance.core.system import system_user
from governance.lifecycle.revalidation import revalidation_require
from models_registry.choices import LifecycleStatus as S
from models_registry.models import ModelVersion
from risk.monitoring.models import FeatureSet, Prediction, Trade
from risk.validation import ongoing, plans, runs, services
from risk.validation.models import Evidence, OngoingCheck, ValidationRun

logger = logging.getLogger(__name__)
LIVE = (S.PILOT, S.PRODUCTION)


def add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def due_on(version, policy, signature) -> dt.date | None:
    """The day the version's next ongoing run falls due; None when its tier has none."""
    months = policy.ongoing_months_for(version.model.risk_tier)
    if not months:
        return None
    last = ongoing.latest_ongoing(version)
    since = last.created_at if last else signature.signed_at
    return add_months(since.date(), months)


def sweep(today: dt.date | None = None) -> dict:
    """Start the ongoing runs that are due; each version in its own transaction (one failing stops no other)."""
    today = today or timezone.now().date()
    policy = policy_in_force()
    counts = {"started": 0, "skipped": 0, "not_due": 0}
    for version_id in ModelVersion.objects.filter(status__in=LIVE).order_by("pk").values_list("pk", flat=True):
        counts[_check(version_id, today, policy)] += 1
    return counts


@transaction.atomic
def _check(version_id: int, today: dt.date, policy) -> str:
    # The lock makes two sweeps take turns: the second sees the first's run and is not due.
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version_id)
    if version.status not in LIVE:
        return "not_due"
    if not policy.ongoing_months_for(version.model.risk_tier):
        return "not_due"  # the policy schedules none for its tier
    signature = ongoing.validation_signature(version)
    if signature is None:
        return _skip(version, today, "the version has no validation signature to compare with")
    if due_on(version, policy, signature) > today:
        return "not_due"
    baseline = ongoing.signed_run(version, signature)
    if baseline is None:
        return _skip(version, today, "its validation signature cites no succeeded validation run")
    data, reason = production_files(version, baseline, since=signature.signed_at)
    if reason:
        return _skip(version, today, reason)
    actor = system_user()
    stored = {
        role: services.evidence_store_generated(
            version,
            content=content,
            name=f"production-{role}-{version.model.key}-v{version.version}-{today:%Y%m%d}.csv",
            kind=Evidence.Kind.PRODUCTION_DATA,
            description=f"Production data since the validation signature of {signature.signed_at:%Y-%m-%d} "
            f"({role.replace('_', ' ')}), written for a scheduled validation",
            on_behalf_of=actor,
        )
        for role, content in data.items()
    }
    run = ongoing.ongoing_start(
        actor, version, baseline, dataset=stored["dataset"], prediction_log=stored.get("prediction_log")
    )
    OngoingCheck.objects.update_or_create(
        version=version, defaults={"checked_on": today, "run": run, "skipped_reason": ""}
    )
    return "started"


def _skip(version, today: dt.date, reason: str) -> str:
    """No run: the reason is logged and kept on the version's check (the model page shows it)."""
    logger.info("scheduled validation of %s skipped: %s", version, reason)
    OngoingCheck.objects.update_or_create(
        version=version, defaults={"checked_on": today, "run": None, "skipped_reason": reason[:500]}
    )
    return "skipped"


def production_files(version, baseline, *, since) -> tuple[dict[str, bytes], str]:
    """The CSV files the plan's parts read, by the run's roles ("dataset", "prediction_log"), or a reason why
    there are none."""
    parts = plans.parts(baseline.plan_snapshot["template"])
    files = {}
    if "strategy" in parts:
        returns, reason = _returns(version, since)
        if reason:
            return {}, reason
        files["dataset"] = returns
    if {"classifier", "regressor"} & set(parts):
        log, reason = _prediction_log(version, since)
        if reason:
            return {}, reason
        files["prediction_log" if "dataset" in files else "dataset"] = log
    return files, ""


def _prediction_log(version, since) -> tuple[bytes, str]:
    """Labelled predictions since `since`, oldest first: the newest within the upload row limit."""
    rows = (
        Prediction.objects.filter(version=version, timestamp__gte=since, outcome__isnull=False)
        .order_by("-timestamp", "-pk")
        .values_list("timestamp", "outcome", "prediction", "score", "features")[: settings.VIGIL_UPLOAD_MAX_ROWS]
    )
    rows = list(rows)[::-1]
    if not rows:
        return b"", f"no prediction with its outcome since the validation signature of {since:%Y-%m-%d}"
    names = FeatureSet.objects.filter(version=version).values_list("names", flat=True).first() or sorted(rows[0][4])
    with_score = all(score is not None for *_, score, _ in rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["timestamp", "y_true", "y_pred", *(["y_score"] if with_score else []), *names])
    for timestamp, outcome, prediction, score, features in rows:
        writer.writerow(
            [
                timestamp.isoformat(),
                repr(outcome),
                repr(prediction),
                *([repr(score)] if with_score else []),
                *(features.get(name, "") for name in names),
            ]
        )
    return out.getvalue().encode(), ""


def _returns(version, since) -> tuple[bytes, str]:
    """Daily returns since `since`: each UTC day's P&L over the model's notional at stake."""
    notional = version.model.notional_at_stake
    if not notional or notional <= 0:
        return b"", "the model states no notional at stake, so its trades' P&L cannot be stated as returns"
    daily = defaultdict(float)
    for timestamp, pnl in Trade.objects.filter(version=version, timestamp__gte=since).values_list("timestamp", "pnl"):
        daily[timestamp.astimezone(dt.UTC).date()] += pnl
    if len(daily) < 2:
        return b"", f"fewer than two days of trades since the validation signature of {since:%Y-%m-%d}"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["timestamp", "return"])
    for day in sorted(daily):
        writer.writerow([day.isoformat(), repr(daily[day] / float(notional))])
    return out.getvalue().encode(), ""


def perform(job, progress) -> dict:
    """The job runner of ongoing runs: the validation run itself, then its comparison with the signed run."""
    result = runs.perform(job, progress)
    settle(int(job.subject_id))
    return result


@transaction.atomic
def settle(run_id: int) -> dict:
    """A finished ongoing run's regressions become findings; under the policy in force for the model's tier, they
    flag the model "revalidation required". Safe to call again (a redelivered job)."""
    run = ValidationRun.objects.select_related("version__model").get(pk=run_id)
    if run.kind != ValidationRun.Kind.ONGOING or run.status != ValidationRun.Status.SUCCEEDED:
        return {"findings": 0, "revalidation": False}
    actor = system_user()
    findings = ongoing.regression_findings(actor, run)
    model, policy = run.version.model, policy_in_force()
    flagged = False
    if ongoing.regressions(run) and policy.regression_requires_revalidation(model.risk_tier):
        tests = ", ".join(r["test"] for r in ongoing.regressions(run))
        flagged = revalidation_require(
            actor,
            model,
            reason=f"Scheduled validation run #{run.pk} on production data: {tests} passed in signed run "
            f"#{run.baseline_id} and fail now (policy v{policy.version}).",
            by_policy=True,
        )
    return {"findings": len(findings), "revalidation": flagged}


def register_job_runner() -> None:
    jobs.register(ongoing.JOB_KIND, perform, on_give_up=runs.run_give_up)
