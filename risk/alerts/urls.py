from django.urls import path, re_path

from risk.alerts import views

app_name = "alerts"
ID = r"(?P<pk>[0-9]{1,18})"

urlpatterns = [
    path("alerts/", views.alert_list, name="list"),
    re_path(rf"^alerts/{ID}/$", views.alert_detail, name="detail"),
    path("alerts/settings/", views.alert_settings, name="settings"),
    path("alerts/webhooks/", views.webhook_list, name="webhooks"),
    re_path(rf"^alerts/webhooks/{ID}/$", views.webhook_detail, name="webhook"),
    re_path(rf"^alerts/webhooks/{ID}/secret/$", views.webhook_secret, name="webhook-secret"),
    re_path(rf"^alerts/webhooks/{ID}/rotate/$", views.webhook_rotate, name="webhook-rotate"),
    re_path(rf"^alerts/webhooks/{ID}/disable/$", views.webhook_disable, name="webhook-disable"),
]
