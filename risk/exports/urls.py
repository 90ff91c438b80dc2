from django.urls import path, re_path

from risk.exports import views

app_name = "exports"
ID = r"(?P<pk>[0-9]{1,18})"

urlpatterns = [
    path("audit/", views.audit_trail, name="audit-trail"),
    path("audit/download/", views.audit_trail_download, name="audit-trail-download"),
    path("exports/", views.export_list, name="list"),
    path("exports/signing-key/", views.signing_key, name="signing-key"),
    path("exports/self-assessments/", views.self_assessments, name="self-assessments"),
    path("exports/self-assessments/<int:year>/", views.self_assessment_detail, name="self-assessment"),
    re_path(rf"^exports/{ID}/$", views.export_detail, name="detail"),
    re_path(rf"^exports/{ID}/download/$", views.export_download, name="download"),
]
