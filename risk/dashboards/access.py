"""Who may do what with the dashboards. Who sees a widget is each widget's own rule (its app's access.py, or the
core's `reads_firm_dashboards`); here only the arranging of pages."""

from governance.core.roles import Role, user_roles


def sets_firm_layout(user) -> bool:
    """Compliance sets the order and the hidden widgets everyone starts from."""
    return Role.COMPLIANCE in user_roles(user)
