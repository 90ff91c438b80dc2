"""The RTS 6 Art. 9 annual self-assessment: compliance prepares it for a year (the year's figures are frozen
with their hash, and a conclusion written), then signs it; a senior manager, another person, signs it too.
Once signed it never changes; the RTS 6 pack of that year carries its figures and both sign-offs, and each
sign-off's hash recomputes from the pack (docs/verify_signature_hashes.py)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance.core import access, notifications, signatures
from governance.core.audit import audit_record
from governance.core.exceptions import Conflict
from governance.core.models import AuditEvent, Signature, UserProfile
from governance.core.policy import policy_in_force
from risk.exports.access import prepares_self_assessment
from risk.exports.models import SelfAssessment
from risk.exports.supervisor_packs import rts6_figures

COMPLIANCE = Signature.Meaning.SELF_ASSESSMENT_COMPLIANCE
SENIOR = Signature.Meaning.SELF_ASSESSMENT_SENIOR


def _senior_managers():
    return UserProfile.objects.filter(senior_manager=True, user__is_active=True).select_related("user")


def check_year(errors: dict, value) -> int | None:
    """A whole year from the first audit record's to this one."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        errors["year"] = ["Give a year, e.g. 2026."]
        return None
    first = AuditEvent.objects.order_by("timestamp").values_list("timestamp", flat=True).first()
    now = timezone.now()
    if year > now.year:
        errors["year"] = [f"{year} has not begun: give {now.year} or an earlier year."]
    elif first is not None and year < first.year:
        errors["year"] = [f"The audit trail starts in {first.year}: nothing was recorded in {year}."]
    return year


def prepare(actor, year, conclusion: str) -> SelfAssessment:
    """Compliance freezes the year's figures and writes the conclusion; again while nobody has signed."""
    if not prepares_self_assessment(actor):
        raise PermissionDenied("Compliance prepares the self-assessment.")
    errors: dict = {}
    year = check_year(errors, year)
    conclusion = (conclusion or "").strip() if isinstance(conclusion, str) else ""
    if not conclusion:
        errors["conclusion"] = ["Write the conclusion: how the firm meets RTS 6, and what it will remedy."]
    elif len(conclusion) > 20000:
        errors["conclusion"] = ["Keep the conclusion under 20,000 characters."]
    if errors:
        raise ValidationError(errors)
    figures = rts6_figures(year)
    with transaction.atomic():
        existing = SelfAssessment.objects.select_for_update().filter(year=year).first()
        if existing is not None and (existing.compliance_signature_id or existing.senior_signature_id):
            raise Conflict(f"The {year} self-assessment is signed: it can no longer change.")
        assessment, created = SelfAssessment.objects.update_or_create(
            year=year,
            defaults={
                "figures": figures,
                "figures_sha256": signatures.canonical_hash(figures),
                "conclusion": conclusion,
                "prepared_by": actor,
                "prepared_at": timezone.now(),
            },
        )
        audit_record(
            actor,
            "self_assessment.prepare",
            assessment,
            changes={"figures_sha256": [None, assessment.figures_sha256], "models": [None, len(figures["models"])]},
            reason="prepared" if created else "prepared again",
        )
    return assessment


def payload(assessment, meaning: str) -> dict:
    return {
        "object": f"{SelfAssessment.AUDIT_TYPE}:{assessment.pk}",
        "meaning": meaning,
        "year": assessment.year,
        "conclusion": assessment.conclusion,
        "figures_sha256": signatures.canonical_hash(assessment.figures),
    }


def next_sign_off(actor, assessment) -> tuple[str, str]:
    """(meaning, field) of the sign-off `actor` may give now; PermissionDenied or Conflict with the reason."""
    if assessment.compliance_signature_id is None:
        if not prepares_self_assessment(actor):
            raise PermissionDenied("Compliance signs the self-assessment first.")
        return COMPLIANCE, "compliance_signature"
    if assessment.senior_signature_id is None:
        if not access.is_senior_manager(actor):
            names = [p.user.get_full_name() or p.user.get_username() for p in _senior_managers()]
            who = f" ({', '.join(names)})" if names else " (an administrator marks who holds that function)"
            raise PermissionDenied(f"A senior manager signs it now{who}.")
        if assessment.compliance_signature.signer_id == actor.pk:
            raise Conflict("You signed it for compliance: another person signs as senior manager.")
        return SENIOR, "senior_signature"
    raise Conflict(f"The {assessment.year} self-assessment carries both sign-offs already.")


def awaiting(user) -> list[SelfAssessment]:
    """Prepared self-assessments whose next sign-off is this user's to give (for My queue): next_sign_off decides,
    as it does for signing. Unsigned assessments are one a year at most, so asking per row costs little."""
    mine = []
    for assessment in SelfAssessment.objects.filter(senior_signature__isnull=True).select_related(
        "compliance_signature"
    ):
        try:
            next_sign_off(user, assessment)
        except (PermissionDenied, Conflict):
            continue
        mine.append(assessment)
    return mine


def sign(actor, assessment, *, password: str, otp_token: str = "", comment: str = "") -> SelfAssessment:
    """Compliance signs first, then a senior manager who is not the compliance signer; each once."""
    next_sign_off(actor, SelfAssessment.objects.select_related("compliance_signature").get(pk=assessment.pk))
    # Outside the transaction: a refused password is audited even though nothing is signed.
    signatures.check_credentials(actor, password, otp_token)
    with transaction.atomic():
        assessment = SelfAssessment.objects.select_for_update().get(pk=assessment.pk)
        meaning, field = next_sign_off(actor, assessment)  # again, under the lock: another may have signed
        signature = signatures.sign(
            actor, meaning, assessment, payload(assessment, meaning), policy_in_force(), comment
        )
        setattr(assessment, field, signature)
        assessment.save(update_fields=[field])
        if meaning == COMPLIANCE:
            notifications.notify(
                users=[p.user_id for p in _senior_managers() if p.user_id != actor.pk],
                kind="sign_off_request",
                message=f"The {assessment.year} RTS 6 self-assessment awaits a senior manager's sign-off.",
                url=reverse("exports:self-assessment", kwargs={"year": assessment.year}),
                dedupe_key=f"self-assessment:{assessment.pk}:senior",
            )
    return assessment


def _current_payload(assessment, signed: dict) -> dict:
    return payload(assessment, signed.get("meaning", ""))


def register() -> None:
    signatures.register_payload(SelfAssessment.AUDIT_TYPE, SelfAssessment, _current_payload)
    notifications.register_kind("sign_off_request", "Sign-off requested")
