"""Skills pages: the firm's (/skills/: requirements, the matrix of people and requirements, compliance's forms) and
each person's own (/skills/me/); the My queue panel."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance.core import access
from governance.core.exceptions import Conflict
from governance.core.forms_utils import add_service_errors
from governance.skills import access as skills_access
from governance.skills import selectors, services
from governance.skills.forms import CompletionForm, RequirementForm, RetireForm
from governance.skills.models import Requirement
from models_registry.models import Model


def queue_panel(request, _obj) -> dict | None:
    lines = selectors.needs_attention(request.user)
    return {"skill_lines": lines} if lines else None


def _require_reader(user) -> None:
    if not skills_access.reads_every_skill(user):
        raise Http404("No such page.")


def _require_manager(user) -> None:
    _require_reader(user)
    if not skills_access.manages_skills(user):
        raise PermissionDenied("Auditors read skills; compliance defines requirements and records completions.")


def _page(request, requirement_form=None, completion_form=None, status=200):
    requirements = list(selectors.requirement_list(request.user).order_by("-active", "duty", "title"))
    columns, rows = selectors.matrix()
    manages = skills_access.manages_skills(request.user)
    active = [r for r in requirements if r.active]
    context = {
        "requirements": requirements,
        "columns": columns,
        "rows": rows,
        "status_text": selectors.STATUS_TEXT,
        "manages": manages,
        "requirement_form": requirement_form or (RequirementForm() if manages else None),
        "completion_form": completion_form or (CompletionForm(requirements=active) if manages else None),
        "retire_form": RetireForm() if manages else None,
        "model_keys": list(Model.objects.order_by("key").values_list("key", flat=True)) if manages else [],
        "people": sorted({p.get_username() for row in rows for p in [row.person]}) if manages else [],
        "due_soon_days": selectors.DUE_SOON_DAYS,
    }
    return render(request, "skills/home.html", context, status=status)


def skills_home(request):
    _require_reader(request.user)
    return _page(request)


@require_POST
def requirement_new(request):
    _require_manager(request.user)
    form = RequirementForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        key = data.pop("model").strip()
        model = access.restrict(Model.objects.all(), request.user).filter(key=key).first() if key else None
        if key and model is None:
            form.add_error("model", "No model has this key.")
        else:
            try:
                services.requirement_create(request.user, model=model, **data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Requirement defined.")
                return redirect("skills:home")
    return _page(request, requirement_form=form, status=400)


@require_POST
def completion_new(request):
    _require_manager(request.user)
    active = list(selectors.requirement_list(request.user).filter(active=True))
    form = CompletionForm(request.POST, requirements=active)
    if form.is_valid():
        data = form.cleaned_data
        person = get_user_model().objects.filter(username=data["person"].strip(), is_active=True).first()
        requirement = next(r for r in active if r.pk == data["requirement"])
        if person is None:
            form.add_error("person", "No active person has this username.")
        else:
            try:
                services.completion_record(
                    request.user,
                    person=person,
                    requirement=requirement,
                    completed_on=data["completed_on"],
                    evidence=data["evidence"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                form.add_error("requirement", "; ".join(exc.reasons))
            else:
                messages.success(request, "Completion recorded.")
                return redirect("skills:home")
    return _page(request, completion_form=form, status=400)


@require_POST
def requirement_retire(request, pk):
    _require_manager(request.user)
    requirement = selectors.requirement_get_for_user(request.user, pk)
    form = RetireForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the requirement is retired.")
        return redirect("skills:home")
    try:
        services.requirement_retire(request.user, requirement, form.cleaned_data["reason"])
    except (ValidationError, Conflict) as exc:
        messages.error(request, "; ".join(getattr(exc, "reasons", None) or exc.messages))
    else:
        messages.success(request, f"Requirement “{requirement.title}” retired.")
    return redirect("skills:home")


def my_skills(request):
    lines = selectors.person_lines(request.user)
    completions = selectors.completion_list(request.user).filter(person=request.user)
    return render(
        request,
        "skills/mine.html",
        {
            "lines": lines,
            "completions": completions,
            "due_soon_days": selectors.DUE_SOON_DAYS,
            "reads_every_skill": skills_access.reads_every_skill(request.user),
            "scope_any": Requirement.Scope.ANY,
        },
    )
