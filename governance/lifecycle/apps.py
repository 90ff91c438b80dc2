from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    """The lifecycle of model versions: transitions, sign-offs, segregation of duties, revalidation."""

    name = "governance.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle"

    def ready(self):
        from governance.core import labels, notifications, panels
        from governance.core.models import Signature
        from governance.lifecycle import views, widgets

        labels.register_choices("meaning", Signature.Meaning.choices)
        widgets.register()

        for kind, label in (
            ("signature_request", "Signature requested"),
            ("decision", "Decision"),
            ("alert", "Alert"),
            ("validation_due_soon", "Validation due soon"),
            ("validation_overdue", "Validation overdue"),
            ("validation_required", "Revalidation required"),
        ):
            notifications.register_kind(kind, label)

        panels.register(
            panels.Panel(
                panels.VERSION_PAGE, "lifecycle", 10, "governance/panels/lifecycle.html", views.lifecycle_panel
            )
        )
        panels.register_section(
            panels.Section(
                panels.MODEL_PAGE,
                "attestations",
                "Attestations",
                40,
                empty="No yearly attestation of this model that you may see.",
            )
        )
        panels.register(
            panels.Panel(
                panels.MODEL_PAGE,
                "attestations",
                50,
                "governance/panels/attestations.html",
                views.attestations_panel,
                section="attestations",
            )
        )
