from django.urls import path, re_path

from models_registry.validators import MODEL_KEY_REGEX, VERSION_REGEX
from risk.validation import views

app_name = "validation"
KV = rf"models/(?P<key>{MODEL_KEY_REGEX})/versions/(?P<version>{VERSION_REGEX})"

urlpatterns = [
    re_path(rf"^{KV}/evidence/$", views.evidence_upload, name="evidence-upload"),
    re_path(r"^evidence/(?P<pk>[0-9]{1,18})/download/$", views.evidence_download, name="evidence-download"),
    re_path(rf"^{KV}/findings/$", views.finding_raise, name="finding-raise"),
    path("findings/", views.finding_list, name="finding-list"),
    re_path(r"^findings/(?P<pk>[0-9]{1,18})/$", views.finding_detail, name="finding-detail"),
    re_path(rf"^{KV}/validation-plan/$", views.plan_setup, name="plan-setup"),
    re_path(rf"^{KV}/validation-plan/edit/$", views.plan_edit, name="plan-edit"),
    re_path(rf"^{KV}/validation-runs/$", views.run_start, name="run-start"),
    re_path(r"^validation-runs/(?P<pk>[0-9]{1,18})/$", views.run_detail, name="run-detail"),
    re_path(r"^validation-runs/(?P<pk>[0-9]{1,18})/report/$", views.run_report, name="run-report"),
]
