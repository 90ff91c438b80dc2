"""Evidence over the API: list and upload (multipart) on a version; download each file as an attachment."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from models_registry import selectors as registry
from risk.validation import access as validation_access
from risk.validation import findings as finding_services
from risk.validation import plans, selectors, services
from risk.validation import runs as validation
from risk.validation.api import serializers as gs
from risk.validation.filters import FindingFilterSet
from risk.validation.models import Evidence, Finding, ValidationRun


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
        if not validation_access.can_read_evidence(request.user, obj):
            raise PermissionDenied("Your role does not read validation evidence.")
        items = selectors.evidence_of(obj)
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
        evidence = selectors.evidence_on_version(obj, pk)
        if evidence is None or not validation_access.can_read_evidence(request.user, obj):
            raise Http404
        return FileResponse(
            evidence.file.open("rb"),
            as_attachment=True,
            filename=evidence.original_name,
            content_type="application/octet-stream",
        )


# --- Validation plans and runs ------------------------------------------------------------------------


class ValidationPlanSerializer(serializers.Serializer):
    template = serializers.ChoiceField(choices=sorted(plans.TEMPLATES))
    tests = serializers.JSONField()
    options = serializers.JSONField(required=False)


class RunFigureSerializer(serializers.Serializer):
    metric = serializers.CharField()
    label = serializers.CharField()
    value = serializers.FloatField()
    unit = serializers.ChoiceField(
        choices=["percent", "count", "ratio"], required=False, help_text="percent: 0.12 is 12 %."
    )
    headline = serializers.BooleanField(help_text="One of the template's headline figures (listed first).")


class ValidationRunSerializer(serializers.ModelSerializer):
    metrics = RunFigureSerializer(
        many=True, read_only=True, help_text="Every figure the run computed, graded or not; headline figures first."
    )
    model = serializers.CharField(source="version.model.key", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    report_url = serializers.SerializerMethodField(help_text="Download of the PDF report once the run succeeded.")
    model_onnx = serializers.PrimaryKeyRelatedField(
        source="model", read_only=True, help_text="The model's ONNX file Vigil ran (`model` is the model's key)."
    )

    class Meta:
        model = ValidationRun
        fields = [
            "id",
            "model",
            "version",
            "dataset",
            "reference",
            "trial_returns",
            "prediction_log",
            "model_onnx",
            "attributions",
            "status",
            "progress",
            "metrics",
            "results",
            "error",
            "input_sha256",
            "attempts",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "plan_snapshot",
            "fingerprints",
            "charts",
            "report",
            "report_url",
        ]
        read_only_fields = fields

    def get_report_url(self, obj) -> str | None:
        if obj.report_id is None:
            return None
        v = obj.version
        return f"/api/v1/models/{v.model.key}/versions/{v.version}/evidence/{obj.report_id}/"


class RunRequestSerializer(serializers.Serializer):
    dataset = serializers.IntegerField(min_value=1, max_value=10**18, help_text="Id of an attached dataset.")
    reference = serializers.IntegerField(
        min_value=1, max_value=10**18, required=False, help_text="Id of the training sample (stability tests)."
    )
    trial_returns = serializers.IntegerField(
        min_value=1, max_value=10**18, required=False, help_text="Id of the trial-returns matrix (PBO)."
    )
    prediction_log = serializers.IntegerField(
        min_value=1,
        max_value=10**18,
        required=False,
        help_text="Id of the prediction log, when the plan tests a trading model as a classifier or regressor too.",
    )
    model_onnx = serializers.IntegerField(
        min_value=1,
        max_value=10**18,
        required=False,
        help_text="Id of the model as an ONNX file (kind model_onnx): Vigil runs it to re-perform the predictions.",
    )
    attributions = serializers.IntegerField(
        min_value=1,
        max_value=10**18,
        required=False,
        help_text="Id of the developer's feature attributions (kind attributions: SHAP values per row and feature).",
    )


# The API's names of run inputs the service names otherwise (a run's `model` is already the model's key there).
RUN_INPUTS = {"model_onnx": "model"}


class ValidationPlanView(APIView):
    """The version's validation plan: the saved one, or the template library's proposal."""

    @extend_schema(responses=ValidationPlanSerializer)
    def get(self, request, model_key, version):
        obj = _version(request, model_key, version)
        if not validation_access.can_read_evidence(request.user, obj):
            raise PermissionDenied("Your role does not read validation work.")
        plan = selectors.plan_of(obj)
        data = (
            {"template": plan.template, "tests": plan.tests, "options": plan.options}
            if plan
            else plans.proposed_plan(obj.model)
        )
        return Response(data)

    @extend_schema(request=ValidationPlanSerializer, responses=ValidationPlanSerializer)
    def put(self, request, model_key, version):
        obj = _version(request, model_key, version)
        serializer = ValidationPlanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = validation.plan_save(request.user, obj, **serializer.validated_data)
        return Response({"template": plan.template, "tests": plan.tests, "options": plan.options})


class ValidationRunListView(APIView):
    @extend_schema(responses=ValidationRunSerializer(many=True))
    def get(self, request, model_key, version):
        obj = _version(request, model_key, version)
        if not validation_access.can_read_evidence(request.user, obj):
            raise PermissionDenied("Your role does not read validation work.")
        runs = selectors.runs_of(obj)
        return Response(ValidationRunSerializer(runs, many=True).data)

    @extend_schema(request=RunRequestSerializer, responses={202: ValidationRunSerializer})
    def post(self, request, model_key, version):
        obj = _version(request, model_key, version)
        serializer = RunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        files = {}
        for field, pk in serializer.validated_data.items():
            files[field] = selectors.evidence_on_version(obj, pk)
            if files[field] is None:
                raise ValidationError({field: ["No such file is attached to this version."]})
        try:
            run = validation.run_start(request.user, obj, **{RUN_INPUTS.get(k, k): v for k, v in files.items()})
        except DjangoValidationError as exc:  # the service names its own fields; answer with the API's
            api_names = {v: k for k, v in RUN_INPUTS.items()}
            raise ValidationError({api_names.get(k, k): v for k, v in exc.message_dict.items()}) from None
        run = selectors.runs_of(obj).get(pk=run.pk)
        return Response(ValidationRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class ValidationRunDetailView(APIView):
    @extend_schema(responses=ValidationRunSerializer)
    def get(self, request, pk):
        return Response(ValidationRunSerializer(selectors.run_get_for_user(request.user, pk)).data)


class FindingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Validation findings on versions you can see. Validators raise them; owners remediate."""

    serializer_class = gs.FindingSerializer
    lookup_value_regex = r"[0-9]{1,18}"
    filterset_class = FindingFilterSet
    queryset = Finding.objects.none()
    ordering_fields = ["due_date", "severity", "raised_at"]
    search_fields = ["title", "description"]

    def get_queryset(self):
        return selectors.finding_list(self.request.user).order_by("due_date", "id")

    def _get(self, pk):
        try:
            return self.get_queryset().get(pk=pk)
        except Finding.DoesNotExist:
            raise Http404 from None

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self._get(pk)).data)

    @extend_schema(request=gs.FindingCreateSerializer, responses={201: gs.FindingSerializer})
    def create(self, request):
        serializer = gs.FindingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        model = registry.model_get_for_user(request.user, data.pop("model"))
        version = registry.version_get_for_user(request.user, model, data.pop("version"))
        owner = get_user_model().objects.filter(username=data.pop("owner"), is_active=True).first()
        run_id = data.pop("run", None)
        run = selectors.runs_of(version).filter(pk=run_id).first() if run_id else None
        if run_id and run is None:
            raise ValidationError({"run": "Choose a validation run of this version."})
        finding = finding_services.finding_raise(request.user, version, owner=owner, run=run, **data)
        return Response(self.get_serializer(finding).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=gs.FindingActionSerializer, responses=gs.FindingSerializer)
    @action(detail=True, methods=["post"])
    def actions(self, request, pk=None):
        finding = self._get(pk)
        serializer = gs.FindingActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        comment = data.get("comment", "")
        if data["action"] == "start_remediation":
            finding = finding_services.finding_start_remediation(request.user, finding, comment)
        elif data["action"] == "close":
            finding = finding_services.finding_close(request.user, finding, comment)
        else:
            finding = finding_services.finding_accept_risk(
                request.user,
                finding,
                justification=comment,
                password=data.get("password", ""),
                otp_token=data.get("otp_token", ""),
            )
        return Response(self.get_serializer(finding).data)
