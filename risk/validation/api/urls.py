from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from models_registry.validators import MODEL_KEY_REGEX, VERSION_REGEX
from risk.validation.api.views import (
    EvidenceFileView,
    EvidenceListView,
    FindingViewSet,
    ValidationPlanView,
    ValidationRunDetailView,
    ValidationRunListView,
)

router = SimpleRouter()
router.register("findings", FindingViewSet, basename="finding")
KV = rf"^models/(?P<model_key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})"

urlpatterns = [
    re_path(rf"{KV}/evidence/$", EvidenceListView.as_view(), name="evidence-list"),
    re_path(rf"{KV}/evidence/(?P<pk>[0-9]{{1,18}})/$", EvidenceFileView.as_view(), name="evidence-file"),
    re_path(rf"{KV}/validation-plan/$", ValidationPlanView.as_view(), name="validation-plan"),
    re_path(rf"{KV}/validation-runs/$", ValidationRunListView.as_view(), name="validation-run-list"),
    re_path(r"^validation-runs/(?P<pk>[0-9]{1,18})/$", ValidationRunDetailView.as_view(), name="validation-run"),
    path("", include(router.urls)),
]
