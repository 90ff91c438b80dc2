from django.apps import AppConfig


class SkillsConfig(AppConfig):
    """Skills kept current: what each duty must have completed and for how long, who completed what (issue 24)."""

    name = "governance.skills"
    label = "skills"
    verbose_name = "Skills"

    def ready(self):
        from governance.core import labels, notifications, panels
        from governance.lifecycle import workflow
        from governance.skills import access, services, views
        from governance.skills.models import Duty, Requirement

        access.register()
        notifications.register_kind(services.NOTIFICATION_KIND, "Skills coming due or lapsed")
        labels.register_choices("kind", Requirement.Kind.choices)
        labels.register_choices("scope", Requirement.Scope.choices)
        labels.register_choices("duty", Duty.choices)
        # Signers' skills: a validator with a lapsed validator requirement for the model does not sign its validation;
        # compliance with a lapsed compliance requirement does not approve. The kill switch is never blocked.
        for action in workflow.SIGNOFF_ACTIONS:
            workflow.register_check(action, services.validator_skills_current)
        for action in (workflow.Action.APPROVE_DEPLOYMENT, workflow.Action.PROMOTE):
            workflow.register_check(action, services.compliance_skills_current)
        panels.register(panels.Panel(panels.QUEUE_PAGE, "skills", 30, "skills/panels/queue.html", views.queue_panel))
