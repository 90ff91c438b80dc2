"""Incident pages: the log, reporting one, and an incident's page where it is worked on and closed."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from governance.core import access, panels
from governance.core.exceptions import Conflict
from governance.core.forms_utils import add_service_errors
from governance.core.selectors import object_timeline
from governance.lifecycle import workflow
from models_registry import selectors as registry
from models_registry.models import Model
from risk.incidents import access as incidents_access
from risk.incidents import selectors, services
from risk.incidents.filters import IncidentFilterSet
from risk.incidents.forms import (
    CloseForm,
    FindingForm,
    NoteForm,
    ReportForm,
    RevalidationForm,
    RollbackForm,
    UpdateForm,
)
from risk.incidents.models import Incident
from risk.validation.access import is_validator_of

PAGE = 50


def model_panel(request, model) -> dict | None:
    """The model page: its open incidents, and the way to report one."""
    return {
        "open_incidents": selectors.open_for_model(request.user, model),
        "report_url": f"/incidents/new/?model={model.key}" if services.can_report(request.user, model) else "",
    }


def incident_list(request):
    query = request.GET.copy()
    query.setdefault("status", "active")  # the page opens on what is still being worked on
    filterset = IncidentFilterSet(query, queryset=selectors.incident_list(request.user))
    incidents = filterset.qs if filterset.is_valid() else Incident.objects.none()
    status, severity = query.get("status", "active"), query.get("severity", "")
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
            "can_report": incidents_access.reports_incidents(request.user),
            "filter_errors": filterset.errors,
        },
        status=400 if filterset.errors else 200,
    )


def incident_new(request):
    if not incidents_access.reports_incidents(request.user):
        raise PermissionDenied("Auditors read incidents; those who work with the models report them.")
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


# The actions of an incident's page: the form that reads each, the service that does it, what the page says.
ACTIONS = {
    "update": (UpdateForm, services.incident_update, "{ref} updated."),
    "note": (NoteForm, services.incident_note, "Added to the timeline."),
    "close": (CloseForm, services.incident_close, "{ref} closed."),
    "rollback": (
        RollbackForm,
        services.incident_rollback,
        "{model} rolled back: see the timeline for the version now in use.",
    ),
    "revalidation": (RevalidationForm, services.incident_require_revalidation, "{model} is marked for revalidation."),
    "finding": (FindingForm, services.incident_raise_finding, "Finding raised and linked to the incident."),
}


def incident_detail(request, pk):
    incident = selectors.incident_get_for_user(request.user, pk)
    registry.model_get_for_user(request.user, incident.model.key)  # same scope; the model is shown
    can_work = services.can_work_on(request.user, incident)
    is_compliance = incidents_access.works_on_every_incident(request.user)
    is_validator = is_validator_of(request.user, incident.model)
    bound = {}
    action = request.POST.get("action") if request.method == "POST" else None
    if action in ACTIONS:
        form_class, service, done = ACTIONS[action]
        extra = {"model": incident.model} if form_class is FindingForm else {}
        form = bound[action] = form_class(request.POST, **extra)
        if form.is_valid():
            try:
                service(request.user, incident, **form.cleaned_data)  # each service checks who may
            except PermissionDenied as exc:
                form.add_error(None, str(exc))  # beside the form, keeping what was typed
            except ValidationError as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, done.format(ref=incident.reference, model=incident.model.key))
                return redirect("incidents:detail", pk=incident.pk)
        messages.error(request, "Nothing was changed: see the form below.")
    update_form, note_form, close_form = bound.get("update"), bound.get("note"), bound.get("close")
    rollback_form, revalidation_form, finding_form = (bound.get(k) for k in ("rollback", "revalidation", "finding"))
    rollback_to = None
    if incident.is_open:
        if update_form is not None or can_work:
            update_form = update_form or UpdateForm(initial=_current(incident))
            if incident.severity in services.SIGNED_CLOSURE and not is_compliance:
                # Only compliance lowers a high or critical incident: the others are offered only the same or higher.
                rank = services.RANK[incident.severity]
                choices = [c for c in Incident.Severity.choices if services.RANK[c[0]] >= rank]
                update_form.fields["severity"].choices = choices
        signed = incident.severity in services.SIGNED_CLOSURE
        may_close = can_work and (not signed or is_compliance)
        if may_close and close_form is None:
            close_form = CloseForm(
                initial={"root_cause": incident.root_cause, "corrective_actions": incident.corrective_actions}
            )
        if close_form is not None:
            if signed:
                close_form.fields["password"].required = True
                close_form.fields["password"].help_text = "Your password, to sign the closure."
            else:
                del close_form.fields["password"], close_form.fields["otp_token"]
        if services.can_report(request.user, incident.model):
            note_form = note_form or NoteForm()
        if is_compliance and incident.version_id and incident.version.status in ("production", "suspended"):
            rollback_form = rollback_form or RollbackForm()
            rollback_to = workflow.previous_production(incident.version)
        if (is_compliance or is_validator) and incident.model.revalidation_flag != "required":
            revalidation_form = revalidation_form or RevalidationForm()
        if is_validator and incident.version_id:
            finding_form = finding_form or FindingForm(model=incident.model)
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
            "rollback_form": rollback_form,
            "rollback_to": rollback_to,
            "revalidation_form": revalidation_form,
            "finding_form": finding_form,
            "findings": incident.findings.all(),
            "signed_closure": incident.severity in services.SIGNED_CLOSURE,
            "compliance_closes": incident.is_open and can_work and close_form is None,
            "revalidation_required": incident.model.revalidation_flag == "required",
            "timeline": object_timeline(request.user, incident),
            "record_panels": panels.build(panels.INCIDENT_PAGE, request, incident),
        },
    )


def _current(incident) -> dict:
    names = ("status", "severity", "impact_pnl", "impact_trades", "impact_clients", "root_cause", "corrective_actions")
    return {name: getattr(incident, name) for name in names}
