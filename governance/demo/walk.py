"""Walk a version through the real lifecycle to a status: the demo seed and the test factories use it, so
every demo or test version in production has its submission, validation sign-off, approvals (four eyes on
Tier 1), pilot with limits, promotion and signatures, and can be rolled back.

Nothing here sets a status directly: each step is the service a person would use, signed with the signer's
password, with the evidence the policy asks for attached first.
"""

import datetime as dt

from django.core.files.base import ContentFile
from django.utils import timezone

from governance.core.policy import policy_in_force
from governance.core.roles import Role, users_with_role
from governance.lifecycle import workflow
from governance.lifecycle.workflow import Action
from models_registry.choices import LifecycleStatus as S
from risk.validation import services as evidence_services

# The path to each status, as actions from draft.
TO_VALIDATED = [Action.SUBMIT, Action.START_VALIDATION, Action.VALIDATE]
TO_PRODUCTION = [*TO_VALIDATED, Action.APPROVE_DEPLOYMENT, Action.START_PILOT, Action.PROMOTE]
PATHS = {
    S.DRAFT: [],
    S.SUBMITTED: [Action.SUBMIT],
    S.IN_VALIDATION: [Action.SUBMIT, Action.START_VALIDATION],
    S.VALIDATED: TO_VALIDATED,
    S.VALIDATED_WITH_CONDITIONS: [Action.SUBMIT, Action.START_VALIDATION, Action.VALIDATE_WITH_CONDITIONS],
    S.REJECTED: [Action.SUBMIT, Action.START_VALIDATION, Action.REJECT],
    S.APPROVED: [*TO_VALIDATED, Action.APPROVE_DEPLOYMENT],
    S.PILOT: [*TO_VALIDATED, Action.APPROVE_DEPLOYMENT, Action.START_PILOT],
    S.PRODUCTION: TO_PRODUCTION,
    S.SUSPENDED: [*TO_PRODUCTION, Action.SUSPEND],
    S.RETIRED: [*TO_PRODUCTION, Action.RETIRE],
}


class CannotWalk(Exception):
    """The version cannot reach the status with the people at hand (no validator, no independent approvers,
    or a signer whose password is unknown)."""


def walk(version, status: str, password_for, *, pilot_end: dt.date | None = None):
    """Move a draft `version` to `status` through the lifecycle. `password_for(user)` answers the signer's
    password (or None when unknown). Returns the version in its new status."""
    model = version.model
    path = PATHS[status]
    for action in path:
        version = step(version, model, action, password_for, pilot_end)
    return version


def step(version, model, action, password_for, pilot_end=None, signoff=None):
    """One action of the walk (the demo's history takes them one by one, days apart). `signoff`: what the
    validator adds to the sign-off (the dispositions and acknowledged warnings of the run it cites)."""
    return _step(version, model, action, password_for, pilot_end, signoff or {})


def _step(version, model, action, password_for, pilot_end, extra=None):
    if action == Action.SUBMIT:
        actor = version.created_by
        return workflow.version_transition(actor, version, action)
    if action == Action.START_VALIDATION:
        return workflow.version_transition(_validator(model), version, action)
    if action in (Action.VALIDATE, Action.VALIDATE_WITH_CONDITIONS, Action.REJECT):
        validator = _validator(model)
        report = _attach(validator, version, "validation_report", "validation-report.md", _report(version, action))
        signoff = {
            "conceptual_soundness": {"evidence": [report.pk]},
            "ongoing_monitoring": {"not_applicable": "Monitoring plan reviewed with the desk; thresholds agreed."},
            "outcomes_analysis": {"evidence": [report.pk]},
            "tier_confirmed": model.risk_tier,
            "no_findings_justification": "Reviewed data lineage, the backtest windows, the code and the claims.",
            "conditions": "Use within the pilot limits; re-validate after any change of features."
            if action == Action.VALIDATE_WITH_CONDITIONS
            else "",
            **(extra or {}),
        }
        comment = "Rejected: the out-of-sample period does not support the claims." if action == Action.REJECT else ""
        return workflow.version_transition(
            validator, version, action, password=_password(validator, password_for), signoff=signoff, comment=comment
        )
    if action == Action.APPROVE_DEPLOYMENT:
        needed = policy_in_force().approvals_for(model.risk_tier)
        for approver in _approvers(version, model, needed):
            version = workflow.version_transition(
                approver, version, action, password=_password(approver, password_for), comment="Approved."
            )
        return version
    if action == Action.START_PILOT:
        end = pilot_end or timezone.now().date() + dt.timedelta(days=60)
        limits = {"max_notional": "5000000", "instruments": ["ESZ6", "NQZ6"], "venues": ["XCME"], "end_date": str(end)}
        return workflow.version_transition(model.owner, version, action, pilot=limits, comment="Pilot started.")
    if action == Action.PROMOTE:
        _attach(model.owner, version, "pilot_results", "pilot-results.md", b"# Pilot results\n\nNo limit breaches.\n")
        approver = _approvers(version, model, 1)[0]
        password = _password(approver, password_for)
        return workflow.version_transition(approver, version, action, password=password, comment="Pilot clean.")
    if action in (Action.SUSPEND, Action.RETIRE):
        comment = (
            "Suspended pending review of live slippage." if action == Action.SUSPEND else "Replaced by a new model."
        )
        return workflow.version_transition(model.owner, version, action, comment=comment)
    raise CannotWalk(f"No step for {action}.")


def _validator(model):
    if model.validator is None:
        raise CannotWalk(f"{model.key} has no validator.")
    return model.validator


def _approvers(version, model, needed: int):
    """Compliance officers independent of the version: not on the team, not its validator, not its submitter."""
    excluded = {
        model.owner_id,
        model.validator_id,
        version.created_by_id,
        *model.developers.values_list("pk", flat=True),
    }
    people = [u for u in users_with_role(Role.COMPLIANCE) if u.pk not in excluded][:needed]
    if len(people) < needed:
        raise CannotWalk(f"{model.key} needs {needed} independent compliance approver(s).")
    return people


def _password(user, password_for) -> str:
    password = password_for(user)
    if not password:
        raise CannotWalk(f"The password of {user.username} is not known, so they cannot sign.")
    return password


def _attach(actor, version, kind, name, content: bytes):
    return evidence_services.evidence_add(actor, version, file=ContentFile(content, name=name), kind=kind)


def _report(version, action) -> bytes:
    verdict = {
        Action.VALIDATE: "Validated.",
        Action.VALIDATE_WITH_CONDITIONS: "Validated with conditions.",
        Action.REJECT: "Rejected.",
    }[action]
    return (
        f"# Validation report: {version.model.key} {version.version}\n\n"
        "Conceptual soundness, data lineage, outcomes analysis and the developer's claims were reviewed.\n\n"
        f"Conclusion: {verdict}\n"
    ).encode()
