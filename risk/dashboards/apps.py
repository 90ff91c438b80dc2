from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    """Compliance dashboards: pages of widgets the apps register with the core, their CSVs, drill-downs and API."""

    name = "risk.dashboards"
    label = "dashboards"
    verbose_name = "Dashboards"

    def ready(self):
        from risk.dashboards import tasks  # noqa: F401 - the daily snapshot's task
