"""Findings raised by validators, remediated by their owners, closed by a validator or risk-accepted by compliance."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.core import signatures
from governance.core.audit import audit_record, diff, snapshot
from governance.core.exceptions import Conflict
from governance.core.models import Signature
from governance.core.notifications import notify
from governance.core.policy import policy_in_force
from risk.validation.access import accepts_risk, is_validator_of, may_record_remediation
from risk.validation.models import Finding

F = Finding.Status


@transaction.atomic
def finding_raise(actor, version, *, severity, title, description, owner, due_date, run=None, test="") -> Finding:
    """The model's validator raises a finding on a version, optionally from one test of one of its validation
    runs (the sign-off then counts the failure as addressed); its owner is told."""
    if not is_validator_of(actor, version):
        raise PermissionDenied("Only the model's validator raises findings.")
    errors = {}
    if severity not in Finding.Severity.values:
        errors["severity"] = f"Choose one of: {', '.join(Finding.Severity.values)}."
    if not isinstance(due_date, dt.date) or due_date < timezone.now().date():
        errors["due_date"] = "Give a due date that is today or later."
    model = version.model
    team = {model.owner_id, *model.developers.values_list("pk", flat=True)}
    if owner is None or not owner.is_active or owner.pk not in team:
        errors["owner"] = "The owner must be the model's owner or one of its developers."
    if run is not None and run.version_id != version.pk:
        errors["run"] = "Choose a validation run of this version."
    elif run is not None and test not in {row["test"] for row in run.results}:
        errors["test"] = f"Validation run #{run.pk} has no test named {test!r}."
    elif run is None and test:
        errors["test"] = "Name the validation run the test belongs to."
    if errors:
        raise ValidationError(errors)
    finding = Finding(
        version=version,
        severity=severity,
        title=title,
        description=description,
        owner=owner,
        due_date=due_date,
        raised_by=actor,
        run=run,
        test=test if run is not None else "",
    )
    finding.full_clean()
    finding.save()
    audit_record(
        actor,
        "finding.raise",
        finding,
        changes=diff(
            {},
            snapshot(
                finding, ["version", "severity", "title", "description", "owner", "due_date", "status", "run", "test"]
            ),
        ),
    )
    notify(
        [owner],
        "assignment",
        f"{finding} on {version} is yours to remediate by {due_date}.",
        f"/findings/{finding.pk}/",
    )
    return finding


def _locked(finding) -> Finding:
    return Finding.objects.select_for_update().select_related("version__model").get(pk=finding.pk)


@transaction.atomic
def finding_start_remediation(actor, finding, note: str) -> Finding:
    finding = _locked(finding)
    if not may_record_remediation(actor, finding):
        raise PermissionDenied("Only the finding's owner records remediation.")
    if finding.status != F.OPEN:
        raise Conflict(f"The finding is {finding.get_status_display().lower()}, not open.")
    if not note.strip():
        raise ValidationError({"note": "Say what is being done."})
    before = snapshot(finding, ["status", "remediation_note"])
    finding.status, finding.remediation_note = F.IN_REMEDIATION, note.strip()
    finding.save(update_fields=["status", "remediation_note"])
    audit_record(actor, "finding.remediation", finding, changes=diff(before, snapshot(finding, before)))
    if finding.version.model.validator:
        notify(
            [finding.version.model.validator],
            "review_request",
            f"{finding} is remediated and awaits review.",
            f"/findings/{finding.pk}/",
        )
    return finding


@transaction.atomic
def finding_close(actor, finding, comment: str) -> Finding:
    """Closure is verified by the model's validator, never by the person who fixed it (VAL-07)."""
    finding = _locked(finding)
    if not is_validator_of(actor, finding.version):
        raise PermissionDenied("Only the model's validator closes findings.")
    reasons = []
    if not finding.is_active:
        reasons.append(f"The finding is already {finding.get_status_display().lower()}.")
    if actor.pk == finding.owner_id:
        reasons.append("You own the remediation of this finding, so you cannot verify its closure.")
    if reasons:
        raise Conflict(reasons)
    if not comment.strip():
        raise ValidationError({"comment": "Say how the fix was verified."})
    before = snapshot(finding, ["status", "closed_by", "closed_at"])
    finding.status, finding.closed_by, finding.closed_at = F.CLOSED, actor, timezone.now()
    finding.save(update_fields=["status", "closed_by", "closed_at"])
    audit_record(actor, "finding.close", finding, reason=comment, changes=diff(before, snapshot(finding, before)))
    return finding


def finding_accept_risk(actor, finding, *, justification: str, password: str, otp_token: str = "") -> Finding:
    """Compliance accepts the risk of an open finding in writing, with an electronic signature."""
    if not accepts_risk(actor):
        raise PermissionDenied("Only compliance accepts risk.")
    signatures.check_credentials(actor, password, otp_token)  # outside the transaction: refusals stay audited
    return _accept_risk(actor, finding, justification)


@transaction.atomic
def _accept_risk(actor, finding, justification: str) -> Finding:
    finding = _locked(finding)
    model = finding.version.model
    if not accepts_risk(actor):
        raise PermissionDenied("Only compliance accepts risk.")
    reasons = []
    if not finding.is_active:
        reasons.append(f"The finding is already {finding.get_status_display().lower()}.")
    if actor.pk == model.owner_id or model.developers.filter(pk=actor.pk).exists():
        reasons.append("You develop or own this model, so you cannot accept its risk.")
    if reasons:
        raise Conflict(reasons)
    if len(justification.strip()) < 20:
        raise ValidationError({"justification": "Justify the acceptance in writing (at least 20 characters)."})
    payload = {
        "object": f"governance.finding:{finding.pk}",
        "finding": finding.title,
        "severity": finding.severity,
        "version": str(finding.version),
        "justification": justification.strip(),
        "meaning": Signature.Meaning.RISK_ACCEPTED,
    }
    signature = signatures.sign(
        actor, Signature.Meaning.RISK_ACCEPTED, finding, payload, policy_in_force(), justification.strip()
    )
    before = snapshot(finding, ["status", "closed_by", "closed_at"])
    finding.status, finding.closed_by, finding.closed_at = F.RISK_ACCEPTED, actor, timezone.now()
    finding.risk_acceptance = signature
    finding.save(update_fields=["status", "closed_by", "closed_at", "risk_acceptance"])
    audit_record(
        actor, "finding.risk_accepted", finding, reason=justification, changes=diff(before, snapshot(finding, before))
    )
    return finding
