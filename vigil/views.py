"""Site-wide error pages: JSON under /api/ (machines), HTML elsewhere (people)."""

from django.http import JsonResponse
from django.views.defaults import page_not_found, server_error


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def error(request):
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Internal error; it was logged. Nothing was half-saved."}, status=500)
    return server_error(request)
