"""Authentication endpoint for machines: trading systems and pipelines exchange credentials for a token."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from governance.audit import audit_record


class TokenObtainView(ObtainAuthToken):
    """POST {username, password} -> {token}. Failed attempts are audited by the login-failed signal."""

    @extend_schema(
        request=AuthTokenSerializer,
        responses={200: inline_serializer("TokenResponse", {"token": serializers.CharField()})},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, created = Token.objects.get_or_create(user=user)
        audit_record(
            user,
            "auth.token_issued" if created else "auth.token_reused",
            user,
            object_type="auth.user",
            object_repr=user.get_username(),
        )
        return Response({"token": token.key})
