from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Production monitoring: what trading systems and pipelines report about a live model version, the
    monitors that judge it on a schedule, and their results."""

    name = "risk.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"

    def ready(self):
        from governance.core import events, jobs, panels

        # tasks and retention_tasks: imported so that their Celery tasks are registered.
        from risk.monitoring import (  # noqa: F401
            access,
            backfill,
            cycles,
            handlers,
            ongoing_validation,
            retention_tasks,
            tasks,
            views,
        )
        from risk.monitoring.widgets import register as register_widgets

        access.register()
        register_widgets()
        panels.register_section(
            panels.Section(
                panels.MODEL_PAGE,
                "monitoring",
                "Monitoring",
                20,
                empty="No monitor that you may see: monitors run on versions in pilot, production or suspended.",
            )
        )
        panels.register(
            # Wide: a grid of charts needs the page's whole width.
            panels.Panel(
                panels.MODEL_PAGE,
                "monitoring",
                5,
                "monitoring/panels/monitoring.html",
                views.monitoring_panel,
                wide=True,
                section="monitoring",
            )
        )
        panels.register(
            panels.Panel(panels.QUEUE_PAGE, "monitoring", 10, "monitoring/panels/alerting.html", views.queue_panel)
        )

        jobs.register(cycles.JOB_KIND, cycles.run_part)
        jobs.register("monitoring_backfill", backfill.run_backfill, backfill.on_give_up)
        ongoing_validation.register_job_runner()
        events.subscribe("lifecycle.transition", handlers.propose_at_pilot)
