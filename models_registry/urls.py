from django.urls import path, re_path, register_converter

from models_registry import service_account_views, views
from models_registry.validators import MODEL_KEY_REGEX, VERSION_REGEX


class IdConverter:
    """Database ids: at most 18 digits, so an absurd id is a 404 rather than a database range error."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)


register_converter(IdConverter, "id")

app_name = "models_registry"

K = rf"(?P<key>{MODEL_KEY_REGEX})"
V = rf"(?P<version>{VERSION_REGEX})"

urlpatterns = [
    path("models/", views.model_list, name="model-list"),
    path("models/new/", views.model_create, name="model-create"),
    re_path(rf"^models/{K}/$", views.model_detail, name="model-detail"),
    re_path(rf"^models/{K}/edit/$", views.model_update, name="model-update"),
    re_path(rf"^models/{K}/access/$", views.model_grant, name="model-grant"),
    re_path(rf"^models/{K}/access/(?P<grant_id>[0-9]{{1,18}})/revoke/$", views.model_revoke, name="model-revoke"),
    re_path(rf"^models/{K}/risks/$", views.model_risk_add, name="risk-add"),
    re_path(rf"^models/{K}/versions/new/$", views.version_create, name="version-create"),
    re_path(rf"^models/{K}/versions/{V}/$", views.version_detail, name="version-detail"),
    re_path(rf"^models/{K}/versions/{V}/edit/$", views.version_update, name="version-update"),
    path("service-accounts/", service_account_views.service_account_list, name="service-accounts"),
    path("service-accounts/<id:pk>/", service_account_views.service_account_detail, name="service-account"),
    path(
        "service-accounts/<id:pk>/rotate/", service_account_views.service_account_rotate, name="service-account-rotate"
    ),
    path(
        "service-accounts/<id:pk>/revoke/", service_account_views.service_account_revoke, name="service-account-revoke"
    ),
    path("data-sources/", views.data_source_list, name="data-source-list"),
    path("data-sources/new/", views.data_source_create, name="data-source-create"),
    path("data-sources/<id:pk>/", views.data_source_detail, name="data-source-detail"),
    path("data-sources/<id:pk>/edit/", views.data_source_update, name="data-source-update"),
    path("data-sources/<id:pk>/access/", views.data_source_grant, name="data-source-grant"),
    path("data-sources/<id:pk>/access/<id:grant_id>/revoke/", views.data_source_revoke, name="data-source-revoke"),
]
