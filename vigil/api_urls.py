"""The API root: each app owns its api/urls.py; all of them share the "api" namespace under /api/v1/."""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("governance.core.api.urls")),
    path("", include("governance.lifecycle.api.urls")),
    path("", include("governance.skills.api.urls")),
    path("", include("risk.validation.api.urls")),
    path("", include("risk.monitoring.api.urls")),
    path("", include("risk.incidents.api.urls")),
    path("", include("risk.gate.api.urls")),
    path("", include("risk.alerts.api.urls")),
    path("", include("risk.threads.api.urls")),
    path("", include("risk.dashboards.api.urls")),
    path("", include("risk.exports.api.urls")),
    path("", include("models_registry.api.urls")),
]
