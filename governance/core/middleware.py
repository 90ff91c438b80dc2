"""Middleware that gives every request an id (echoed as X-Request-ID) for the audit trail and logs, that keeps API
answers and downloads out of every cache, and that ends the session of an auditor whose access window has closed."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect

from governance.core import access_window, request_context
from governance.core.audit import audit_record
from governance.core.client_address import client_ip


def request_id_for(incoming: str) -> str:
    """The request's id: the caller's X-Request-ID when it is short and printable, else a new one."""
    return incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_for(request.META.get("HTTP_X_REQUEST_ID", ""))
        request.request_id = request_id
        token = request_context.set_current(request_context.RequestContext(request_id, client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            request_context.reset(token)
        response["X-Request-ID"] = request_id
        return response


def allow_client_caching(response):
    """Let a response keep the Cache-Control its view set: the gate's decisions only (private, a second's max-age, an
    ETag), which trading systems poll many times a second and which say nothing a reader may lose the right to see."""
    response.vigil_client_cacheable = True
    return response


class NoStoreMiddleware:
    """API answers and file downloads hold governed records that a person may lose the right to see, and evidence a
    shared browser or proxy must not keep: none of them is stored by any cache (Cache-Control: no-store), whatever the
    view said, unless the view allowed client caching (`allow_client_caching`). Static files never come this far."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(response, "vigil_client_cacheable", False):
            return response
        download = response.get("Content-Disposition", "").lower().startswith("attachment")
        if download or request.path_info.startswith("/api/"):
            response["Cache-Control"] = "no-store"
        return response


class AccessWindowMiddleware:
    """An auditor's session outside their access window ends here, on its next request: a page goes back to the
    login page with the reason, an API call gets 401 with it. Tokens are refused in the token authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refused = access_window.refusal(request.user)
        if refused:
            user = request.user
            audit_record(
                user, "session.ended", user, object_type="auth.user", object_repr=user.get_username(), reason=refused
            )
            logout(request)
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": refused}, status=401)
            messages.error(request, refused)
            return redirect(settings.LOGIN_URL)
        return self.get_response(request)
