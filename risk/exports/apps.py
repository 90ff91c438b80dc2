from django.apps import AppConfig


class ExportsConfig(AppConfig):
    """What auditors and supervisors take away: exports run as jobs, hashed, signed, downloaded on the record."""

    name = "risk.exports"
    label = "exports"
    verbose_name = "Exports"

    def ready(self):
        from governance.core import panels
        from risk.exports import access, self_assessment, services, tasks, views, widgets  # noqa: F401 - tasks

        access.register()
        services.register_job_runner()
        self_assessment.register()
        widgets.register()
        panels.register(
            panels.Panel(panels.QUEUE_PAGE, "self-assessments", 20, "exports/panels/sign_offs.html", views.queue_panel)
        )
