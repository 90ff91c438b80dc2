"""The API's default permission: signed in, and a service account only where an endpoint is marked for one of
its capabilities (`service_account_capability = "gate"` or `"push"` on the view)."""

from rest_framework.permissions import IsAuthenticated

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
