from governance.core import access, access_window
from governance.core.roles import role_labels
from governance.lifecycle import queue
from governance.skills import access as skills_access
from models_registry import access as inventory_access
from risk.alerts import selectors as alerts
from risk.dashboards import selectors as dashboards
from risk.gate import access as gate_access
from risk.gate.models import KillSwitch
from risk.monitoring import selectors as monitoring


def navigation(request):
    """Role facts the base layout needs to draw navigation; computed once per request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_roles": role_labels(user) + (["Administrator"] if user.is_superuser else []),
        "nav_can_create_model": inventory_access.can_create_model(user),
        "nav_can_create_data_source": inventory_access.can_create_data_source(user),
        "nav_is_admin": user.is_staff,
        "nav_service_accounts": access.manages_service_accounts(user),
        "nav_auditor_access": access_window.reads_windows(user),
        "nav_audit_trail": access.can_read_audit_trail(user),
        "nav_skills": skills_access.reads_every_skill(user),
        "nav_dashboards": dashboards.has_a_page(user),
        "nav_queue": queue.needs_me_count(user),
        "nav_monitor_alerts": monitoring.alerting_count(user),
        "nav_alerts_unread": alerts.unread_count(user),
        **_kill_switch(user),
    }


def _kill_switch(user) -> dict:
    """Everyone sees a banner while a firm-wide stop stands; compliance and auditors have the kill switch in the
    navigation, marked while any stop is in force."""
    standing = list(KillSwitch.objects.filter(released_at__isnull=True).only("scope", "engaged_at"))
    firm_wide = next((e for e in standing if e.scope == "all"), None)
    facts = {"firm_wide_stop": firm_wide}
    if gate_access.reads_kill_switch(user):
        facts |= {"nav_kill_switch": True, "nav_kill_switch_engaged": len(standing)}
    return facts
