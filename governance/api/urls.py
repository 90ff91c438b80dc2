from django.urls import include, path

from governance.api.views import TokenObtainView

app_name = "api"

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="auth-token"),
    path("", include("models_registry.api.urls")),
]
