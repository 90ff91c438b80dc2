"""The API's default permission: signed in, and a service account only where an endpoint is marked for one of
its capabilities (`service_account_capability = "gate"` or `"push"` on the view)."""

from rest_framework import authentication, exceptions
from rest_framework.permissions import IsAuthenticated

from governance.core import access_window
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
    """DRF's token authentication, reading in the same query whether the token's user is a service account and
    their access window (reverse one-to-one joins), so asking costs a request nothing; a user with no window is
    not asked for their roles either (only auditors have one)."""

    def authenticate_credentials(self, key):
        model = self.get_model()
        try:
            token = model.objects.select_related("user", "user__service_account", "user__profile").get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        profile = getattr(token.user, "profile", None)  # None: no profile row (the join found nothing)
        token.user._vigil_access_window = (profile.access_from, profile.access_until) if profile else (None, None)
        refused = access_window.refusal(token.user)
        if refused:
            raise exceptions.AuthenticationFailed(refused)
        token.user._vigil_service_account_joined = True
        return (token.user, token)
