from django.urls import path, re_path

from risk.dashboards import views

app_name = "dashboards"
KEY = r"(?P<key>[a-z0-9-]{1,60})"

urlpatterns = [
    path("dashboards/", views.home, name="home"),
    re_path(rf"^dashboards/widgets/{KEY}/csv/$", views.widget_csv, name="csv"),
    re_path(rf"^dashboards/widgets/{KEY}/records/$", views.widget_records, name="records"),
    re_path(r"^dashboards/(?P<page>[a-z]{1,20})/$", views.page, name="page"),
    re_path(r"^dashboards/(?P<page>[a-z]{1,20})/layout/$", views.layout, name="layout"),
]
