"""Reads of governance records, restricted to what the user may see."""

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from governance import permissions as perms
from governance.models import AuditEvent
from governance.roles import Role, user_roles


def _ids_as_text(queryset) -> QuerySet:
    return queryset.annotate(text_id=Cast("pk", CharField())).values("text_id")


def audit_event_list(user) -> QuerySet:
    """Compliance, auditors and administrators read the whole trail; others the events of what they can see."""
    from governance.models import Finding
    from models_registry.models import DataSource, Model, ModelVersion

    roles = user_roles(user)
    if user.is_superuser or roles & {Role.COMPLIANCE, Role.AUDITOR}:
        return AuditEvent.objects.all()
    if not roles or roles == {Role.TRADER}:
        return AuditEvent.objects.filter(actor=user)  # their own logins and actions only
    models = perms.restrict(Model.objects.all(), user)
    versions = perms.restrict(ModelVersion.objects.all(), user)
    sources = perms.restrict(DataSource.objects.all(), user)
    findings = Finding.objects.filter(version__in=versions)
    return AuditEvent.objects.filter(
        Q(object_type="models_registry.model", object_id__in=_ids_as_text(models))
        | Q(object_type="models_registry.modelversion", object_id__in=_ids_as_text(versions))
        | Q(object_type="models_registry.datasource", object_id__in=_ids_as_text(sources))
        | Q(object_type="governance.finding", object_id__in=_ids_as_text(findings))
        | Q(actor=user)
    )


def can_verify_chain(user) -> bool:
    return user.is_superuser or bool(user_roles(user) & {Role.COMPLIANCE, Role.AUDITOR})
