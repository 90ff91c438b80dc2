from django.urls import path, re_path

from risk.alerts.api import views

ID = r"(?P<pk>[0-9]{1,18})"

urlpatterns = [
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("alerts/mutes/", views.MutesView.as_view(), name="alert-mutes"),
    re_path(rf"^alerts/{ID}/$", views.AlertDetailView.as_view(), name="alert-detail"),
    path("webhooks/", views.EndpointListView.as_view(), name="webhook-list"),
    re_path(rf"^webhooks/{ID}/$", views.EndpointDetailView.as_view(), name="webhook-detail"),
    re_path(rf"^webhooks/{ID}/rotate-secret/$", views.EndpointRotateView.as_view(), name="webhook-rotate"),
    re_path(rf"^webhooks/{ID}/disable/$", views.EndpointDisableView.as_view(), name="webhook-disable"),
]
