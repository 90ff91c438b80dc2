from django.urls import path, re_path

from governance.lifecycle import views
from models_registry.validators import MODEL_KEY_REGEX, VERSION_REGEX

app_name = "lifecycle"
KV = rf"models/(?P<key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})"

urlpatterns = [
    re_path(rf"^{KV}/transition/$", views.version_transition, name="version-transition"),
    re_path(rf"^{KV}/actions/(?P<action>[a-z_]{{1,40}})/$", views.version_action, name="version-action"),
    re_path(
        rf"^models/(?P<key>{MODEL_KEY_REGEX})/attestations/(?P<pk>[0-9]{{1,18}})/sign/$",
        views.attestation_sign_view,
        name="attestation-sign",
    ),
    path("inbox/", views.inbox, name="inbox"),
]
