"""Validation pages: the plan and runs of a version, and each run's progress and results."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from governance.exceptions import Conflict
from models_registry import selectors as registry
from risk import charts, report, services, validation
from risk.forms import PlanOptionsForm, PlanTestForm, PlanTestFormSet
from risk.models import Evidence, ValidationPlan, ValidationRun


def validation_context(user, version) -> dict:
    if not services.can_read_evidence(user, version):
        return {"show_validation": False}
    return {
        "show_validation": True,
        "plan": ValidationPlan.objects.filter(version=version).first(),
        "runs": ValidationRun.objects.filter(version=version).select_related("dataset")[:20],
        "datasets": Evidence.objects.filter(version=version, kind__in=validation.RUN_INPUT_KINDS["dataset"]),
        "references": Evidence.objects.filter(version=version, kind__in=validation.RUN_INPUT_KINDS["reference"]),
        "trial_files": Evidence.objects.filter(version=version, kind__in=validation.RUN_INPUT_KINDS["trial_returns"]),
        "is_validator": validation.is_validator_of(user, version),
    }


def _version(request, key, version):
    return registry.version_get_for_user(request.user, registry.model_get_for_user(request.user, key), version)


@login_required
def plan_edit(request, key, version):
    """The validator retunes thresholds, drops tests (not the ones Tier 1 requires) and sets the options."""
    obj = _version(request, key, version)
    plan = ValidationPlan.objects.filter(version=obj).first()
    if not validation.is_validator_of(request.user, obj):
        raise PermissionDenied("Only the model's validator edits the validation plan.")
    if plan is None:
        return redirect("models_registry:version-detail", key=key, version=version)
    tests = PlanTestFormSet(
        request.POST or None, prefix="tests", initial=[PlanTestForm.initial_from(t) for t in plan.tests]
    )
    options = PlanOptionsForm(request.POST or None, initial=PlanOptionsForm.initial_from(plan.options))
    plan_errors = []
    if request.method == "POST" and tests.is_valid() and options.is_valid():
        kept = [form.as_test() for form in tests if form.cleaned_data.get("keep")]
        try:
            validation.plan_save(request.user, obj, tests=kept, options=options.as_options())
        except ValidationError as exc:
            plan_errors = exc.messages
        else:
            messages.success(request, "Validation plan saved.")
            return redirect("models_registry:version-detail", key=key, version=version)
    context = {"version": obj, "model": obj.model, "plan": plan, "tests": tests, "options": options}
    return render(request, "risk/plan_form.html", {**context, "plan_errors": plan_errors})


@login_required
@require_POST
def plan_setup(request, key, version):
    obj = _version(request, key, version)
    try:
        plan = validation.plan_save(request.user, obj)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Validation plan set up from the {plan.template} template.")
    return redirect("models_registry:version-detail", key=key, version=version)


def _attached(version, value):
    """The evidence file with this id on this version, or None (also for ids that are not numbers)."""
    value = str(value or "")
    return Evidence.objects.filter(pk=value, version=version).first() if value.isdigit() and len(value) < 19 else None


@login_required
@require_POST
def run_start(request, key, version):
    obj = _version(request, key, version)
    files = {"dataset": _attached(obj, request.POST.get("dataset"))}
    for optional in ("reference", "trial_returns"):
        if request.POST.get(optional):
            files[optional] = _attached(obj, request.POST.get(optional))
    missing = [name for name, evidence in files.items() if evidence is None]
    if missing:
        messages.error(request, f"Choose files attached to this version ({', '.join(missing)}).")
        return redirect("models_registry:version-detail", key=key, version=version)
    try:
        run = validation.run_start(request.user, obj, **files)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        return redirect("risk:run-detail", pk=run.pk)
    return redirect("models_registry:version-detail", key=key, version=version)


def _readable_run(request, pk) -> ValidationRun:
    run = (
        ValidationRun.objects.select_related("version__model", "dataset", "reference", "trial_returns", "requested_by")
        .filter(pk=pk)
        .first()
    )
    if run is None or not services.can_read_evidence(request.user, run.version):
        raise Http404("Not found.")
    return run


@login_required
def run_detail(request, pk):
    run = _readable_run(request, pk)
    return render(
        request,
        "risk/run_detail.html",
        {
            "run": run,
            "results": _with_finding_links(request.user, run),
            "running": run.status in ("queued", "running"),
            "charts": charts.plotly_divs(run.charts) if run.charts else [],
        },
    )


def _with_finding_links(user, run) -> list[dict]:
    """Result rows; for the validator, failed and warned rows link to a finding form filled in from them."""
    if not validation.is_validator_of(user, run.version):
        return run.results
    page = reverse("models_registry:version-detail", args=[run.version.model.key, run.version.version])
    rows = []
    for row in run.results:
        if row["outcome"] in ("fail", "warn"):
            query = urlencode(
                {
                    "finding_title": f"Validation run #{run.pk}: {row['test']} {row['outcome']}",
                    "finding_description": f"{row['metric']} = {row['value']:.6g} against {_threshold_text(row)} "
                    f"in validation run #{run.pk} on {run.dataset.original_name} (SHA-256 {run.input_sha256}).",
                }
            )
            row = {**row, "finding_url": f"{page}?{query}#raise-finding"}
        rows.append(row)
    return rows


def _threshold_text(row) -> str:
    t = row["threshold"]
    if "claimed" in t:
        return f"the claimed {t['claimed']} (tolerance {t['tolerance']})"
    good, bad = (">=", "<") if t["higher_is_better"] else ("<=", ">")
    return f"pass {good} {t['pass']}, fail {bad} {t['fail']}"


@login_required
def run_report(request, pk):
    """The validation report as a page: the same document the stored PDF was printed from."""
    run = _readable_run(request, pk)
    if run.status != ValidationRun.Status.SUCCEEDED:
        raise Http404("This run has no report.")
    html = report.render_html(
        run, results=run.results, charts=run.charts, fingerprints=run.fingerprints, finished_at=run.finished_at
    )
    return HttpResponse(html)
