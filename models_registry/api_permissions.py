"""The API's default permission: signed in, and a service account only where an endpoint is marked for one of
its capabilities (`service_account_capability = "gate"` or `"push"` on the view)."""

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.permissions import IsAuthenticated

from governance.core import access_window, api_tokens
from governance.core.models import ApiToken
from models_registry import service_accounts


class ServiceAccountLimits(IsAuthenticated):
    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if service_accounts.account_of(request.user) is None:
            return True  # a person (a revoked account's token is gone: it never gets this far)
        capability = getattr(view, "service_account_capability", None)
        if capability is not None and service_accounts.may(request.user, capability):
            return True
        scope = service_accounts.account_of(request.user)
        allowed = [what for what, yes in (("read the gate", scope.gate), ("push monitoring data", scope.push)) if yes]
        self.message = f"This service account may {' and '.join(allowed)}, nothing else."
        return False


class TokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <secret>`: Vigil's hashed tokens (governance/core/api_tokens.py), found by digest in one
    query that also reads the user, whether they are a service account and their access window (reverse
    one-to-one joins), so asking costs a request nothing; a user with no window is not asked for their roles
    either (only auditors have one). An expired or revoked token is refused with why."""

    def authenticate_credentials(self, key):
        try:
            token = ApiToken.objects.select_related("user", "user__service_account", "user__profile").get(
                digest=api_tokens.digest(key)
            )
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        now = timezone.now()
        refused = api_tokens.refusal(token, now)
        if refused:
            raise exceptions.AuthenticationFailed(refused)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        profile = getattr(token.user, "profile", None)  # None: no profile row (the join found nothing)
        token.user._vigil_access_window = (profile.access_from, profile.access_until) if profile else (None, None)
        refused = access_window.refusal(token.user)
        if refused:
            raise exceptions.AuthenticationFailed(refused)
        api_tokens.mark_used(token, now)
        token.user._vigil_service_account_joined = True
        return (token.user, token)
