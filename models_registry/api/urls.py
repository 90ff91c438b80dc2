from django.urls import path, re_path

from models_registry.api.views import DataSourceViewSet, ModelVersionViewSet, ModelViewSet
from models_registry.validators import MODEL_KEY_REGEX, VERSION_REGEX

model_list = ModelViewSet.as_view({"get": "list", "post": "create"})
model_detail = ModelViewSet.as_view({"get": "retrieve", "patch": "partial_update"})
version_list = ModelVersionViewSet.as_view({"get": "list", "post": "create"})
version_detail = ModelVersionViewSet.as_view({"get": "retrieve", "patch": "partial_update"})
source_list = DataSourceViewSet.as_view({"get": "list", "post": "create"})
source_detail = DataSourceViewSet.as_view({"get": "retrieve", "patch": "partial_update"})

urlpatterns = [
    path("models/", model_list, name="model-list"),
    re_path(rf"^models/(?P<key>{MODEL_KEY_REGEX})/$", model_detail, name="model-detail"),
    re_path(rf"^models/(?P<model_key>{MODEL_KEY_REGEX})/versions/$", version_list, name="version-list"),
    re_path(
        rf"^models/(?P<model_key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})/$",
        version_detail,
        name="version-detail",
    ),
    path("data-sources/", source_list, name="data-source-list"),
    re_path(r"^data-sources/(?P<pk>[0-9]{1,18})/$", source_detail, name="data-source-detail"),
]
