"""Who may report and read a model's monitoring data and monitors.

Reading follows the model: whoever may see a version reads its monitoring (the API answers 404 otherwise).
Reporting is for the model's own team, its owner and developers, and the service accounts compliance allowed to
push for the model. Changing a monitor is for the model's validator or compliance; its schedules, for compliance.
"""

from django.db.models import Q

from governance.core import access
from governance.core.access import is_active
from governance.core.roles import Role, has_role
from models_registry import service_accounts
from models_registry.models import Model, ModelVersion
from risk.monitoring.models import Monitor
from risk.validation.access import is_validator_of


def can_push(user, model) -> bool:
    """The model's owner and developers, and service accounts allowed to push with the model in their scope."""
    if not is_active(user):
        return False
    if service_accounts.may(user, service_accounts.PUSH):
        return access.restrict(Model.objects.filter(pk=model.pk), user).exists()
    return model.owner_id == user.pk or model.developers.filter(pk=user.pk).exists()


def can_change_monitor(user, monitor) -> bool:
    """The version's validator, or compliance, changes a monitor's thresholds, window and state."""
    return is_active(user) and (is_validator_of(user, monitor.version) or has_role(user, Role.COMPLIANCE))


def may_change_schedules(user) -> bool:
    """Compliance changes when the monitoring schedules fire."""
    return has_role(user, Role.COMPLIANCE)


def answers_for_every_monitor(user) -> bool:
    """Compliance answers for every monitor; others for those of the models they own, develop or validate."""
    return has_role(user, Role.COMPLIANCE)


def _visible_versions(user):
    return access.restrict(ModelVersion.objects.all(), user)


def _monitors_of_visible_versions(user, action: str) -> Q | None:
    return None if access.sees_everything(user) else Q(version__in=_visible_versions(user))


def register() -> None:
    access.register(Monitor, _monitors_of_visible_versions)
    access.register_audit_scope("monitoring.monitor", lambda user: access.restrict(Monitor.objects.all(), user))
    access.register_audit_scope("django_celery_beat.periodictask", _schedules_for)


def _schedules_for(user):
    """Schedules concern the whole firm: compliance, auditors and administrators read their audit trail."""
    from django_celery_beat.models import PeriodicTask

    return PeriodicTask.objects.all() if access.sees_everything(user) else PeriodicTask.objects.none()
