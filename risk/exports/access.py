"""Who sees an export: the person who asked for it (it holds what their scope let them see, no more)."""

from django.db.models import Q

from governance.core import access
from risk.exports.models import Export


def _own_exports(user, action: str) -> Q:
    return Q(requested_by_id=user.pk)


def register() -> None:
    access.register(Export, _own_exports)
    access.register_audit_scope(Export.AUDIT_TYPE, lambda user: access.restrict(Export.objects.all(), user))
