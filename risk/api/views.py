"""Evidence over the API: list and upload (multipart) on a version; download each file as an attachment."""

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from models_registry import selectors as registry
from risk import services
from risk.models import Evidence


class EvidenceSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = [
            "id",
            "kind",
            "description",
            "original_name",
            "sha256",
            "size",
            "content_type",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        version = obj.version
        return f"/api/v1/models/{version.model.key}/versions/{version.version}/evidence/{obj.pk}/"


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=Evidence.Kind.choices)
    description = serializers.CharField(required=False, allow_blank=True, max_length=500)


def _version(request, model_key, version):
    version = registry.version_get_for_user(request.user, registry.model_get_for_user(request.user, model_key), version)
    return version


class EvidenceListView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=EvidenceSerializer(many=True))
    def get(self, request, model_key, version):
        obj = _version(request, model_key, version)
        if not services.can_read_evidence(request.user, obj):
            raise PermissionDenied("Your role does not read validation evidence.")
        items = Evidence.objects.filter(version=obj).select_related("uploaded_by", "version__model")
        return Response(EvidenceSerializer(items, many=True).data)

    @extend_schema(request={"multipart/form-data": EvidenceUploadSerializer}, responses={201: EvidenceSerializer})
    def post(self, request, model_key, version):
        obj = _version(request, model_key, version)
        serializer = EvidenceUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evidence = services.evidence_add(request.user, obj, **serializer.validated_data)
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)


class EvidenceFileView(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, model_key, version, pk):
        obj = _version(request, model_key, version)
        evidence = Evidence.objects.filter(pk=pk, version=obj).first()
        if evidence is None or not services.can_read_evidence(request.user, obj):
            raise Http404
        return FileResponse(
            evidence.file.open("rb"),
            as_attachment=True,
            filename=evidence.original_name,
            content_type="application/octet-stream",
        )
