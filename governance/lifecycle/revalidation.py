"""Periodic revalidation (VAL-05) and the yearly attestation of production models.

The daily sweep flags models whose validation is overdue or falls due within the policy's window, tells
the people concerned once per state, and opens this year's attestation for every production model.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from governance.core import access, signatures
from governance.core.audit import audit_record
from governance.core.exceptions import Conflict
from governance.core.models import Signature
from governance.core.notifications import notify
from governance.core.policy import policy_in_force
from governance.core.roles import Role
from governance.lifecycle import access as lifecycle_access
from governance.lifecycle.models import Attestation
from models_registry.choices import LifecycleStatus as S
from models_registry.models import Model
from risk.validation.models import Finding

DUE_SOON, OVERDUE, REQUIRED = "due_soon", "overdue", "required"
IN_USE = (S.APPROVED, S.PILOT, S.PRODUCTION, S.SUSPENDED)


def flag_for(model, today: dt.date, window_days: int) -> str:
    if model.revalidation_flag == REQUIRED:
        return REQUIRED  # raised by an incident or by hand: it stands until the next validation is signed
    if model.next_validation_due is None:
        return ""
    if model.next_validation_due < today:
        return OVERDUE
    if model.next_validation_due <= today + dt.timedelta(days=window_days):
        return DUE_SOON
    return ""


@transaction.atomic
def revalidation_sweep(today: dt.date | None = None) -> dict:
    """Idempotent: a second run on the same day changes nothing and notifies nobody again."""
    today = today or timezone.now().date()
    policy = policy_in_force()
    changed = {DUE_SOON: 0, OVERDUE: 0, "cleared": 0}
    candidates = (
        Model.objects.filter(Q(next_validation_due__isnull=False) | ~Q(revalidation_flag=""))
        .exclude(status=S.RETIRED)
        .select_related("owner", "validator")
        .select_for_update(of=("self",))  # lock the models only; the validator join is an outer join
    )
    for model in candidates:
        flag = flag_for(model, today, policy.due_soon_days)
        if flag == model.revalidation_flag:
            continue
        audit_record(
            None,
            "model.revalidation_flag",
            model,
            reason=f"daily sweep under policy v{policy.version}",
            changes={"revalidation_flag": [model.revalidation_flag, flag]},
        )
        Model.objects.filter(pk=model.pk).update(revalidation_flag=flag)
        changed[flag or "cleared"] += 1
        if flag:
            text = (
                f"Validation of {model.key} is overdue since {model.next_validation_due}."
                if flag == OVERDUE
                else f"Validation of {model.key} is due on {model.next_validation_due}."
            )
            notify(
                [model.owner_id, model.validator_id],
                "validation_" + flag,
                text,
                reverse("models_registry:model-detail", kwargs={"key": model.key}),
                dedupe_key=f"reval:{model.pk}:{flag}:{model.next_validation_due}",
                roles=[Role.COMPLIANCE],
            )
    opened = open_attestations(today)
    return {**changed, "attestations_opened": opened, "overdue_findings": notify_overdue_findings(today)}


@transaction.atomic
def revalidation_require(actor, model, *, reason: str, by_policy: bool = False) -> bool:
    """Mark a model "revalidation required" (an incident's policy, or compliance or its validator by hand): it
    shows on the model and in the validator's and owner's queues until a validation is signed. `by_policy`: the
    governance policy acts (`actor` is Vigil's system account). False when it was already required."""
    model = Model.objects.select_for_update().get(pk=model.pk)
    if not by_policy and not lifecycle_access.may_require_revalidation(actor, model):
        raise PermissionDenied("Compliance or the model's validator require a revalidation.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the model must be revalidated."]})
    if model.revalidation_flag == REQUIRED:
        return False
    audit_record(
        actor,
        "model.revalidation_required",
        model,
        reason=reason,
        changes={"revalidation_flag": [model.revalidation_flag, REQUIRED]},
    )
    Model.objects.filter(pk=model.pk).update(revalidation_flag=REQUIRED, updated_at=timezone.now())
    notify(
        [model.owner_id, model.validator_id],
        "validation_required",
        f"{model.key} must be revalidated: {reason}"[:500],
        reverse("models_registry:model-detail", kwargs={"key": model.key}),
        roles=[Role.COMPLIANCE],
        exclude=[] if by_policy else [actor],
    )
    return True


def notify_overdue_findings(today: dt.date) -> int:
    """Remind the owner and the validator of each active finding past its due date (once per finding)."""
    overdue = Finding.objects.filter(
        status__in=[Finding.Status.OPEN, Finding.Status.IN_REMEDIATION], due_date__lt=today
    ).select_related("owner", "version__model__validator")
    count = 0
    for finding in overdue:
        created = notify(
            [finding.owner, finding.version.model.validator],
            "finding_overdue",
            f"{finding} on {finding.version} was due on {finding.due_date}.",
            reverse("validation:finding-detail", kwargs={"pk": finding.pk}),
            dedupe_key=f"finding-overdue:{finding.pk}",
        )
        count += bool(created)
    return count


def open_attestations(today: dt.date) -> int:
    """Open this year's attestation for each production model that has none; its owner must sign it."""
    opened = 0
    for model in (
        Model.objects.filter(status=S.PRODUCTION).exclude(attestations__year=today.year).select_related("owner")
    ):
        attestation = Attestation.objects.create(
            model=model, year=today.year, owner=model.owner, due_date=dt.date(today.year, 12, 31)
        )
        audit_record(None, "attestation.open", attestation, changes={"owner": [None, model.owner.username]})
        notify(
            [model.owner],
            "signature_request",
            f"Sign the {today.year} attestation of {model.key}.",
            reverse("models_registry:model-detail", kwargs={"key": model.key}),
            dedupe_key=f"attest:{model.pk}:{today.year}",
        )
        opened += 1
    return opened


def attestation_sign(actor, attestation, *, statement: str, password: str, otp_token: str = "") -> Attestation:
    """The owner attests, with an electronic signature, that the model is used as approved and within limits."""
    if actor.pk != attestation.owner_id or not access.is_active(actor):
        raise PermissionDenied("Only the model's owner signs its attestation.")
    if len(statement.strip()) < 20:
        raise ValidationError({"statement": "Write the attestation (at least 20 characters)."})
    signatures.check_credentials(actor, password, otp_token)
    return _sign(actor, attestation, statement.strip())


@transaction.atomic
def _sign(actor, attestation, statement) -> Attestation:
    attestation = Attestation.objects.select_for_update().select_related("model").get(pk=attestation.pk)
    if attestation.signature_id:
        raise Conflict("This attestation is already signed.")
    payload = {
        "object": f"governance.attestation:{attestation.pk}",
        "model": attestation.model.key,
        "year": attestation.year,
        "statement": statement,
        "meaning": Signature.Meaning.ATTESTED,
    }
    attestation.statement = statement
    attestation.signature = signatures.sign(
        actor, Signature.Meaning.ATTESTED, attestation, payload, policy_in_force(), statement
    )
    attestation.save(update_fields=["statement", "signature"])
    return attestation
