"""Lifecycle transitions, findings and the audit trail over the API. Thin: serializers in, services out."""

import django_filters.rest_framework
from django.contrib.auth import get_user_model
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import findings as finding_services
from governance import selectors as gov_selectors
from governance import workflow
from governance.api import serializers as gs
from governance.audit import audit_record, verify_chain
from governance.filters import AuditEventFilterSet, FindingFilterSet
from governance.models import AuditEvent, Finding
from models_registry import selectors as registry


def _state(user, version) -> dict:
    return {
        "model": version.model.key,
        "version": version.version,
        "status": version.status,
        "history": gs.TransitionSerializer(workflow.version_history(version), many=True).data,
        "available_actions": gs.AvailableActionSerializer(workflow.available_actions(user, version), many=True).data,
    }


class VersionTransitionView(APIView):
    """The lifecycle of one version: GET its history and what you may do; POST an action."""

    @extend_schema(responses=gs.TransitionStateSerializer)
    def get(self, request, model_key, version):
        obj = registry.version_get_for_user(request.user, registry.model_get_for_user(request.user, model_key), version)
        return Response(_state(request.user, obj))

    @extend_schema(request=gs.TransitionRequestSerializer, responses=gs.TransitionStateSerializer)
    def post(self, request, model_key, version):
        obj = registry.version_get_for_user(request.user, registry.model_get_for_user(request.user, model_key), version)
        serializer = gs.TransitionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        moved = workflow.version_transition(request.user, obj, data.pop("action"), **data)
        return Response(_state(request.user, moved))


class FindingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Validation findings on versions you can see. Validators raise them; owners remediate."""

    serializer_class = gs.FindingSerializer
    lookup_value_regex = r"[0-9]{1,18}"
    filterset_class = FindingFilterSet
    queryset = Finding.objects.none()
    ordering_fields = ["due_date", "severity", "raised_at"]
    search_fields = ["title", "description"]

    def get_queryset(self):
        return finding_services.finding_list(self.request.user).order_by("due_date", "id")

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
        finding = finding_services.finding_raise(request.user, version, owner=owner, **data)
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


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The append-only audit trail, newest first; filter by object, actor, action and time."""

    serializer_class = gs.AuditEventSerializer
    filterset_class = AuditEventFilterSet
    queryset = AuditEvent.objects.none()
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self):
        return gov_selectors.audit_event_list(self.request.user).order_by("-id")

    @extend_schema(responses=gs.ChainReportSerializer)
    @action(detail=False, methods=["get"])
    def verify(self, request):
        if not gov_selectors.can_verify_chain(request.user):
            raise PermissionDenied("Only compliance, auditors and administrators verify the whole chain.")
        report = verify_chain()
        audit_record(
            request.user,
            "audit.verify",
            None,
            object_type="governance.auditevent",
            object_id="",
            object_repr="audit chain",
            changes={"intact": [None, report.intact]},
        )
        return Response(gs.ChainReportSerializer(report.__dict__).data)
