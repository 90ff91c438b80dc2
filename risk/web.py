"""Validation pages: the plan and runs of a version, and each run's progress and results."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.exceptions import Conflict
from governance.roles import Role, user_roles
from models_registry import selectors as registry
from risk import services, validation
from risk.models import Evidence, ValidationPlan, ValidationRun


def validation_context(user, version) -> dict:
    if not services.can_read_evidence(user, version):
        return {"show_validation": False}
    return {
        "show_validation": True,
        "plan": ValidationPlan.objects.filter(version=version).first(),
        "runs": ValidationRun.objects.filter(version=version).select_related("dataset")[:20],
        "datasets": Evidence.objects.filter(version=version, kind__in=[Evidence.Kind.DATASET, Evidence.Kind.BACKTEST]),
        "is_validator": version.model.validator_id == user.pk and Role.VALIDATOR in user_roles(user),
    }


def _version(request, key, version):
    return registry.version_get_for_user(request.user, registry.model_get_for_user(request.user, key), version)


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


@login_required
@require_POST
def run_start(request, key, version):
    obj = _version(request, key, version)
    dataset = (
        Evidence.objects.filter(pk=request.POST.get("dataset") or 0, version=obj).first()
        if str(request.POST.get("dataset", "")).isdigit()
        else None
    )
    if dataset is None:
        messages.error(request, "Choose a dataset attached to this version.")
        return redirect("models_registry:version-detail", key=key, version=version)
    try:
        run = validation.run_start(request.user, obj, dataset)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        return redirect("risk:run-detail", pk=run.pk)
    return redirect("models_registry:version-detail", key=key, version=version)


@login_required
def run_detail(request, pk):
    run = ValidationRun.objects.select_related("version__model", "dataset", "requested_by").filter(pk=pk).first()
    if run is None or not services.can_read_evidence(request.user, run.version):
        raise Http404("Not found.")
    return render(request, "risk/run_detail.html", {"run": run, "running": run.status in ("queued", "running")})
