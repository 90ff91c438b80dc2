"""Reads of the lifecycle: a version's history, signatures and pilot, a model's attestations, a person's queue."""

from django.db.models import QuerySet
from django.http import Http404

from governance.core import access
from governance.core.audit import audit_type
from governance.core.models import Notification, Signature
from governance.core.redaction import redact_notifications
from governance.core.signatures import verify
from governance.lifecycle.models import Attestation, PilotPlan, VersionTransition
from models_registry.choices import LifecycleStatus as S
from models_registry.models import ModelVersion
from risk.validation.models import Finding, ValidationRun


def version_history(version) -> QuerySet:
    return (
        VersionTransition.objects.filter(version=version)
        .select_related("actor", "signature", "policy")
        .order_by("at", "id")
    )


def version_signatures(version) -> list[tuple[Signature, tuple[bool, str]]]:
    """The version's signatures, each with the outcome of verifying it against the database now."""
    signatures = Signature.objects.filter(object_type=audit_type(version), object_id=str(version.pk))
    return [(s, verify(s, version)) for s in signatures.select_related("policy")]


def suspension_of(version) -> dict | None:
    """The suspension a resume decides on, as its signature pins it and its form shows it: the step that suspended
    the version (when, by whom, from which status, why; the incident policy's cause and its signature when Vigil
    suspended it), and the model's revalidation flag now. None when the version was never suspended."""
    step = (
        VersionTransition.objects.filter(version=version, action="suspend")
        .select_related("actor", "signature")
        .order_by("-at", "-id")
        .first()
    )
    if step is None:
        return None
    return {
        "transition": step.pk,
        "at": step.at.isoformat(),
        "by": step.actor.get_username(),
        "by_name": step.actor.get_full_name() or step.actor.get_username(),
        "from": step.from_status,
        "reason": step.comment,
        "by_policy": step.details.get("by_policy"),
        "signature": step.signature.content_hash if step.signature_id else None,
        "revalidation_flag": version.model.revalidation_flag,
    }


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


def notifications_of(user, limit: int = 50) -> list:
    """My latest notifications, each as I may read it now (one about a model I no longer see names nothing)."""
    return redact_notifications(user, Notification.objects.filter(user=user)[:limit])


def findings_owned_by(user) -> QuerySet:
    return Finding.objects.filter(owner=user, status__in=Finding.ACTIVE).select_related("version__model")


def latest_validation_signature(version) -> Signature | None:
    return (
        Signature.objects.filter(
            object_type=audit_type(version),
            object_id=str(version.pk),
            meaning__in=[Signature.Meaning.VALIDATED, Signature.Meaning.VALIDATED_WITH_CONDITIONS],
        )
        .order_by("-signed_at", "-id")
        .first()
    )


def conditions_of_use(version) -> str:
    """The conditions the validator set when validating with conditions ("" when there are none)."""
    signature = latest_validation_signature(version)
    return (signature.payload.get("signoff") or {}).get("conditions", "") if signature else ""


def approval_summary(version, policy) -> dict:
    """What a deployment approval approves: the validation it rests on (who, the cited run's outcomes, each
    failed test with its finding or disposition), open findings by severity, conditions of use, the tier and
    the policy version. Plain data: the approval signature pins it."""
    validation = latest_validation_signature(version)
    signoff = (validation.payload.get("signoff") or {}) if validation else {}
    cited = (validation.payload.get("validation_run") or {}) if validation else {}
    run = ValidationRun.objects.filter(pk=cited.get("id"), version=version).first() if cited else None
    run_summary = None
    if run is not None:
        outcomes = {"pass": 0, "warn": 0, "fail": 0, "skipped": 0}
        for row in run.results:
            outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + 1
        raised = dict(Finding.objects.filter(run=run).values_list("test", "title"))
        failed = [
            {
                "test": r["test"],
                "finding": raised.get(r["test"], ""),
                "disposition": signoff.get("dispositions", {}).get(r["test"], ""),
            }
            for r in run.results
            if r["outcome"] == "fail"
        ]
        run_summary = {
            "id": run.pk,
            "outcomes": outcomes,
            "failed": failed,
            "results_sha256": cited.get("results_sha256"),
        }
    open_findings = {severity: 0 for severity in Finding.Severity.values}
    for severity in Finding.objects.filter(version=version, status__in=Finding.ACTIVE).values_list(
        "severity", flat=True
    ):
        open_findings[severity] += 1
    return {
        "validated_by": validation.full_name_snapshot if validation else "",
        "validated_at": validation.signed_at.isoformat() if validation else "",
        "validation": validation.get_meaning_display() if validation else "",
        "run": run_summary,
        "open_findings": open_findings,
        "conditions": signoff.get("conditions", ""),
        "tier": version.model.risk_tier,
        "policy_version": policy.version,
        "approvals_needed": policy.approvals_for(version.model.risk_tier),
    }


ACTION_LABELS = {
    "submit": "Submitted for validation",
    "start_validation": "Validation started",
    "validate": "Signed: validated",
    "validate_with_conditions": "Signed: validated with conditions",
    "reject": "Signed: rejected",
    "approve_deployment": "Signed: approved for deployment",
    "start_pilot": "Pilot started",
    "promote": "Signed: approved for production",
    "suspend": "Suspended",
    "resume": "Signed: resumed",
    "rollback": "Rolled back",
    "retire": "Retired",
    "superseded": "Superseded in production",
}


def version_history_for_people(version) -> list[VersionTransition]:
    """The history with its actions and statuses in words, as the version page shows it."""
    labels = dict(S.choices)
    rows = list(version_history(version))
    for row in rows:
        row.action_label = ACTION_LABELS.get(row.action, row.action.replace("_", " ").capitalize())
        row.from_label = labels.get(row.from_status, row.from_status)
        row.to_label = labels.get(row.to_status, row.to_status)
    return rows


def signoff_subject(version, run) -> dict:
    """What a validator's sign-off signs, shown beside its form: the cited run (its outcomes, headline figures,
    and the failed and warned tests), the findings still open on the version, and the evidence attached."""
    run_summary = None
    if run is not None:
        outcomes = {"pass": 0, "warn": 0, "fail": 0, "skipped": 0}
        for row in run.results:
            outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + 1
        run_summary = {
            "run": run,
            "outcomes": outcomes,
            "headline": [m for m in run.metrics or [] if m.get("headline")],
            "failed": [r for r in run.results if r["outcome"] == "fail"],
            "warned": [r for r in run.results if r["outcome"] == "warn"],
        }
    rank = {severity: i for i, severity in enumerate(Finding.Severity.values)}  # high first
    findings = Finding.objects.filter(version=version, status__in=Finding.ACTIVE).select_related("owner")
    return {
        "run": run_summary,
        "open_findings": sorted(findings, key=lambda f: (rank.get(f.severity, 9), f.due_date)),
        "evidence": list(version.evidence.all()),
    }
