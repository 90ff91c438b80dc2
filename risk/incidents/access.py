"""Who sees incidents: whoever may see the model (traders of its desk included: they report them too)."""

from django.db.models import Q

from governance.core import access, labels
from governance.core.roles import Role, has_role, user_roles
from governance.core.templatetags.display import money
from models_registry.models import Model
from risk.incidents.models import Incident


def reports_incidents(user) -> bool:
    """Everyone but those whose only part is to read (auditors)."""
    roles = user_roles(user)
    return not (roles and roles <= {Role.AUDITOR})


def works_on_every_incident(user) -> bool:
    """Compliance works on every incident (the model's owner and developers on their model's)."""
    return has_role(user, Role.COMPLIANCE)


def may_lower_signed_severity(user) -> bool:
    """Only compliance lowers a high or critical incident, else a team could close it without their signature."""
    return has_role(user, Role.COMPLIANCE)


def may_roll_back(user) -> bool:
    """Compliance rolls a model back from an incident."""
    return has_role(user, Role.COMPLIANCE)


def closes_signed_incidents(user) -> bool:
    """A high or critical incident is closed by compliance, with a signature."""
    return has_role(user, Role.COMPLIANCE)


def _incidents_of_visible_models(user, action: str) -> Q | None:
    return None if access.sees_everything(user) else Q(model__in=access.restrict(Model.objects.all(), user))


def register() -> None:
    access.register(Incident, _incidents_of_visible_models)
    labels.register_choices("severity", Incident.Severity.choices)
    labels.register_choices("status", Incident.Status.choices)
    labels.register_format("impact_pnl", money)
    access.register_audit_scope(Incident.AUDIT_TYPE, lambda user: access.restrict(Incident.objects.all(), user))
