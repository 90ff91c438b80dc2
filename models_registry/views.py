"""Inventory pages. Thin: read through selectors, write through services, show errors by field."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from governance.core import access as perms
from governance.core import panels
from governance.core.exceptions import Conflict
from governance.core.forms_utils import add_service_errors, errors_to_messages
from governance.core.selectors import object_timeline
from models_registry import access as inventory_access
from models_registry import selectors, services
from models_registry.filters import DataSourceFilterSet, ModelFilterSet
from models_registry.forms import AccessGrantForm, DataSourceForm, ModelRecordForm, ModelRiskForm, ModelVersionForm
from models_registry.models import DataSourceAccessGrant, ModelAccessGrant
from models_registry.risk_register import risk_add, risk_summary

PAGE_SIZE = 25


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _querystring_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _timeline(request, obj, limit=50):
    return object_timeline(request.user, obj, limit)


def _risk_team(model):
    return get_user_model().objects.filter(
        pk__in={model.owner_id, *model.developers.values_list("pk", flat=True)}, is_active=True
    )


def _filtered(filterset, base):
    """The filtered list, or nothing at all when a filter value is unknown: a list that silently ignored a
    filter would show a compliance officer more than they asked for (the page says which value is wrong)."""
    if not filterset.is_bound:
        return base, {}
    if filterset.is_valid():
        return filterset.qs, {}
    return base.none(), filterset.errors


def model_list(request):
    base = selectors.model_list(request.user)
    filterset = ModelFilterSet(request.GET or None, queryset=base, request=request)
    queryset, errors = _filtered(filterset, base)
    return render(
        request,
        "models_registry/model_list.html",
        {
            "filter": filterset,
            "page": _page(request, queryset),
            "querystring": _querystring_without_page(request),
            "filter_errors": errors,
        },
        status=400 if errors else 200,
    )


def _section(request, page):
    """The section the request asks for (?section=), and the status to answer: an unknown section shows the first
    one with a 400 that names the parameter, as a bad filter value does."""
    key = request.GET.get("section")
    section = panels.section_of(page, key)
    if section is not None:
        return section, 200
    choices = ", ".join(s.key for s in panels.sections_for(page))
    messages.error(request, f"section: this page has no section “{key}”; its sections are {choices}.")
    return panels.section_of(page, None), 400


def _sectioned(request, template, page, obj, section, status, context):
    """Renders one section of a page: its own context (built by the caller for that section only), its panels,
    and the section nav."""
    built = panels.build(page, request, obj, section=section.key)
    return render(
        request,
        template,
        {
            **context,
            "sections": panels.sections_for(page),
            "section": section,
            "panels": built,
            "section_empty": bool(section.empty) and not built,
        },
        status=status,
    )


def model_detail(request, key):
    """The model page, one section at a time (issue 21): only what the section shows is read."""
    user = request.user
    model = selectors.model_get_for_user(user, key)
    section, status = _section(request, panels.MODEL_PAGE)
    context = {
        "model": model,
        "can_change": perms.can(user, perms.CHANGE, model),
        "can_add_version": perms.can(user, perms.ADD_VERSION, model),
    }
    if section.key == "overview":
        context.update(
            versions=selectors.version_list(user, model),
            risk_form=ModelRiskForm(owners=_risk_team(model)),
            **risk_summary(model),
        )
    elif section.key == "lineage":
        can_manage = perms.can_manage_access(user)
        context.update(
            upstream=selectors.upstream_models(user, model),
            downstream=selectors.downstream_models(user, model),
            impact=selectors.impact_of_model(user, model),
            grants=selectors.model_access_grants(model) if can_manage else None,
            grant_form=AccessGrantForm() if can_manage else None,
            can_manage_access=can_manage,
        )
    elif section.key == "history":
        context["timeline"] = _timeline(request, model)
    return _sectioned(request, "models_registry/model_detail.html", panels.MODEL_PAGE, model, section, status, context)


def model_create(request):
    if not inventory_access.can_create_model(request.user):
        raise PermissionDenied("Your role may not register models.")
    form = ModelRecordForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            model = services.model_create(request.user, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Model {model.key} registered as Tier {model.risk_tier}.")
            return redirect("models_registry:model-detail", key=model.key)
    return render(
        request, "models_registry/model_form.html", {"form": form, "creating": True}, status=400 if form.errors else 200
    )


def model_update(request, key):
    model = selectors.model_get_for_user(request.user, key)
    perms.require(request.user, perms.CHANGE, model)
    form = ModelRecordForm(request.POST or None, instance=model, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.model_update(request.user, model, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Model {model.key} updated.")
            return redirect("models_registry:model-detail", key=model.key)
    model = selectors.model_get_for_user(request.user, key)  # the form may have touched the instance
    return render(
        request,
        "models_registry/model_form.html",
        {"form": form, "model": model, "creating": False},
        status=400 if form.errors else 200,
    )


def _grant_action(request, obj, grant_service, detail_url):
    form = AccessGrantForm(request.POST)
    if form.is_valid():
        try:
            grant_service(request.user, obj, form.cleaned_data["user"], form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Access granted to {form.cleaned_data['user']}.")
    else:
        messages.error(request, "Choose a user and give a reason for the grant.")
    return redirect(detail_url)


@require_POST
def model_grant(request, key):
    model = selectors.model_get_for_user(request.user, key)
    if not perms.can_manage_access(request.user):
        raise PermissionDenied("Only compliance may grant access.")
    return _grant_action(request, model, services.model_grant_access, model_detail_url(model, "lineage"))


@require_POST
def model_revoke(request, key, grant_id):
    model = selectors.model_get_for_user(request.user, key)
    if not perms.can_manage_access(request.user):
        raise PermissionDenied("Only compliance may revoke access.")
    grant = get_object_or_404(ModelAccessGrant, pk=grant_id, model=model)
    try:
        services.model_revoke_access(request.user, grant, request.POST.get("reason", ""))
        messages.success(request, f"Access of {grant.user} revoked.")
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect(model_detail_url(model, "lineage"))


def model_detail_url(model, section: str = "") -> str:
    """The model page, opened on `section` (its first, the overview, when none is named)."""
    url = reverse("models_registry:model-detail", kwargs={"key": model.key})
    return f"{url}?section={section}" if section else url


# --- Versions -------------------------------------------------------------------------------------------


def version_detail(request, key, version):
    """The version page, one section at a time (issue 21)."""
    model = selectors.model_get_for_user(request.user, key)
    obj = selectors.version_get_for_user(request.user, model, version)
    section, status = _section(request, panels.VERSION_PAGE)
    context = {
        "model": model,
        "version": obj,
        "can_edit": not obj.is_frozen and perms.can(request.user, perms.ADD_VERSION, model),
    }
    if section.key == "overview":
        sources = selectors.version_sources(request.user, obj)
        context.update(
            training_sources=sources["training"],
            inference_sources=sources["inference"],
            hidden_training=sources["hidden_training"],
            hidden_inference=sources["hidden_inference"],
        )
    elif section.key == "history":
        context["timeline"] = _timeline(request, obj)
    # Lifecycle (overview), evidence, findings, validation runs (validation): registered by their apps.
    return _sectioned(
        request, "models_registry/version_detail.html", panels.VERSION_PAGE, obj, section, status, context
    )


def version_create(request, key):
    model = selectors.model_get_for_user(request.user, key)
    perms.require(request.user, perms.ADD_VERSION, model)
    form = ModelVersionForm(request.POST or None, user=request.user, instance=None)
    if request.method == "POST" and form.is_valid():
        try:
            obj = services.version_create(request.user, model, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Version {obj.version} registered as a draft.")
            return redirect("models_registry:version-detail", key=model.key, version=obj.version)
    return render(
        request,
        "models_registry/version_form.html",
        {"form": form, "model": model, "creating": True},
        status=400 if form.errors else 200,
    )


def version_update(request, key, version):
    model = selectors.model_get_for_user(request.user, key)
    obj = selectors.version_get_for_user(request.user, model, version)
    perms.require(request.user, perms.ADD_VERSION, model)
    if obj.is_frozen:
        messages.error(
            request,
            f"Version {obj.version} is {obj.get_status_display().lower()} and frozen; register a new version instead.",
        )
        return redirect("models_registry:version-detail", key=model.key, version=obj.version)
    form = ModelVersionForm(request.POST or None, user=request.user, instance=obj, links=list(obj.data_links.all()))
    if request.method == "POST" and form.is_valid():
        try:
            services.version_update(request.user, obj, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect("models_registry:version-detail", key=model.key, version=obj.version)
        else:
            messages.success(request, f"Version {obj.version} updated.")
            return redirect("models_registry:version-detail", key=model.key, version=obj.version)
    return render(
        request,
        "models_registry/version_form.html",
        {"form": form, "model": model, "version": obj, "creating": False},
        status=400 if form.errors else 200,
    )


# --- Data sources ---------------------------------------------------------------------------------------


def data_source_list(request):
    base = selectors.data_source_list(request.user)
    filterset = DataSourceFilterSet(request.GET or None, queryset=base, request=request)
    queryset, errors = _filtered(filterset, base)
    return render(
        request,
        "models_registry/datasource_list.html",
        {
            "filter": filterset,
            "page": _page(request, queryset),
            "querystring": _querystring_without_page(request),
            "filter_errors": errors,
        },
        status=400 if errors else 200,
    )


def _data_source(request, pk):
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("Not found.") from None
    return selectors.data_source_get_for_user(request.user, pk)


def data_source_detail(request, pk):
    source = _data_source(request, pk)
    can_manage = perms.can_manage_access(request.user)
    return render(
        request,
        "models_registry/datasource_detail.html",
        {
            "source": source,
            "models": selectors.models_using_data_source(request.user, source),
            "can_change": perms.can(request.user, perms.CHANGE, source),
            "can_manage_access": can_manage and source.is_restricted,
            "grants": source.access_grants.select_related("user", "granted_by", "revoked_by") if can_manage else None,
            "grant_form": AccessGrantForm() if can_manage else None,
            "timeline": _timeline(request, source),
        },
    )


def data_source_create(request):
    if not inventory_access.can_create_data_source(request.user):
        raise PermissionDenied("Your role may not register data sources.")
    form = DataSourceForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            source = services.data_source_create(request.user, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Data source {source.name} registered.")
            return redirect("models_registry:data-source-detail", pk=source.pk)
    return render(
        request,
        "models_registry/datasource_form.html",
        {"form": form, "creating": True},
        status=400 if form.errors else 200,
    )


def data_source_update(request, pk):
    source = _data_source(request, pk)
    perms.require(request.user, perms.CHANGE, source)
    form = DataSourceForm(request.POST or None, instance=source, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.data_source_update(request.user, source, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Data source updated.")
            return redirect("models_registry:data-source-detail", pk=source.pk)
    source = _data_source(request, pk)
    return render(
        request,
        "models_registry/datasource_form.html",
        {"form": form, "source": source, "creating": False},
        status=400 if form.errors else 200,
    )


@require_POST
def data_source_grant(request, pk):
    source = _data_source(request, pk)
    if not perms.can_manage_access(request.user):
        raise PermissionDenied("Only compliance may grant access.")
    return _grant_action(
        request,
        source,
        services.data_source_grant_access,
        reverse("models_registry:data-source-detail", kwargs={"pk": source.pk}),
    )


@require_POST
def data_source_revoke(request, pk, grant_id):
    source = _data_source(request, pk)
    if not perms.can_manage_access(request.user):
        raise PermissionDenied("Only compliance may revoke access.")
    grant = get_object_or_404(DataSourceAccessGrant, pk=grant_id, data_source=source)
    try:
        services.data_source_revoke_access(request.user, grant, request.POST.get("reason", ""))
        messages.success(request, f"Access of {grant.user} revoked.")
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect("models_registry:data-source-detail", pk=source.pk)


@require_POST
def model_risk_add(request, key):
    model = selectors.model_get_for_user(request.user, key)
    form = ModelRiskForm(request.POST, owners=_risk_team(model))
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
    else:
        try:
            risk_add(request.user, model, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_messages(request, exc)
        else:
            messages.success(request, "Risk recorded.")
    return redirect("models_registry:model-detail", key=key)
