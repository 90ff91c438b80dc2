from django.urls import include, path
from rest_framework.routers import SimpleRouter

from governance.core.api.views import AuditEventViewSet, TokenObtainView

router = SimpleRouter()
router.register("audit-events", AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    path("", include(router.urls)),
]
