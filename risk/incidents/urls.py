from django.urls import path, re_path

from risk.incidents import views

app_name = "incidents"

urlpatterns = [
    path("incidents/", views.incident_list, name="list"),
    path("incidents/new/", views.incident_new, name="new"),
    re_path(r"^incidents/(?P<pk>[0-9]{1,18})/$", views.incident_detail, name="detail"),
]
