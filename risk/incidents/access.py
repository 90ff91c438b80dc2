"""Who sees incidents: whoever may see the model (traders of its desk included: they report them too)."""

from django.db.models import Q

from governance.core import access, labels
from governance.core.templatetags.display import money
from models_registry.models import Model
from risk.incidents.models import Incident


def _incidents_of_visible_models(user, action: str) -> Q | None:
    return None if access.sees_everything(user) else Q(model__in=access.restrict(Model.objects.all(), user))


def register() -> None:
    access.register(Incident, _incidents_of_visible_models)
    labels.register_choices("severity", Incident.Severity.choices)
    labels.register_choices("status", Incident.Status.choices)
    labels.register_format("impact_pnl", money)
    access.register_audit_scope(Incident.AUDIT_TYPE, lambda user: access.restrict(Incident.objects.all(), user))
