"""Incident pages: the log, reporting one, and an incident's page where it is worked on and closed."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from governance.core import access
from governance.core.exceptions import Conflict
from governance.core.forms_utils import add_service_errors
from governance.core.selectors import object_timeline
from models_registry import selectors as registry
from models_registry.models import Model
from risk.incidents import selectors, services
from risk.incidents.forms import CloseForm, NoteForm, ReportForm, UpdateForm
from risk.incidents.models import Incident

PAGE = 50


def model_panel(request, model) -> dict | None:
    """The model page: its open incidents, and the way to report one."""
    return {
        "open_incidents": selectors.open_for_model(request.user, model),
        "report_url": f"/incidents/new/?model={model.key}",
    }


def incident_list(request):
    incidents = selectors.incident_list(request.user)
    status, severity = request.GET.get("status", "open"), request.GET.get("severity", "")
    if status == "open":
        incidents = incidents.filter(status__in=services.OPEN_STATUSES)
    elif status in Incident.Status.values:
        incidents = incidents.filter(status=status)
    if severity in Incident.Severity.values:
        incidents = incidents.filter(severity=severity)
    page = Paginator(incidents, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "incidents/list.html",
        {
            "page": page,
            "status": status,
            "severity": severity,
            "statuses": Incident.Status.choices,
            "severities": Incident.Severity.choices,
        },
    )


def incident_new(request):
    form = ReportForm(request.POST or None, initial={"model": request.GET.get("model", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        model = access.restrict(Model.objects.all(), request.user).filter(key=data["model"].strip()).first()
        if model is None:
            form.add_error("model", "No model you may see has this key.")
        else:
            try:
                incident = services.incident_report(
                    request.user, model, title=data["title"], description=data["description"], severity=data["severity"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{incident.reference} reported; the model's team and compliance are told.")
                return redirect("incidents:detail", pk=incident.pk)
    if request.method == "POST":
        messages.error(request, "Nothing was reported: see the form below.")
    keys = access.restrict(Model.objects.order_by("key"), request.user).values_list("key", flat=True)
    return render(request, "incidents/new.html", {"form": form, "model_keys": list(keys)})


def incident_detail(request, pk):
    incident = selectors.incident_get_for_user(request.user, pk)
    registry.model_get_for_user(request.user, incident.model.key)  # same scope; the model is shown
    can_work = services.can_work_on(request.user, incident)
    update_form = note_form = close_form = None
    action = request.POST.get("action") if request.method == "POST" else None
    if action:
        try:
            if action == "update":
                if not can_work:
                    raise PermissionDenied("The model's owner and developers, and compliance, work on its incidents.")
                update_form = UpdateForm(request.POST)
                if update_form.is_valid():
                    services.incident_update(request.user, incident, **update_form.cleaned_data)
                    messages.success(request, f"{incident.reference} updated.")
                    return redirect("incidents:detail", pk=incident.pk)
            elif action == "note":
                note_form = NoteForm(request.POST)
                if note_form.is_valid():
                    services.incident_note(request.user, incident, note_form.cleaned_data["text"])
                    messages.success(request, "Added to the timeline.")
                    return redirect("incidents:detail", pk=incident.pk)
            elif action == "close":
                close_form = CloseForm(request.POST)
                if close_form.is_valid():
                    services.incident_close(request.user, incident, **close_form.cleaned_data)
                    messages.success(request, f"{incident.reference} closed.")
                    return redirect("incidents:detail", pk=incident.pk)
        except ValidationError as exc:
            form = {"update": update_form, "note": note_form, "close": close_form}[action]
            add_service_errors(form, exc)
        except Conflict as exc:
            messages.error(request, str(exc))
        messages.error(request, "Nothing was changed: see the form below.")
    if incident.is_open:
        if can_work and update_form is None:
            update_form = UpdateForm(
                initial={
                    name: getattr(incident, name)
                    for name in (
                        "status",
                        "severity",
                        "impact_pnl",
                        "impact_trades",
                        "impact_clients",
                        "root_cause",
                        "corrective_actions",
                    )
                }
            )
        if can_work and close_form is None:
            close_form = CloseForm(
                initial={"root_cause": incident.root_cause, "corrective_actions": incident.corrective_actions}
            )
        note_form = note_form or NoteForm()
    entries = incident.entries.select_related("author", "result")
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "entries": entries,
            "update_form": update_form,
            "note_form": note_form,
            "close_form": close_form,
            "signed_closure": incident.severity in services.SIGNED_CLOSURE,
            "timeline": object_timeline(request.user, incident),
        },
    )
