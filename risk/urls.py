from django.urls import re_path

from models_registry.api.views import MODEL_KEY_REGEX, VERSION_REGEX
from risk import web

app_name = "risk"
KV = rf"models/(?P<key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})"

urlpatterns = [
    re_path(rf"^{KV}/validation-plan/$", web.plan_setup, name="plan-setup"),
    re_path(rf"^{KV}/validation-plan/edit/$", web.plan_edit, name="plan-edit"),
    re_path(rf"^{KV}/validation-runs/$", web.run_start, name="run-start"),
    re_path(r"^validation-runs/(?P<pk>[0-9]{1,18})/$", web.run_detail, name="run-detail"),
    re_path(r"^validation-runs/(?P<pk>[0-9]{1,18})/report/$", web.run_report, name="run-report"),
]
