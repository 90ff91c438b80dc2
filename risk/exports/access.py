"""Who sees an export: the person who asked for it (it holds what their scope let them see, no more)."""

from django.db.models import Q

from governance.core import access
from governance.core.roles import Role, user_roles
from risk.exports.models import Export, SelfAssessment


def prepares_self_assessment(user) -> bool:
    """Compliance prepares the yearly self-assessment and signs it first."""
    return Role.COMPLIANCE in user_roles(user)


def reads_self_assessments(user) -> bool:
    """Compliance, auditors and administrators (who see everything) and senior managers read the self-assessments;
    to anyone else they do not exist."""
    return access.sees_everything(user) or access.is_senior_manager(user)


def _self_assessment_readers(user, action: str) -> Q | None:
    return None if reads_self_assessments(user) else Q(pk__in=[])


def _own_exports(user, action: str) -> Q:
    return Q(requested_by_id=user.pk)


def register() -> None:
    access.register(Export, _own_exports)
    access.register(SelfAssessment, _self_assessment_readers)
    access.register_audit_scope(Export.AUDIT_TYPE, lambda user: access.restrict(Export.objects.all(), user))
