from django.urls import path, re_path

from risk.dashboards.api import views

KEY = r"(?P<key>[a-z0-9-]{1,60})"

urlpatterns = [
    path("dashboards/widgets/", views.WidgetListView.as_view(), name="dashboard-widget-list"),
    re_path(rf"^dashboards/widgets/{KEY}/$", views.WidgetDetailView.as_view(), name="dashboard-widget"),
]
