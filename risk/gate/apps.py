from django.apps import AppConfig


class GateConfig(AppConfig):
    """The model gate trading systems ask before using a model, and the kill switch that stops models."""

    name = "risk.gate"
    label = "gate"
    verbose_name = "Model gate and kill switch"

    def ready(self):
        from governance.core import audit, panels
        from governance.lifecycle import workflow
        from risk.gate import (  # noqa: F401 - tasks
            access,
            ack_views,
            acknowledgements,
            card,
            control_widgets,
            decisions,
            generations,
            hot_path,
            killswitch,
            signed_content,
            tasks,
            views,
        )
        from risk.gate.widgets import register as register_widgets
        from risk.incidents.models import Incident

        access.register()
        register_widgets()
        signed_content.register()
        # Every audited change to a model or its versions moves that model's gate generation, in its transaction.
        audit.listen(generations.on_audit)
        generations.on_committed_change(decisions.after_change)  # record the new decisions once it commits
        generations.register_source(
            "incidents.incident",
            lambda object_id: list(Incident.objects.filter(pk=int(object_id)).values_list("model_id", flat=True)),
        )
        # Who may read which model, remembered for the gate's hot path, is forgotten by every change to it.
        hot_path.connect()
        # The gate asks for acknowledgements of the current card; who is asked and the policy move its counts.
        acknowledgements.connect()
        audit.listen(acknowledgements.on_audit)
        control_widgets.register()  # the kill switch's widgets on the incidents and controls page
        # The validator's sign-off and compliance's approvals pin the card's limitations and their hash (issue 24).
        for action in card.SIGNED_WITH_CARD:
            workflow.register_pin(action, "card", card.card_pin)
        workflow.register_check(workflow.Action.RESUME, killswitch.no_stop_stands)
        workflow.register_check(workflow.Action.ROLLBACK, killswitch.no_stop_stands)
        panels.register(panels.Panel(panels.MODEL_PAGE, "gate", 3, "gate/panels/gate.html", views.gate_panel))
        panels.register(
            panels.Panel(panels.QUEUE_PAGE, "cards", 5, "gate/panels/cards_to_acknowledge.html", ack_views.queue_panel)
        )
