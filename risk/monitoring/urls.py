from django.urls import path, re_path

from risk.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("monitoring/", views.overview, name="overview"),
    path("monitoring/schedules/", views.schedules, name="schedules"),
    re_path(r"^monitoring/schedules/(?P<pk>[0-9]{1,18})/$", views.schedule_edit, name="schedule-edit"),
    re_path(r"^monitoring/monitors/(?P<pk>[0-9]{1,18})/$", views.monitor_detail, name="monitor-detail"),
]
