"""Who hears an alert: the model's people (owner, developers, validator), its desk, compliance, and the webhooks
that asked for it; minus what each person muted, within the rules.

Hand-written: the audience is the product's own policy (MiFID II RTS 6 Art. 16, SR 11-7 escalation), a few
set operations over the inventory, not a general subscription engine.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q

from governance.core.models import Desk
from governance.core.roles import Role
from models_registry.models import Model
from risk.alerts.models import Alert, AlertMute, Kind, Severity, WebhookEndpoint

# Nobody may mute these: a stop, or the release of one, concerns everyone it reaches; a signing lock may be
# someone guessing a password.
NEVER_MUTED = frozenset(
    {
        Kind.SIGNING_LOCKED,
        Kind.MODEL_SUSPENDED,
        Kind.MODEL_ROLLED_BACK,
        Kind.KILL_SWITCH_ENGAGED,
        Kind.KILL_SWITCH_RELEASE_REQUESTED,
        Kind.KILL_SWITCH_RELEASED,
    }
)
MUTABLE = tuple(k for k in Kind if k not in NEVER_MUTED)

TEAM, VALIDATOR, DESK, COMPLIANCE = "team", "validator", "desk", "compliance"
KILL_SWITCH_KINDS = (Kind.KILL_SWITCH_ENGAGED, Kind.KILL_SWITCH_RELEASE_REQUESTED, Kind.KILL_SWITCH_RELEASED)


def audience(alert: Alert) -> set[str]:
    """The groups an alert reaches, by kind (and, for incidents, severity: a high or critical one reaches the
    desk that trades the model)."""
    kind, grave = alert.kind, alert.severity in (Severity.CRITICAL, Severity.HIGH)
    if kind == Kind.MONITOR_WARN:
        return {TEAM, VALIDATOR}
    if kind in (Kind.INCIDENT_OPENED, Kind.INCIDENT_ESCALATED):
        return {TEAM, VALIDATOR, COMPLIANCE} | ({DESK} if grave else set())
    if kind == Kind.INCIDENT_CLOSED:
        return {TEAM, VALIDATOR, COMPLIANCE}
    if kind in (Kind.KILL_SWITCH_TESTED, Kind.SIGNING_LOCKED, Kind.RISK_INDICATOR):
        return {COMPLIANCE}
    if kind == Kind.CARD_ACKNOWLEDGEMENT:
        return {DESK}  # a new card to acknowledge: the desk's people and its head (below)
    return {TEAM, VALIDATOR, DESK, COMPLIANCE}  # breach, suspension, rollback, kill switch


def own_people(model: Model) -> set[int]:
    """Owner, developers and validator: a breach on their model always reaches them."""
    ids = {model.owner_id, *model.developers.values_list("pk", flat=True)}
    return ids | ({model.validator_id} if model.validator_id else set())


def recipients(alert: Alert) -> list[int]:
    """The people an alert reaches (active accounts only), mutes applied."""
    groups = audience(alert)
    users = get_user_model().objects.filter(is_active=True)
    models = _models_concerned(alert)
    ids: set[int] = set()
    if alert.kind in KILL_SWITCH_KINDS and alert.model_id is None and alert.desk_id is None:
        ids |= set(users.values_list("pk", flat=True))  # a firm-wide stop concerns everyone
    if TEAM in groups and models is not None:
        ids |= set(models.values_list("owner_id", flat=True))
        ids |= set(models.filter(developers__isnull=False).values_list("developers", flat=True))
    if VALIDATOR in groups and models is not None:
        ids |= set(models.filter(validator__isnull=False).values_list("validator_id", flat=True))
    desk_ids = _desks_concerned(alert)
    if DESK in groups and desk_ids:
        ids |= set(users.filter(profile__desk_id__in=desk_ids).values_list("pk", flat=True))
        ids |= set(Desk.objects.filter(pk__in=desk_ids, head__isnull=False).values_list("head_id", flat=True))
    if COMPLIANCE in groups:
        ids |= set(users.filter(groups__name=Role.COMPLIANCE).values_list("pk", flat=True))
    ids = set(users.filter(pk__in=ids).values_list("pk", flat=True))
    return sorted(ids - _muted(alert, ids))


def _models_concerned(alert: Alert):
    if alert.model_id is not None:
        return Model.objects.filter(pk=alert.model_id)
    if alert.desk_id is not None:
        return Model.objects.filter(desk_id=alert.desk_id)
    return None  # firm-wide: everyone is told above


def _desks_concerned(alert: Alert) -> set[int]:
    if alert.desk_id is not None:
        return {alert.desk_id}
    if alert.model_id is not None:
        return {alert.model.desk_id}
    return set()


def _muted(alert: Alert, ids: set[int]) -> set[int]:
    """Who muted this kind and may: never a kind nobody may mute, never a critical alert, never a breach (or any
    alert) about a model the person owns, develops or validates when it is a breach."""
    if alert.kind in NEVER_MUTED or alert.severity == Severity.CRITICAL:
        return set()
    muted = set(AlertMute.objects.filter(kind=alert.kind, user_id__in=ids).values_list("user_id", flat=True))
    if muted and alert.kind == Kind.MONITOR_BREACH and alert.model_id is not None:
        muted -= own_people(alert.model)
    return muted


def endpoints(alert: Alert) -> list[WebhookEndpoint]:
    """Active receivers that asked for this kind and this desk (a desk's receiver also gets firm-wide alerts)."""
    found = WebhookEndpoint.objects.filter(disabled_at__isnull=True)
    desk_ids = _desks_concerned(alert)
    if desk_ids:
        found = found.filter(Q(desk__isnull=True) | Q(desk_id__in=desk_ids))
    return [e for e in found if not e.kinds or alert.kind in e.kinds]
