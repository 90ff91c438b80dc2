"""The backfill page of a model: its owner and developers upload a CSV or Parquet file of past monitoring data;
whoever may see the model follows the recent uploads (status, progress, rows stored, the error)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from governance.core.exceptions import Conflict
from governance.core.forms_utils import add_service_errors
from models_registry import selectors as registry
from models_registry.models import ModelVersion
from risk.monitoring import backfill, services
from risk.monitoring.access import can_push
from risk.monitoring.models import BackfillUpload, IngestBatch

RECENT = 20
LIVE = (BackfillUpload.Status.QUEUED, BackfillUpload.Status.RUNNING)


class BackfillForm(forms.Form):
    kind = forms.ChoiceField(choices=IngestBatch.Kind.choices, label="Data")
    version = forms.ChoiceField(required=False, help_text="The version the data reports on.")
    file = forms.FileField(
        help_text="CSV (UTF-8, header line first) or Parquet, up to the size limit. Columns: points metric, "
        "timestamp, value; trades id, timestamp, instrument, side, quantity, price, pnl (and optionally "
        "expected_slippage, realised_slippage); predictions id, timestamp, prediction (optionally score) and one "
        "column per feature; outcomes id, outcome. Times in ISO 8601 with their zone."
    )

    def __init__(self, *args, model, **kwargs):
        super().__init__(*args, **kwargs)
        versions = ModelVersion.objects.filter(model=model, status__in=services.MONITORED).order_by("-id")
        self.fields["version"].choices = [("", "In production, else in pilot")] + [
            (v.version, f"{v.version} ({v.get_status_display().lower()})") for v in versions
        ]


def backfill_page(request, key):
    model = registry.model_get_for_user(request.user, key)
    may_upload = can_push(request.user, model)
    form = None
    if request.method == "POST":
        if not may_upload:
            raise PermissionDenied("Only the model's owner and developers report its monitoring data.")
        form = BackfillForm(request.POST, request.FILES, model=model)
        if form.is_valid():
            data = form.cleaned_data
            try:
                upload = backfill.backfill_upload(
                    request.user, model, data["file"], data["kind"], data["version"] or None
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except Conflict as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"{upload.original_name} uploaded: its {upload.kind} are being stored for {upload.version}.",
                )
                return redirect("monitoring_backfill:page", key=model.key)
        messages.error(request, "Nothing was uploaded: see the form below.")
    if may_upload and form is None:
        form = BackfillForm(model=model)
    uploads = list(BackfillUpload.objects.filter(model=model).select_related("version", "uploaded_by", "job")[:RECENT])
    for upload in uploads:
        upload.progress = (
            100 if upload.status == BackfillUpload.Status.SUCCEEDED else (upload.job.progress if upload.job_id else 0)
        )
    return render(
        request,
        "monitoring/backfill.html",
        {
            "model": model,
            "form": form if may_upload else None,
            "uploads": uploads,
            "running": any(u.status in LIVE for u in uploads),
            "max_mb": backfill.max_backfill_bytes() // (1024 * 1024),
            "max_batch": settings.VIGIL_MONITORING_MAX_BATCH,
        },
    )
