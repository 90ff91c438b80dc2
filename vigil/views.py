"""Site-wide error pages: JSON under /api/ (machines), HTML elsewhere (people)."""

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.defaults import page_not_found, server_error


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal error; it was logged. Nothing was half-saved."}, status=500)
    return server_error(request)


@login_not_required
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; send them to the icon (resolved at request time:
    the manifest of collected static files does not exist before collectstatic)."""
    return redirect(static("favicon.svg"), permanent=True)
