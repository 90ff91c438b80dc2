from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    """The incident log: breaches and reports of live models, worked on until closed on a root cause."""

    name = "risk.incidents"
    label = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        from governance.core import events, panels
        from governance.lifecycle import workflow
        from risk.incidents import access, handlers, services, signed_content, views, widgets

        access.register()
        signed_content.register()
        widgets.register()
        events.subscribe("monitoring.alert", handlers.open_on_breach)
        workflow.register_check(workflow.Action.RESUME, services.no_open_incident_that_suspended)
        workflow.register_pin(workflow.Action.RESUME, "incidents", services.incidents_behind_a_resume)
        panels.register_section(
            panels.Section(
                panels.MODEL_PAGE, "incidents", "Incidents", 30, empty="No incident of this model that you may see."
            )
        )
        panels.register(
            panels.Panel(
                panels.MODEL_PAGE,
                "incidents",
                4,
                "incidents/panels/incidents.html",
                views.model_panel,
                section="incidents",
            )
        )
