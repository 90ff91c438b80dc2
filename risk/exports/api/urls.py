from django.urls import path, re_path

from risk.exports.api import views

ID = r"(?P<pk>[0-9]{1,18})"

urlpatterns = [
    path("exports/", views.ExportListView.as_view(), name="export-list"),
    path("exports/signing-key/", views.SigningKeyView.as_view(), name="export-signing-key"),
    re_path(rf"^exports/{ID}/$", views.ExportDetailView.as_view(), name="export-detail"),
    re_path(rf"^exports/{ID}/download/$", views.ExportDownloadView.as_view(), name="export-download"),
]
