from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from governance.api.lifecycle import AuditEventViewSet, FindingViewSet, VersionTransitionView
from governance.api.views import TokenObtainView
from models_registry.api.views import MODEL_KEY_REGEX, VERSION_REGEX
from risk.api.views import (
    EvidenceFileView,
    EvidenceListView,
    ValidationPlanView,
    ValidationRunDetailView,
    ValidationRunListView,
)

app_name = "api"

router = SimpleRouter()
router.register("findings", FindingViewSet, basename="finding")
router.register("audit-events", AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    re_path(
        rf"^models/(?P<model_key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})/transitions/$",
        VersionTransitionView.as_view(),
        name="version-transitions",
    ),
    re_path(
        rf"^models/(?P<model_key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})/evidence/$",
        EvidenceListView.as_view(),
        name="evidence-list",
    ),
    re_path(
        rf"^models/(?P<model_key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})/evidence/"
        r"(?P<pk>[0-9]{1,18})/$",
        EvidenceFileView.as_view(),
        name="evidence-file",
    ),
    re_path(
        rf"^models/(?P<model_key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})/validation-plan/$",
        ValidationPlanView.as_view(),
        name="validation-plan",
    ),
    re_path(
        rf"^models/(?P<model_key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})/validation-runs/$",
        ValidationRunListView.as_view(),
        name="validation-run-list",
    ),
    re_path(r"^validation-runs/(?P<pk>[0-9]{1,18})/$", ValidationRunDetailView.as_view(), name="validation-run"),
    path("", include(router.urls)),
    path("", include("models_registry.api.urls")),
]
