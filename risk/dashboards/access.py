"""Who may do what with the dashboards. Who sees a widget is each widget's own rule (its app's access.py, or the
core's `reads_firm_dashboards`); here the arranging of pages, and whose filters offer the whole firm."""

from governance.core import access
from governance.core.roles import Role, user_roles


def sets_firm_layout(user) -> bool:
    """Compliance sets the order and the hidden widgets everyone starts from."""
    return Role.COMPLIANCE in user_roles(user)


def filters_the_whole_firm(user) -> bool:
    """Compliance, auditors and administrators (None: the firm itself) are offered "Any desk" whatever they see; for
    anyone else a filter offers "any" only beside more than one choice (risk/dashboards/forms.py)."""
    return user is None or access.sees_everything(user)
