"""Who reads the gate and who uses the kill switch.

The gate follows the model: whoever may see a model reads its decision (404 otherwise), traders of its desk
included; a desk's list holds the desk's models the reader sees. The kill switch, its engagements and its tests
are compliance's (they act) and the auditors' (they read); to anyone else they answer 404, as for absent records.
"""

from django.db.models import Q

from governance.core import access
from governance.core.roles import Role, has_role
from risk.gate.models import KillSwitch, KillSwitchTest


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


def _firm_wide_records(user, action: str) -> Q | None:
    return None if reads_kill_switch(user) else Q(pk__in=[])


def register() -> None:
    for model_class in (KillSwitch, KillSwitchTest):
        access.register(model_class, _firm_wide_records)
        access.register_audit_scope(
            model_class.AUDIT_TYPE, lambda user, m=model_class: access.restrict(m.objects.all(), user)
        )
