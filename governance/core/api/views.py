"""The core's API: tokens for machines, and the audit trail with its verification."""

import django_filters.rest_framework
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django_otp import devices_for_user, match_token
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core import access_window, api_tokens
from governance.core import selectors as gov_selectors
from governance.core.api import serializers as gs
from governance.core.api.parsers import SafeJSONParser
from governance.core.audit import audit_record, verify_chain
from governance.core.filters import AuditEventFilterSet
from governance.core.models import AuditEvent
from governance.core.redaction import redact_events


class TokenRequestSerializer(serializers.Serializer):
    """Usernames and passwords of sane length: an over-long username is a 400 before it reaches django-axes,
    whose failed-attempt record would overflow its column (a 500 on PostgreSQL)."""

    username = serializers.CharField(label="Username", write_only=True, max_length=150)
    password = serializers.CharField(
        label="Password", style={"input_type": "password"}, trim_whitespace=False, write_only=True, max_length=4096
    )
    otp_token = serializers.CharField(
        label="One-time code",
        help_text="The current code of your authenticator; required when you have one.",
        required=False,
        allow_blank=True,
        write_only=True,
        max_length=16,
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The secret, shown this once: Vigil keeps only its hash.")
    prefix = serializers.CharField(help_text="Its first characters, as your tokens page lists it.")
    expires_at = serializers.DateTimeField()


def _has_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


class TokenObtainView(APIView):
    """POST {username, password, otp_token} -> a NEW token, shown once. Throttled as the login page is (django-axes: a
    wrong password or one-time code counts as a failed attempt; a locked-out name and address get 429). Failed
    attempts are audited by the login-failed signal; each token issued is audited."""

    authentication_classes = []
    permission_classes = []
    parser_classes = [FormParser, MultiPartParser, SafeJSONParser]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            429: OpenApiResponse(
                inline_serializer("LockedOut", {"detail": serializers.CharField()}),
                description="Too many failed attempts from this address for this name (Retry-After says how long).",
            ),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username, password = serializer.validated_data["username"], serializer.validated_data["password"]
        user = authenticate(request=request, username=username, password=password)
        if getattr(request, "axes_locked_out", False):
            return self._locked_out(request)
        if user is None:
            raise serializers.ValidationError({"non_field_errors": ["Unable to log in with provided credentials."]})
        if _has_device(user):
            code = serializer.validated_data.get("otp_token", "")
            if not code or match_token(user, code) is None:
                # As a wrong password: counted by django-axes towards the lockout, and audited.
                user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
                raise serializers.ValidationError({"otp_token": ["Enter the current code from your authenticator."]})
        refused = access_window.refusal(user)
        if refused:
            audit_record(
                user, "login.refused", user, object_type="auth.user", object_repr=user.get_username(), reason=refused
            )
            raise serializers.ValidationError({"non_field_errors": [refused]})
        token, key = api_tokens.person_token_issue(user)
        return Response(
            TokenResponseSerializer({"token": key, "prefix": token.prefix, "expires_at": token.expires_at}).data
        )

    @staticmethod
    def _locked_out(request):
        minutes = max(1, round(settings.AXES_COOLOFF_TIME * 60))
        return Response(
            {"detail": f"Too many failed attempts: this account is locked from your address for {minutes} minutes."},
            status=429,
            headers={"Retry-After": str(minutes * 60)},
        )


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
