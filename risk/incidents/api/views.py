"""/api/v1/incidents/: report, read, work on and close incidents (thin views over services.py)."""

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core.single_line import MULTI_LINE
from models_registry import selectors as registry
from risk.incidents import selectors, services
from risk.incidents.filters import IncidentFilterSet
from risk.incidents.models import Incident


class EntrySerializer(serializers.Serializer):
    kind = serializers.CharField()
    author = serializers.CharField(source="author.username", allow_null=True, default=None)
    at = serializers.DateTimeField()
    text = serializers.CharField()
    result = serializers.IntegerField(source="result_id", allow_null=True)


class IncidentSerializer(serializers.ModelSerializer):
    reference = serializers.CharField()
    model = serializers.CharField(source="model.key")
    version = serializers.CharField(source="version.version", allow_null=True, default=None)
    reported_by = serializers.CharField(source="reported_by.username", allow_null=True, default=None)
    closed_by = serializers.CharField(source="closed_by.username", allow_null=True, default=None)
    monitor = serializers.IntegerField(source="monitor_id", allow_null=True)
    results = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    findings = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    entries = EntrySerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "reference",
            "model",
            "version",
            "title",
            "description",
            "severity",
            "status",
            "detected_by",
            "monitor",
            "reported_by",
            "opened_at",
            "updated_at",
            "impact_pnl",
            "impact_trades",
            "impact_clients",
            "root_cause",
            "corrective_actions",
            "post_incident_review",
            "closed_at",
            "closed_by",
            "results",
            "findings",
            "entries",
        ]


class ReportSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=100, help_text="The model's key.")
    version = serializers.CharField(required=False, max_length=50, help_text="Defaults to the version in use.")
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10000, style=MULTI_LINE)
    severity = serializers.ChoiceField(choices=Incident.Severity.choices)


class UpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=200)
    description = serializers.CharField(required=False, max_length=10000, style=MULTI_LINE)
    severity = serializers.ChoiceField(required=False, choices=Incident.Severity.choices)
    status = serializers.ChoiceField(required=False, choices=services.OPEN_STATUSES)
    impact_pnl = serializers.DecimalField(required=False, allow_null=True, max_digits=20, decimal_places=2)
    impact_trades = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)
    impact_clients = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)
    root_cause = serializers.CharField(required=False, allow_blank=True, max_length=10000, style=MULTI_LINE)
    corrective_actions = serializers.CharField(required=False, allow_blank=True, max_length=10000, style=MULTI_LINE)
    post_incident_review = serializers.CharField(required=False, allow_blank=True, max_length=20000, style=MULTI_LINE)
    note = serializers.CharField(required=False, allow_blank=True, max_length=10000, style=MULTI_LINE)


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10000, style=MULTI_LINE)


class CloseSerializer(serializers.Serializer):
    root_cause = serializers.CharField(max_length=10000, style=MULTI_LINE)
    corrective_actions = serializers.CharField(max_length=10000, style=MULTI_LINE)
    post_incident_review = serializers.CharField(required=False, allow_blank=True, max_length=20000, style=MULTI_LINE)
    password = serializers.CharField(
        required=False, allow_blank=True, max_length=200, write_only=True, help_text="High or critical: to sign."
    )
    otp_token = serializers.CharField(required=False, allow_blank=True, max_length=12, write_only=True)


def _detail(user, pk):
    return get_object_or_404(
        selectors.incident_list(user).prefetch_related("entries__author", "results", "findings"), pk=pk
    )


class IncidentListView(generics.ListAPIView):
    """Incidents on the models the caller may see, newest first; filter by model key, status, severity."""

    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet
    filter_backends = [DjangoFilterBackend]  # a bad filter is a 400 naming it (and never reaches the database)
    queryset = Incident.objects.none()

    def get_queryset(self):
        return selectors.incident_list(self.request.user).prefetch_related("entries__author", "results", "findings")

    @extend_schema(request=ReportSerializer, responses={201: IncidentSerializer})
    def post(self, request):
        data = ReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        model = registry.model_get_for_user(request.user, values["model"])
        version = None
        if values.get("version"):
            version = model.versions.filter(version=values["version"]).first()
            if version is None:
                raise serializers.ValidationError({"version": ["This model has no such version."]})
        incident = services.incident_report(
            request.user,
            model,
            title=values["title"],
            description=values["description"],
            severity=values["severity"],
            version=version,
        )
        return Response(IncidentSerializer(_detail(request.user, incident.pk)).data, status=status.HTTP_201_CREATED)


class IncidentDetailView(APIView):
    @extend_schema(responses=IncidentSerializer)
    def get(self, request, pk):
        return Response(IncidentSerializer(_detail(request.user, pk)).data)

    @extend_schema(request=UpdateSerializer, responses=IncidentSerializer)
    def patch(self, request, pk):
        return _act(request, pk, UpdateSerializer, services.incident_update)


def _act(request, pk, input_serializer, service, code=status.HTTP_200_OK, prepare=None):
    """One action on an incident: read it in the caller's scope (404 outside), check the input (400 by field),
    call the service (403, 409 as it decides), answer the incident as it now stands."""
    incident = _detail(request.user, pk)
    data = input_serializer(data=request.data)
    data.is_valid(raise_exception=True)
    values = dict(data.validated_data)
    service(request.user, incident, **(prepare(values) if prepare else values))
    return Response(IncidentSerializer(_detail(request.user, pk)).data, status=code)


class RollbackSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000, style=MULTI_LINE)


class RevalidationSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, style=MULTI_LINE)


class FindingSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=["high", "medium", "low"])
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10000, style=MULTI_LINE)
    owner = serializers.CharField(max_length=150, help_text="Username of the model's owner or one of its developers.")
    due_date = serializers.DateField()


def _finding_owner(values: dict) -> dict:
    from django.contrib.auth import get_user_model

    return values | {"owner": get_user_model().objects.filter(username=values["owner"]).first()}


class IncidentNoteView(APIView):
    @extend_schema(request=NoteSerializer, responses={201: IncidentSerializer})
    def post(self, request, pk):
        return _act(request, pk, NoteSerializer, services.incident_note, status.HTTP_201_CREATED)


class IncidentCloseView(APIView):
    @extend_schema(request=CloseSerializer, responses=IncidentSerializer)
    def post(self, request, pk):
        return _act(request, pk, CloseSerializer, services.incident_close)


class IncidentRollbackView(APIView):
    @extend_schema(request=RollbackSerializer, responses=IncidentSerializer)
    def post(self, request, pk):
        return _act(request, pk, RollbackSerializer, services.incident_rollback)


class IncidentRevalidationView(APIView):
    @extend_schema(request=RevalidationSerializer, responses=IncidentSerializer)
    def post(self, request, pk):
        return _act(request, pk, RevalidationSerializer, services.incident_require_revalidation)


class IncidentFindingView(APIView):
    @extend_schema(request=FindingSerializer, responses={201: IncidentSerializer})
    def post(self, request, pk):
        return _act(
            request, pk, FindingSerializer, services.incident_raise_finding, status.HTTP_201_CREATED, _finding_owner
        )
