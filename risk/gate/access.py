"""Who reads the gate and who uses the kill switch.

The gate follows the model: whoever may see a model reads its decision (404 otherwise), traders of its desk
included; a desk's list holds the desk's models the reader sees. The kill switch, its engagements and its tests
are compliance's (they act) and the auditors' (they read); to anyone else they answer 404, as for absent records.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q

from governance.core import access
from governance.core.roles import Role, has_role
from models_registry.models import Model
from models_registry.service_accounts import account_of
from risk.gate.models import Acknowledgement, KillSwitch, KillSwitchTest


def reads_kill_switch(user) -> bool:
    return access.sees_everything(user)


def reads_control_dashboards(user) -> bool:
    """The kill switch's widgets on the firm's dashboards: its tests and engagements are firm-wide records, so
    those who read the firm's dashboards and the kill switch (compliance, auditors, administrators)."""
    return access.reads_firm_dashboards(user) and reads_kill_switch(user)


def uses_kill_switch(user) -> bool:
    return has_role(user, Role.COMPLIANCE)


def reads_desk_gate_dashboard(user) -> bool:
    """Traders read, on their own dashboard, what the gate answers for their desk's models (each still through
    `restrict`: the tradeable models of their desk)."""
    return has_role(user, Role.TRADER)


TRADERS, DESK_HEAD = "traders", "desk_head"


def acknowledges_as(user, model) -> list[str]:
    """Whom a person's acknowledgement of `model`'s card counts for: a trader of the model's desk ("traders"), its
    head ("desk_head"), both, or nobody (they are asked nothing and may not acknowledge)."""
    if not access.is_active(user) or account_of(user) is not None:
        return []
    parts = []
    profile_desk = getattr(getattr(user, "profile", None), "desk_id", None)
    if has_role(user, Role.TRADER) and profile_desk is not None and profile_desk == model.desk_id:
        parts.append(TRADERS)
    if model.desk.head_id == user.pk:
        parts.append(DESK_HEAD)
    return parts


def asked_to_acknowledge(desk, parts) -> dict:
    """{user id: (person, [what they are asked as])}: the active people whose acknowledgement the policy's `parts`
    ask of `desk` (a query for its traders, one for its head)."""
    people: dict = {}
    if TRADERS in parts:
        for person in traders_of([desk.pk]).filter(service_account__isnull=True).order_by("username"):
            people[person.pk] = (person, [TRADERS])
    if DESK_HEAD in parts and desk.head_id is not None:
        head = get_user_model().objects.filter(pk=desk.head_id, is_active=True).first()
        if head is not None:
            people.setdefault(head.pk, (head, []))[1].append(DESK_HEAD)
    return people


def desks_acknowledged_by(user) -> set[int]:
    """The desks whose model cards a person may be asked to acknowledge: theirs as a trader, those they head."""
    if not access.is_active(user) or account_of(user) is not None:
        return set()
    desks = set(user.desks_headed.values_list("pk", flat=True))
    profile_desk = getattr(getattr(user, "profile", None), "desk_id", None)
    if has_role(user, Role.TRADER) and profile_desk is not None:
        desks.add(profile_desk)
    return desks


def traders_of(desk_ids):
    """Active traders on these desks (a queue of cards to acknowledge, the alerts of a new card)."""
    return get_user_model().objects.filter(groups__name=Role.TRADER, profile__desk_id__in=desk_ids, is_active=True)


def may_ask_about_person(reader, subject) -> bool:
    """Whether `reader` may ask the gate about `subject` (`?user=`): themselves; compliance, auditors and
    administrators; a service account of the subject's desk; the head of the subject's desk."""
    if not access.is_active(reader) or subject is None:
        return False
    if reader.pk == subject.pk or access.sees_everything(reader):
        return True
    desk_id = getattr(getattr(subject, "profile", None), "desk_id", None)
    if desk_id is None:
        return False
    scope = account_of(reader)
    if scope is not None:
        return scope.gate and scope.desk_id == desk_id
    return subject.profile.desk.head_id == reader.pk


def _firm_wide_records(user, action: str) -> Q | None:
    return None if reads_kill_switch(user) else Q(pk__in=[])


def _with_the_model(user, action: str) -> Q | None:
    """Acknowledgements follow their model: whoever sees it sees who acknowledged its card."""
    return Q(model__in=access.restrict(Model.objects.all(), user))


def register() -> None:
    access.register(Acknowledgement, _with_the_model)
    access.register_audit_scope(
        Acknowledgement.AUDIT_TYPE, lambda user: access.restrict(Acknowledgement.objects.all(), user)
    )
    for model_class in (KillSwitch, KillSwitchTest):
        access.register(model_class, _firm_wide_records)
        access.register_audit_scope(
            model_class.AUDIT_TYPE, lambda user, m=model_class: access.restrict(m.objects.all(), user)
        )
