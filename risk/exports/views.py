"""Export pages: ask for one, follow its job, download it; the signing key an auditor verifies packs with; the
firm-wide audit trail page and its CSV (here because its model picker, its object links and the audit log's CSV
rows are this layer's to use: governance.core imports neither models_registry nor risk)."""

import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from governance.core import access
from governance.core.audit import holds
from governance.core.exceptions import Conflict
from governance.core.forms_utils import add_service_errors
from governance.core.models import Signature
from governance.core.redaction import redact_events
from governance.core.selectors import with_full_names
from governance.core.templatetags.vigil_panels import audit_action
from risk.exports import audit_log, selectors, self_assessment, services, signing
from risk.exports import supervisor_packs as packs
from risk.exports.access import prepares_self_assessment, reads_self_assessments
from risk.exports.forms import (
    ALGORITHMIC_MODELS,
    MODELS,
    QUARTERS,
    VERSIONS,
    AuditLogForm,
    AuditTrailFilterForm,
    BoardPackForm,
    EvidencePackForm,
    InventoryForm,
    MifidForm,
    PrepareSelfAssessmentForm,
    Rts6Form,
    SignSelfAssessmentForm,
    recent_quarters,
)
from risk.exports.models import Export, SelfAssessment, SigningKey


def _mine(user):
    return access.restrict(Export.objects.select_related("job"), user)


def export_list(request):
    today = timezone.now().date()
    posted = request.POST.get("kind") if request.method == "POST" else None
    forms = {
        Export.Kind.EVIDENCE_PACK: EvidencePackForm(
            request.POST if posted == Export.Kind.EVIDENCE_PACK else None,
            initial={"model": request.GET.get("model", ""), "version": request.GET.get("version", "")},
        ),
        Export.Kind.AUDIT_LOG: AuditLogForm(
            request.POST if posted == Export.Kind.AUDIT_LOG else None,
            initial={"since": today.replace(day=1).isoformat(), "until": today.isoformat()},
        ),
        Export.Kind.INVENTORY: InventoryForm(request.POST if posted == Export.Kind.INVENTORY else None),
        Export.Kind.MIFID_17_2: MifidForm(request.POST if posted == Export.Kind.MIFID_17_2 else None),
        Export.Kind.RTS6_SELF_ASSESSMENT: Rts6Form(
            request.POST if posted == Export.Kind.RTS6_SELF_ASSESSMENT else None,
            initial={"year": timezone.now().year},
        ),
        Export.Kind.MRM_REPORT: BoardPackForm(request.POST if posted == Export.Kind.MRM_REPORT else None, request.user),
    }
    form = forms.get(posted)
    if form is not None and form.is_valid():
        try:
            export = services.export_request(request.user, posted, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Http404:
            form.add_error("model", "No model you may see has this key.")
        else:
            messages.success(request, f"{export.reference} is being prepared; this page follows it.")
            return redirect("exports:detail", pk=export.pk)
    exports = list(_mine(request.user)[:50])
    for export in exports:
        export.state, export.covers = services.state(export), services.covers(export)
    failed = form is not None and bool(form.errors)
    context = {
        "failed_kind": Export.Kind(posted).label if failed else "",
        "pack_form": forms[Export.Kind.EVIDENCE_PACK],
        "audit_form": forms[Export.Kind.AUDIT_LOG],
        "inventory_form": forms[Export.Kind.INVENTORY],
        "mifid_form": forms[Export.Kind.MIFID_17_2],
        "rts6_form": forms[Export.Kind.RTS6_SELF_ASSESSMENT] if access.sees_everything(request.user) else None,
        "board_form": forms[Export.Kind.MRM_REPORT],
        "reads_assessments": reads_self_assessments(request.user),
        "pickers": {
            MODELS: selectors.model_choices(request.user),
            ALGORITHMIC_MODELS: selectors.model_choices(request.user, algorithmic=True),
            VERSIONS: selectors.version_choices(request.user),
            QUARTERS: recent_quarters(today),
        },
    }
    return render(request, "exports/list.html", {**context, "exports": exports}, status=400 if failed else 200)


def export_detail(request, pk):
    export = access.get_for_user(_mine(request.user), request.user, pk=pk)
    return render(
        request,
        "exports/detail.html",
        {
            "export": export,
            "state": services.state(export),
            "covers": services.covers(export),
            "scope": services._shown(export.params),
        },
    )


def export_download(request, pk):
    export = access.get_for_user(_mine(request.user), request.user, pk=pk)
    try:
        handle = services.open_for_download(request.user, export)
    except Conflict as exc:
        messages.error(request, str(exc))
        return redirect("exports:detail", pk=export.pk)
    response = FileResponse(handle, as_attachment=True, filename=export.file_name, content_type=export.content_type)
    response["X-Vigil-SHA256"] = export.sha256
    return response


def signing_key(request):
    key = signing.current()
    return render(
        request,
        "exports/signing_key.html",
        {
            "key": key,
            "namespace": signing.NAMESPACE,
            "allowed_signers": signing.allowed_signers_line(key),
            "earlier": SigningKey.objects.exclude(pk=key.pk),
        },
    )


def _assessment_readers(user) -> None:
    """Compliance, auditors and senior managers read self-assessments; to anyone else they do not exist."""
    if not reads_self_assessments(user):
        raise Http404("Not found.")


def self_assessments(request):
    _assessment_readers(request.user)
    form = PrepareSelfAssessmentForm(request.POST or None, initial={"year": timezone.now().year})
    if request.method == "POST" and form.is_valid():
        try:
            assessment = self_assessment.prepare(
                request.user, form.cleaned_data["year"], form.cleaned_data["conclusion"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"The {assessment.year} self-assessment is prepared: its figures are frozen.")
            return redirect("exports:self-assessment", year=assessment.year)
    assessments = list(SelfAssessment.objects.select_related("prepared_by"))
    for assessment in assessments:
        assessment.state = packs.assessment_state(assessment)
    return render(
        request,
        "exports/self_assessments.html",
        {"assessments": assessments, "form": form, "may_prepare": prepares_self_assessment(request.user)},
        status=400 if form.errors else 200,
    )


def self_assessment_detail(request, year):
    _assessment_readers(request.user)
    assessment = (
        SelfAssessment.objects.filter(year=year)
        .select_related("prepared_by", "compliance_signature", "senior_signature")
        .first()
    )
    if assessment is None:
        raise Http404("Not found.")
    form = SignSelfAssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            self_assessment.sign(request.user, assessment, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except (Conflict, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"You signed the {assessment.year} self-assessment.")
            return redirect("exports:self-assessment", year=assessment.year)
    try:
        meaning, _ = self_assessment.next_sign_off(request.user, assessment)
        may_sign = Signature.Meaning(meaning).label
    except (Conflict, PermissionDenied) as exc:
        may_sign, why_not = None, str(exc)
    else:
        why_not = ""
    return render(
        request,
        "exports/self_assessment_detail.html",
        {
            "assessment": assessment,
            "state": packs.assessment_state(assessment),
            "figures": assessment.figures,
            "totals": {
                "tests": len(assessment.figures.get("kill-switch-tests", [])),
                "incidents": len(assessment.figures.get("incidents", [])),
                "breaches": len(assessment.figures.get("limit-breaches", [])),
                "validations": len(assessment.figures.get("validations", [])),
            },
            "form": form,
            "may_sign": may_sign,
            "why_not": why_not,
        },
        status=400 if form.errors else 200,
    )


def queue_panel(request, _obj) -> dict | None:
    """My queue: the self-assessments waiting for this person's sign-off (compliance first, then a senior manager)."""
    waiting = self_assessment.awaiting(request.user)
    return {"self_assessments": waiting} if waiting else None


# --- The audit trail page: the firm-wide trail for compliance and auditors, filtered, paged, downloadable -------

AUDIT_PAGE = 50


def _audit_trail_form(request) -> AuditTrailFilterForm:
    """The filters as the query string gives them, with their choices; 403 for anyone who may not read the trail."""
    if not access.can_read_audit_trail(request.user):
        raise PermissionDenied("The firm-wide audit trail is for compliance and auditors.")
    return AuditTrailFilterForm(
        request.GET,
        models=selectors.model_choices(request.user),
        people=selectors.audit_people(),
        actions=[(action, f"{audit_action(action)} ({action})") for action in selectors.audit_actions()],
        no_one=selectors.NO_ONE,
    )


def audit_trail(request):
    form = _audit_trail_form(request)
    page, events = None, []
    if form.is_valid():
        found = selectors.audit_trail(request.user, **form.cleaned_data)
        page = Paginator(found, AUDIT_PAGE).get_page(request.GET.get("page"))
        events = list(page.object_list)
        for event in events:  # checked as recorded, before names are redacted or people named in full
            event.holds = holds(event, event.preceding_hash)
        links = selectors.audit_object_links(request.user, events)
        for event in with_full_names(redact_events(request.user, events)):
            event.link = links.get(event.id, "")
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "events": events,
        "broken": sum(1 for event in events if not event.holds),
        "querystring": query.urlencode(),
    }
    return render(request, "exports/audit_trail.html", context, status=200 if page else 400)


def audit_trail_download(request):
    """The rows the page lists with the same filters, newest first, as the audit log export writes them (its columns,
    its neutralising writer), streamed; the filters are named in the file name."""
    form = _audit_trail_form(request)
    if not form.is_valid():
        return render(request, "exports/audit_trail.html", {"form": form, "page": None}, status=400)
    found = selectors.audit_trail(request.user, **form.cleaned_data)
    newest = found.values_list("id", flat=True).first()
    services.audit_trail_download(request.user, form.cleaned_data, newest)
    rows = (
        audit_log.row_of(event, holds(event, event.preceding_hash))
        for event in found.filter(id__lte=newest or 0).select_related(None).iterator(chunk_size=2000)
    )
    response = StreamingHttpResponse(audit_log.csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_trail_file_name(form.cleaned_data)}"'
    return response


def _trail_file_name(filters: dict) -> str:
    """vigil-audit-trail_model-alpha_person-compliance_from-2026-11-01_to-2026-11-30.csv: the filters it holds."""
    named = {"model": "model", "person": "person", "action": "action", "since": "from", "until": "to"}
    parts = [f"{label}-{filters[name]}" for name, label in named.items() if filters.get(name)]
    name = "_".join(["vigil-audit-trail", *parts])
    return re.sub(r"[^A-Za-z0-9._@+-]", "_", name)[:200] + ".csv"
