"""Export pages: ask for one, follow its job, download it; the signing key an auditor verifies packs with."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from governance.core import access
from governance.core.exceptions import Conflict
from governance.core.forms_utils import add_service_errors
from risk.exports import services, signing
from risk.exports.forms import AuditLogForm, EvidencePackForm, InventoryForm
from risk.exports.models import Export, SigningKey


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
        export.state = services.state(export)
    failed = form is not None and bool(form.errors)
    context = {
        "pack_form": forms[Export.Kind.EVIDENCE_PACK],
        "audit_form": forms[Export.Kind.AUDIT_LOG],
        "inventory_form": forms[Export.Kind.INVENTORY],
    }
    return render(request, "exports/list.html", {**context, "exports": exports}, status=400 if failed else 200)


def export_detail(request, pk):
    export = access.get_for_user(_mine(request.user), request.user, pk=pk)
    return render(
        request,
        "exports/detail.html",
        {"export": export, "state": services.state(export), "scope": services._shown(export.params)},
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
