"""Reads of validation work (evidence, plans, runs, findings), always through the access rules of this app.

Objects a person may not read answer 404 (Http404) exactly as absent ones.
"""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404

from governance.core import access
from risk.validation.access import can_read_evidence
from risk.validation.models import Evidence, Finding, OngoingCheck, ValidationPlan, ValidationRun

RUN_INPUT_KINDS = {
    "dataset": (Evidence.Kind.DATASET, Evidence.Kind.BACKTEST),
    "reference": (Evidence.Kind.DATASET,),
    "trial_returns": (Evidence.Kind.TRIAL_RETURNS, Evidence.Kind.BACKTEST, Evidence.Kind.DATASET),
    "prediction_log": (Evidence.Kind.DATASET, Evidence.Kind.BACKTEST),
    "model": (Evidence.Kind.MODEL_ONNX,),
    "attributions": (Evidence.Kind.ATTRIBUTIONS,),
}


def evidence_of(version) -> QuerySet:
    return Evidence.objects.filter(version=version).select_related("uploaded_by", "version__model")


def evidence_on_version(version, pk) -> Evidence | None:
    """The file with this id attached to this version, or None (also for ids that are not numbers)."""
    value = str(pk or "")
    return Evidence.objects.filter(pk=value, version=version).first() if value.isdigit() and len(value) < 19 else None


def evidence_get_for_user(user, pk) -> Evidence:
    evidence = Evidence.objects.select_related("version__model").filter(pk=pk).first()
    if evidence is None or not can_read_evidence(user, evidence.version):
        raise Http404("Not found.")
    return evidence


def run_input_files(version) -> QuerySet:
    """The attached files a run may read in some role (dataset, training sample, trial matrix, prediction log, model,
    attributions), newest first: one query for the whole run form."""
    kinds = sorted({kind for role_kinds in RUN_INPUT_KINDS.values() for kind in role_kinds})
    return Evidence.objects.filter(version=version, kind__in=kinds)


def plan_of(version) -> ValidationPlan | None:
    return ValidationPlan.objects.filter(version=version).first()


def runs_of(version, limit: int | None = None) -> QuerySet:
    runs = ValidationRun.objects.filter(version=version).select_related("version__model", "dataset", "requested_by")
    return runs[:limit] if limit else runs


def ongoing_check_of(version) -> OngoingCheck | None:
    """What the daily sweep last did about the version's scheduled validation on live data."""
    return OngoingCheck.objects.filter(version=version).first()


TOP_FEATURES = 5


def top_features(version) -> dict | None:
    """The features that matter most to the version's model, by the permutation importance of its latest succeeded
    run that computed one: {"run", "metric", "confidence", "features": [{feature, mean, low, high}]}."""
    run = (
        ValidationRun.objects.filter(
            version=version, status=ValidationRun.Status.SUCCEEDED, charts__has_key="importance"
        )
        .order_by("-finished_at", "-pk")
        .only("pk", "charts")
        .first()
    )
    if run is None:
        return None
    d = run.charts["importance"]
    rows = zip(d["feature"], d["mean"], d["low"], d["high"], strict=True)
    features = [{"feature": f, "mean": m, "low": lo, "high": hi} for f, m, lo, hi in list(rows)[:TOP_FEATURES]]
    return {"run": run.pk, "metric": d["metric"], "confidence": d.get("confidence", 0.95), "features": features}


def run_get_for_user(user, pk) -> ValidationRun:
    run = (
        ValidationRun.objects.select_related(
            "version__model",
            "dataset",
            "reference",
            "trial_returns",
            "prediction_log",
            "model",
            "attributions",
            "requested_by",
        )
        .filter(pk=pk)
        .first()
    )
    if run is None or not can_read_evidence(user, run.version):
        raise Http404("Not found.")
    return run


def finding_list(user) -> QuerySet:
    """Findings on versions the user may see (traders see none)."""
    return access.restrict(Finding.objects.all(), user).select_related("version__model", "owner", "raised_by")


def finding_get_for_user(user, pk) -> Finding:
    finding = finding_list(user).filter(pk=pk).first()
    if finding is None:
        raise Http404("Not found.")
    return finding


def findings_of(version) -> QuerySet:
    return Finding.objects.filter(version=version).select_related("owner")


def finding_owners(version) -> QuerySet:
    """Who may own a finding's remediation: the model's owner and developers."""
    model = version.model
    ids = {model.owner_id, *model.developers.values_list("pk", flat=True)}
    return get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("username")


def succeeded_runs(version) -> QuerySet:
    return (
        ValidationRun.objects.filter(
            version=version, status=ValidationRun.Status.SUCCEEDED, kind=ValidationRun.Kind.VALIDATION
        )
        .select_related("dataset")
        .order_by("-finished_at", "-id")
    )


def tests_needing_word(run) -> tuple[list[str], list[str]]:
    """The failed tests of a run without a finding raised from them, and its warned tests without one: what
    a sign-off over the run must address (a disposition, an acknowledgement)."""
    if run is None:
        return [], []
    raised = set(Finding.objects.filter(run=run).values_list("test", flat=True))
    failed = [r["test"] for r in run.results if r["outcome"] == "fail" and r["test"] not in raised]
    warned = [r["test"] for r in run.results if r["outcome"] == "warn" and r["test"] not in raised]
    return failed, warned
