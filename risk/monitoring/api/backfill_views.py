"""Backfills over the API: upload a CSV or Parquet file of past monitoring data (202: stored as a job), then
follow its progress."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from models_registry import selectors as registry
from risk.monitoring import backfill
from risk.monitoring.access import can_push
from risk.monitoring.models import BackfillUpload, IngestBatch


class BackfillUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV (UTF-8, with a header line) or Parquet. Columns by kind: points metric, timestamp, value; "
        "trades id, timestamp, instrument, side, quantity, price, pnl [, expected_slippage, realised_slippage]; "
        "predictions id, timestamp, prediction [, score] and one column per feature; outcomes id, outcome."
    )
    kind = serializers.ChoiceField(choices=IngestBatch.Kind.choices)
    version = serializers.CharField(
        required=False, max_length=50, help_text="Defaults to the version in production, else pilot."
    )


class BackfillSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.key")
    version = serializers.CharField(source="version.version")
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    job = serializers.IntegerField(source="job_id", allow_null=True, help_text="The job that stores the file.")
    progress = serializers.SerializerMethodField(help_text="Percent of the file's rows read.")
    rows_total = serializers.IntegerField(
        allow_null=True, help_text="Parquet: from its metadata; CSV: counted by lines until the job has read it."
    )
    error = serializers.CharField(help_text="Why it failed: the file's rows (from 1, after the header) and fields.")

    class Meta:
        model = BackfillUpload
        fields = [
            "id",
            "model",
            "version",
            "kind",
            "original_name",
            "format",
            "size",
            "sha256",
            "status",
            "progress",
            "rows_total",
            "rows_stored",
            "error",
            "uploaded_by",
            "uploaded_at",
            "finished_at",
            "job",
        ]
        read_only_fields = fields

    def get_progress(self, upload) -> int:
        if upload.status == BackfillUpload.Status.SUCCEEDED:
            return 100
        return upload.job.progress if upload.job_id else 0


class BackfillListView(APIView):
    parser_classes = [MultiPartParser, FormParser]
    service_account_capability = "push"

    @extend_schema(
        request={"multipart/form-data": BackfillUploadSerializer},
        responses={202: BackfillSerializer},
        description="Upload past monitoring data of one kind as a file; it is stored by a job in chunks of at most "
        "VIGIL_MONITORING_MAX_BATCH rows through the same checks as the batch endpoints. Follow it at the URL of "
        "the upload.",
    )
    def post(self, request, model_key):
        model = registry.model_get_for_user(request.user, model_key)
        if not can_push(request.user, model):
            raise PermissionDenied("Only the model's owner and developers report its monitoring data.")
        serializer = BackfillUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = backfill.backfill_upload(request.user, model, data["file"], data["kind"], data.get("version"))
        return Response(BackfillSerializer(upload).data, status=status.HTTP_202_ACCEPTED)


class BackfillDetailView(APIView):
    @extend_schema(responses=BackfillSerializer)
    def get(self, request, model_key, pk):
        """A backfill's status and progress: whoever may see the model reads it, as its monitoring data."""
        model = registry.model_get_for_user(request.user, model_key)
        upload = (
            BackfillUpload.objects.select_related("model", "version", "uploaded_by", "job")
            .filter(model=model, pk=pk)
            .first()
        )
        if upload is None:
            raise NotFound("Not found.")
        return Response(BackfillSerializer(upload).data)
