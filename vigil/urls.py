"""Root URLs: the project's own few (login, health, schema) and each app's pages and API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from governance.core import views as core_views
from vigil import views
from vigil.health import health

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="models_registry:model-list", permanent=False)),
    path("login/", core_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health/", health, name="health"),
    path("favicon.ico", views.favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", include("vigil.api_urls", namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs page is a page: a visitor not signed in goes to the login page (the schema itself answers 401).
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api_docs.html")),
        name="api-docs",
    ),
    path("", include("governance.core.urls")),
    path("", include("governance.lifecycle.urls")),
    path("", include("governance.skills.urls")),
    path("", include("risk.validation.urls")),
    path("", include("risk.monitoring.urls")),
    path("", include("risk.monitoring.backfill_urls")),
    path("", include("risk.incidents.urls")),
    path("", include("risk.gate.urls")),
    path("", include("risk.alerts.urls")),
    path("", include("risk.threads.urls")),
    path("", include("risk.dashboards.urls")),
    path("", include("risk.exports.urls")),
    path("", include("models_registry.urls")),
]

handler404 = "vigil.views.not_found"
handler500 = "vigil.views.error"
