"""/api/v1/exports/: ask for an export (202, a job), follow it, download it; the signing key's public half."""

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core import access, moments
from risk.exports import services, signing
from risk.exports.models import Export, SigningKey


class ExportSerializer(serializers.ModelSerializer):
    reference = serializers.CharField()
    status = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    scope = serializers.SerializerMethodField()
    covers = serializers.SerializerMethodField(help_text="What it covers, in words (model, version, period, year).")

    class Meta:
        model = Export
        fields = [
            "id",
            "reference",
            "kind",
            "status",
            "progress",
            "error",
            "scope",
            "covers",
            "file_name",
            "sha256",
            "size",
        ]
        fields += ["rows", "summary", "created_at", "finished_at", "expires_at", "download_url"]

    def get_status(self, export) -> str:
        return services.state(export)

    def get_progress(self, export) -> int:
        return export.job.progress if export.job_id else 0

    def get_error(self, export) -> str:
        return export.job.error if export.job_id else ""

    def get_scope(self, export) -> dict:
        return services._shown(export.params)

    def get_covers(self, export) -> str:
        return services.covers(export)

    def get_download_url(self, export) -> str | None:
        if services.state(export) != "succeeded":
            return None
        return reverse("api:export-download", kwargs={"pk": export.pk})


class RequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Export.Kind.choices)
    since = serializers.CharField(
        required=False,
        max_length=40,
        help_text=f"ISO 8601 date or date-time (UTC), {moments.RANGE_TEXT}; board pack: the period's first day.",
    )
    until = serializers.CharField(
        required=False,
        max_length=40,
        help_text=f"ISO 8601; a date alone includes it; {moments.RANGE_TEXT}; board pack: its last day (included).",
    )
    model = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="A model's key.")
    version = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="Evidence pack: the version's label."
    )
    actor = serializers.CharField(required=False, allow_blank=True, max_length=150, help_text="A username.")
    action = serializers.CharField(required=False, allow_blank=True, max_length=60, help_text="An action prefix.")
    as_of = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text=f"Inventory: the moment to rebuild (ISO 8601), {moments.RANGE_TEXT}.",
    )
    year = serializers.IntegerField(
        required=False, min_value=1970, max_value=9999, help_text="RTS 6 self-assessment: the year."
    )
    format = serializers.ChoiceField(choices=["csv", "xlsx"], required=False, help_text="Inventory: csv or xlsx.")
    quarter = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=7,
        help_text="Board pack: a quarter (2026-Q3) instead of since and until (the running quarter stops today).",
    )
    desk = serializers.CharField(
        required=False, allow_blank=True, max_length=50, help_text="Board pack: a desk's code."
    )
    business_unit = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Board pack: a desk's business line."
    )
    tier = serializers.IntegerField(required=False, allow_null=True, help_text="Board pack: a risk tier.")
    model_type = serializers.CharField(
        required=False, allow_blank=True, max_length=50, help_text="Board pack: a model type's code."
    )


def _mine(user):
    return access.restrict(Export.objects.select_related("job"), user)


class ExportListView(generics.ListAPIView):
    """The caller's exports, newest first."""

    serializer_class = ExportSerializer
    queryset = Export.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        return _mine(self.request.user)

    @extend_schema(request=RequestSerializer, responses={202: ExportSerializer})
    def post(self, request):
        data = RequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        export = services.export_request(request.user, values.pop("kind"), **values)
        return Response(ExportSerializer(_mine(request.user).get(pk=export.pk)).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailView(APIView):
    @extend_schema(responses=ExportSerializer)
    def get(self, request, pk):
        return Response(ExportSerializer(access.get_for_user(_mine(request.user), request.user, pk=pk)).data)


class ExportDownloadView(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(description="The file, as hashed.")})
    def get(self, request, pk):
        export = access.get_for_user(_mine(request.user), request.user, pk=pk)
        handle = services.open_for_download(request.user, export)
        response = FileResponse(handle, as_attachment=True, filename=export.file_name, content_type=export.content_type)
        response["X-Vigil-SHA256"] = export.sha256
        return response


class SigningKeySerializer(serializers.Serializer):
    public_key = serializers.CharField(help_text="OpenSSH form.")
    fingerprint = serializers.CharField()
    namespace = serializers.CharField(help_text="The -n of ssh-keygen -Y verify.")
    allowed_signers = serializers.CharField(help_text="The line for an allowed_signers file (identity: vigil).")
    earlier_keys = serializers.ListField(child=serializers.CharField(), help_text="Keys used before a rotation.")


class SigningKeyView(APIView):
    """The public key exports are signed with, and the keys used before it (old packs still verify)."""

    @extend_schema(responses=SigningKeySerializer)
    def get(self, request):
        key = signing.current()
        earlier = SigningKey.objects.exclude(pk=key.pk).values_list("public_key", flat=True)
        return Response(
            {
                "public_key": key.public_key,
                "fingerprint": key.fingerprint,
                "namespace": signing.NAMESPACE,
                "allowed_signers": signing.allowed_signers_line(key),
                "earlier_keys": list(earlier),
            }
        )
