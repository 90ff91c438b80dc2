"""Who sees an export: the person who asked for it (it holds what their scope let them see, no more)."""

from django.db.models import Q

from governance.core import access
from governance.core.roles import Role, user_roles
from risk.exports.models import Export


def prepares_self_assessment(user) -> bool:
    """Compliance prepares the yearly self-assessment and signs it first."""
    return Role.COMPLIANCE in user_roles(user)


def _own_exports(user, action: str) -> Q:
    return Q(requested_by_id=user.pk)


def register() -> None:
    access.register(Export, _own_exports)
    access.register_audit_scope(Export.AUDIT_TYPE, lambda user: access.restrict(Export.objects.all(), user))
