"""Who holds each duty, who defines and records skills, and who sees which records.

A requirement on one model concerns that model: only those who see the model see it. A requirement on any model
or a model type names no model: everyone reads it. A completion is its person's own: they, compliance, auditors
and administrators read it (with its requirement still in their scope); nobody else. Compliance alone defines
requirements and records completions (people never certify themselves); auditors read everything, write nothing.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q

from governance.core import access
from governance.core.roles import Role, has_role
from governance.skills.models import Completion, Duty, Requirement
from models_registry.models import Model

# The role that holds each duty. The kill switch is compliance's (risk/gate/access.py `uses_kill_switch`;
# tests/governance/test_skills.py checks the two agree).
DUTY_ROLE = {
    Duty.TRADER: Role.TRADER,
    Duty.VALIDATOR: Role.VALIDATOR,
    Duty.KILL_SWITCH: Role.COMPLIANCE,
    Duty.COMPLIANCE: Role.COMPLIANCE,
}


def holds_duty(user, duty: str) -> bool:
    return access.is_active(user) and has_role(user, DUTY_ROLE[duty])


def duties_of(user) -> list[str]:
    return [duty for duty in Duty.values if holds_duty(user, duty)]


def duty_holders(duty: str):
    """The active people who hold a duty, by username."""
    return get_user_model().objects.filter(groups__name=DUTY_ROLE[duty], is_active=True).order_by("username")


def manages_skills(user) -> bool:
    """Compliance defines requirements and records completions."""
    return access.is_active(user) and has_role(user, Role.COMPLIANCE)


def reads_every_skill(user) -> bool:
    """The firm's skills page (the matrix of people and requirements): compliance, auditors, administrators."""
    return access.sees_everything(user)


def _requirements_in_scope(user, action: str) -> Q | None:
    if access.sees_everything(user):
        return None
    return Q(model__isnull=True) | Q(model__in=access.restrict(Model.objects.all(), user))


def _own_completions(user, action: str) -> Q | None:
    if access.sees_everything(user):
        return None
    if not access.is_active(user):
        return Q(pk__in=[])
    return Q(person=user) & (
        Q(requirement__model__isnull=True) | Q(requirement__model__in=access.restrict(Model.objects.all(), user))
    )


def register() -> None:
    access.register(Requirement, _requirements_in_scope)
    access.register(Completion, _own_completions)
    for model_class in (Requirement, Completion):
        access.register_audit_scope(
            model_class.AUDIT_TYPE, lambda user, m=model_class: access.restrict(m.objects.all(), user)
        )
