from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Alerts: monitor warnings and breaches, incidents, suspensions and kill-switch actions told to the people
    concerned (in-app, e-mail) and to receivers (signed webhooks), after the causing transaction commits."""

    name = "risk.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self):
        from governance.core import events, panels
        from governance.core.notifications import ALERT_EVENT
        from risk.alerts import access, services, tasks, views  # noqa: F401 - tasks

        access.register()
        events.subscribe(ALERT_EVENT, services.on_alert_event)
        events.subscribe("monitoring.alert", services.on_monitor_event)
        events.subscribe("lifecycle.transition", services.on_transition_event)
        panels.register_section(
            panels.Section(panels.MODEL_PAGE, "alerts", "Alerts", 35, empty="")  # never empty: says "None yet"
        )
        panels.register(
            panels.Panel(
                panels.MODEL_PAGE, "alerts", 5, "alerts/panels/alerts.html", views.model_panel, section="alerts"
            )
        )
