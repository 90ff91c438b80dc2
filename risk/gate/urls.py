from django.urls import path, re_path

from models_registry.validators import MODEL_KEY_REGEX, VERSION_REGEX
from risk.gate import ack_views, views

app_name = "gate"

urlpatterns = [
    re_path(
        rf"^models/(?P<key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})/card/$",
        views.model_card,
        name="model-card",
    ),
    re_path(
        rf"^models/(?P<key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})/card\.pdf$",
        views.model_card_pdf,
        name="model-card-pdf",
    ),
    re_path(
        rf"^models/(?P<key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})/card/acknowledge/$",
        ack_views.card_acknowledge,
        name="card-acknowledge",
    ),
    path("kill-switch/", views.kill_switch, name="kill-switch"),
    re_path(r"^kill-switch/(?P<pk>[0-9]{1,18})/$", views.kill_switch_detail, name="kill-switch-detail"),
    re_path(r"^kill-switch/(?P<pk>[0-9]{1,18})/release/$", views.kill_switch_release, name="kill-switch-release"),
    path("kill-switch/tests/", views.kill_switch_test_run, name="kill-switch-test-run"),
    re_path(r"^kill-switch/tests/(?P<pk>[0-9]{1,18})/$", views.kill_switch_test_detail, name="kill-switch-test"),
]
