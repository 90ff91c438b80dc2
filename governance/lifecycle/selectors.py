"""Reads of the lifecycle: a version's history, signatures and pilot, a model's attestations, a person's queue."""

from django.db.models import QuerySet
from django.http import Http404

from governance.core import access
from governance.core.audit import audit_type
from governance.core.models import Notification, Signature
from governance.core.signatures import verify
from governance.lifecycle.models import Attestation, PilotPlan, VersionTransition
from models_registry.choices import LifecycleStatus as S
from models_registry.models import ModelVersion
from risk.validation.models import Finding


def version_history(version) -> QuerySet:
    return (
        VersionTransition.objects.filter(version=version)
        .select_related("actor", "signature", "policy")
        .order_by("at", "id")
    )


def version_signatures(version) -> list[tuple[Signature, tuple[bool, str]]]:
    """The version's signatures, each with the outcome of verifying it against the database now."""
    signatures = Signature.objects.filter(object_type=audit_type(version), object_id=str(version.pk))
    return [(s, verify(s)) for s in signatures.select_related("policy")]


def pilot_of(version) -> PilotPlan | None:
    return PilotPlan.objects.filter(version=version).first()


def attestations_of(model) -> QuerySet:
    return Attestation.objects.filter(model=model).select_related("owner", "signature")


def attestation_get(model, pk) -> Attestation:
    attestation = Attestation.objects.filter(pk=pk, model=model).first()
    if attestation is None:
        raise Http404("Not found.")
    return attestation


def queue_candidates(user, limit: int = 200) -> QuerySet:
    """Versions the user may see that are somewhere in their lifecycle (neither draft nor retired)."""
    versions = access.restrict(ModelVersion.objects.all(), user).exclude(status__in=[S.DRAFT, S.RETIRED])
    return versions.select_related("model")[:limit]


def notifications_of(user, limit: int = 50) -> QuerySet:
    return Notification.objects.filter(user=user)[:limit]


def findings_owned_by(user) -> QuerySet:
    return Finding.objects.filter(owner=user, status__in=Finding.ACTIVE).select_related("version__model")
