"""The core's API: tokens for machines, and the audit trail with its verification."""

import django_filters.rest_framework
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from governance.core import access_window
from governance.core import selectors as gov_selectors
from governance.core.api import serializers as gs
from governance.core.api.parsers import SafeJSONParser
from governance.core.audit import audit_record, verify_chain
from governance.core.filters import AuditEventFilterSet
from governance.core.models import AuditEvent
from governance.core.redaction import redact_events


class TokenRequestSerializer(AuthTokenSerializer):
    """Usernames and passwords of sane length: an over-long username is a 400 before it reaches django-axes,
    whose failed-attempt record would overflow its column (a 500 on PostgreSQL)."""

    username = serializers.CharField(label="Username", write_only=True, max_length=150)
    password = serializers.CharField(
        label="Password", style={"input_type": "password"}, trim_whitespace=False, write_only=True, max_length=4096
    )


class TokenObtainView(ObtainAuthToken):
    """POST {username, password} -> {token}. Failed attempts are audited by the login-failed signal."""

    serializer_class = TokenRequestSerializer
    parser_classes = [FormParser, MultiPartParser, SafeJSONParser]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        refused = access_window.refusal(user)
        if refused:
            audit_record(
                user, "login.refused", user, object_type="auth.user", object_repr=user.get_username(), reason=refused
            )
            raise serializers.ValidationError({"non_field_errors": [refused]})
        token, created = Token.objects.get_or_create(user=user)
        audit_record(
            user,
            "auth.token_issued" if created else "auth.token_reused",
            user,
            object_type="auth.user",
            object_repr=user.get_username(),
        )
        return Response({"token": token.key})


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The append-only audit trail, newest first; filter by object, actor, action and time."""

    serializer_class = gs.AuditEventSerializer
    filterset_class = AuditEventFilterSet
    queryset = AuditEvent.objects.none()
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self):
        return gov_selectors.audit_event_list(self.request.user).order_by("-id")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        events = redact_events(request.user, page)  # names outside the reader's scope never leave Vigil
        return self.get_paginated_response(self.get_serializer(events, many=True).data)

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
