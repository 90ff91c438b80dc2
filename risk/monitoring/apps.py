from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Production monitoring: what trading systems and pipelines report about a live model version, the
    monitors that judge it on a schedule, and their results."""

    name = "risk.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self):
        from governance.core import events, jobs, panels
        from risk.monitoring import access, cycles, handlers, tasks, views  # noqa: F401  (tasks: registers them)

        access.register()
        panels.register(
            panels.Panel(
                panels.MODEL_PAGE, "monitoring", 5, "monitoring/panels/monitoring.html", views.monitoring_panel
            )
        )
        panels.register(
            panels.Panel(panels.QUEUE_PAGE, "monitoring", 10, "monitoring/panels/alerting.html", views.queue_panel)
        )

        jobs.register(cycles.JOB_KIND, cycles.run_part)
        events.subscribe("lifecycle.transition", handlers.propose_at_pilot)
