"""Who sees alerts: compliance and auditors all of them; anyone else the alerts about models they may see, and
the ones without a model (a desk's or the firm's kill switch) that reached them."""

from django.db.models import Q

from governance.core import access, labels, notifications, outbound
from governance.core.roles import Role, has_role
from models_registry.models import Model
from risk.alerts.models import Alert, Kind, Severity, WebhookEndpoint


def _visible_alerts(user, action: str) -> Q | None:
    if access.sees_everything(user):
        return None
    told = Alert.recipients.through.objects.filter(user_id=user.pk).values("alert_id")
    return Q(model__in=access.restrict(Model.objects.all(), user)) | Q(model__isnull=True, pk__in=told)


def _visible_endpoints(user, action: str) -> Q | None:
    return None if has_role(user, Role.COMPLIANCE) or has_role(user, Role.AUDITOR) else Q(pk__in=[])


def manages_webhooks(user) -> bool:
    """Compliance adds, changes and retires webhook receivers."""
    return has_role(user, Role.COMPLIANCE)


def reads_webhooks(user) -> bool:
    return access.is_active(user) and (has_role(user, Role.COMPLIANCE) or has_role(user, Role.AUDITOR))


def register() -> None:
    access.register(Alert, _visible_alerts)
    access.register(WebhookEndpoint, _visible_endpoints)
    labels.register_choices("kinds", Kind.choices)
    labels.register_choices("severity", Severity.choices)
    labels.register_format("url", outbound.display_url)  # receivers recorded before URLs were hidden, on pages
    for kind, label in Kind.choices:
        notifications.register_kind(kind, label)
    access.register_audit_scope(
        WebhookEndpoint.AUDIT_TYPE, lambda user: access.restrict(WebhookEndpoint.objects.all(), user)
    )
