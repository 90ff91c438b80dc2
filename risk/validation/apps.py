from django.apps import AppConfig


class ValidationConfig(AppConfig):
    """Validation: evidence, plans, runs and findings. Label "risk" keeps its tables and migrations."""

    name = "risk.validation"
    label = "risk"
    verbose_name = "Validation"

    def ready(self):
        from governance.core import panels
        from risk.validation import access, runs, signed_content, tasks, views, widgets  # noqa: F401  (tasks: registers)

        access.register()
        signed_content.register()
        runs.register_job_runner()
        widgets.register()
        for name, order, template, context in (
            ("evidence", 20, "risk/panels/evidence.html", views.evidence_panel),
            ("findings", 30, "risk/panels/findings.html", views.findings_panel),
            ("validation", 40, "risk/panels/validation.html", views.validation_panel),
        ):
            panels.register(panels.Panel(panels.VERSION_PAGE, name, order, template, context))
