from django.urls import path, re_path

from models_registry.validators import MODEL_KEY_REGEX, VERSION_REGEX
from risk.gate.api import views

urlpatterns = [
    path("gate/", views.DeskGateView.as_view(), name="gate-desk"),
    re_path(rf"^gate/(?P<model_key>{MODEL_KEY_REGEX})/$", views.GateView.as_view(), name="gate"),
    re_path(
        rf"^models/(?P<model_key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})/card/$",
        views.ModelCardView.as_view(),
        name="model-card",
    ),
    re_path(
        rf"^models/(?P<model_key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})/card/acknowledgements/$",
        views.CardAcknowledgementsView.as_view(),
        name="card-acknowledgements",
    ),
    path("kill-switch/", views.KillSwitchListView.as_view(), name="kill-switch-list"),
    path("kill-switch/tests/", views.KillSwitchTestListView.as_view(), name="kill-switch-tests"),
    re_path(r"^kill-switch/(?P<pk>[0-9]{1,18})/$", views.KillSwitchDetailView.as_view(), name="kill-switch-detail"),
    re_path(
        r"^kill-switch/(?P<pk>[0-9]{1,18})/release/$", views.KillSwitchReleaseView.as_view(), name="kill-switch-release"
    ),
]
