from django.urls import path, re_path

from risk.incidents.api import views

urlpatterns = [
    path("incidents/", views.IncidentListView.as_view(), name="incident-list"),
    re_path(r"^incidents/(?P<pk>[0-9]{1,18})/$", views.IncidentDetailView.as_view(), name="incident-detail"),
    re_path(r"^incidents/(?P<pk>[0-9]{1,18})/notes/$", views.IncidentNoteView.as_view(), name="incident-notes"),
    re_path(r"^incidents/(?P<pk>[0-9]{1,18})/close/$", views.IncidentCloseView.as_view(), name="incident-close"),
    re_path(
        r"^incidents/(?P<pk>[0-9]{1,18})/rollback/$", views.IncidentRollbackView.as_view(), name="incident-rollback"
    ),
    re_path(
        r"^incidents/(?P<pk>[0-9]{1,18})/revalidation/$",
        views.IncidentRevalidationView.as_view(),
        name="incident-revalidation",
    ),
    re_path(
        r"^incidents/(?P<pk>[0-9]{1,18})/findings/$", views.IncidentFindingView.as_view(), name="incident-findings"
    ),
]
