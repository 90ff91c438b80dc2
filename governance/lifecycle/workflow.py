"""The lifecycle of a model version: who may move it, from where to where, and on what conditions.

Hand-written as a table rather than with django-fsm-2: a refused transition must answer with *every*
unmet condition (409), tell a forbidden role apart (403) from an invisible object (404), require
re-authentication for signing actions, and take a row lock so concurrent requests cannot both win;
a library's boolean conditions would still need all of that around them. The table below is the
single place these rules live; the UI, the API and tests all read it.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from governance.core import access as perms
from governance.core import signatures
from governance.core.audit import audit_record
from governance.core.exceptions import Conflict
from governance.core.models import Finding, PilotPlan, Signature, VersionTransition
from governance.core.notifications import notify
from governance.core.policy import policy_in_force
from governance.core.roles import Role, user_roles, users_with_role
from models_registry.choices import LifecycleStatus as S
from models_registry.models import Model, ModelVersion
from risk.validation.models import Evidence
from risk.validation.signed_content import version_payload

M = Signature.Meaning


@dataclass(frozen=True)
class Rule:
    action: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: decided at run time (resume, rollback)
    actor: str  # team | validator | compliance | owner_or_compliance
    signing: str | None = None  # the meaning of the signature the action records
    needs_comment: bool = False


RULES = {
    r.action: r
    for r in [
        Rule("submit", "Submit for validation", (S.DRAFT,), S.SUBMITTED, "team"),
        Rule("start_validation", "Start validation", (S.SUBMITTED,), S.IN_VALIDATION, "validator"),
        Rule("validate", "Sign: validated", (S.IN_VALIDATION,), S.VALIDATED, "validator", M.VALIDATED),
        Rule(
            "validate_with_conditions",
            "Sign: validated with conditions",
            (S.IN_VALIDATION,),
            S.VALIDATED_WITH_CONDITIONS,
            "validator",
            M.VALIDATED_WITH_CONDITIONS,
        ),
        Rule("reject", "Sign: rejected", (S.IN_VALIDATION,), S.REJECTED, "validator", M.REJECTED, needs_comment=True),
        Rule(
            "approve_deployment",
            "Sign: approve for deployment",
            (S.VALIDATED, S.VALIDATED_WITH_CONDITIONS),
            S.APPROVED,
            "compliance",
            M.APPROVED,
        ),
        Rule("start_pilot", "Start pilot", (S.APPROVED,), S.PILOT, "owner_or_compliance"),
        Rule("promote", "Promote to production", (S.PILOT,), S.PRODUCTION, "compliance"),
        Rule(
            "suspend",
            "Suspend (kill switch)",
            (S.PILOT, S.PRODUCTION),
            S.SUSPENDED,
            "owner_or_compliance",
            needs_comment=True,
        ),
        Rule("resume", "Resume", (S.SUSPENDED,), None, "compliance", needs_comment=True),
        Rule(
            "rollback",
            "Roll back to the previous version",
            (S.PRODUCTION, S.SUSPENDED),
            S.RETIRED,
            "compliance",
            needs_comment=True,
        ),
        Rule(
            "retire",
            "Retire",
            (S.VALIDATED, S.VALIDATED_WITH_CONDITIONS, S.REJECTED, S.APPROVED, S.PILOT, S.PRODUCTION, S.SUSPENDED),
            S.RETIRED,
            "owner_or_compliance",
            needs_comment=True,
        ),
    ]
}
SIGNOFF_ACTIONS = ("validate", "validate_with_conditions", "reject")
ELEMENTS = ("conceptual_soundness", "ongoing_monitoring", "outcomes_analysis")
# Which version status the model shows, most significant first.
MODEL_STATUS_ORDER = [
    S.PRODUCTION,
    S.PILOT,
    S.SUSPENDED,
    S.APPROVED,
    S.VALIDATED_WITH_CONDITIONS,
    S.VALIDATED,
    S.IN_VALIDATION,
    S.SUBMITTED,
    S.REJECTED,
    S.DRAFT,
    S.RETIRED,
]


# --- Who may act ------------------------------------------------------------------------------------


def _is_compliance(user) -> bool:
    return Role.COMPLIANCE in user_roles(user)


def _role_allows(rule: Rule, user, model: Model) -> bool:
    """Role-based permission to attempt the action (403 when false). Superusers get nothing extra."""
    if rule.actor == "team":
        return perms.can(user, perms.ADD_VERSION, model) and bool(user_roles(user) & {Role.DEVELOPER, Role.OWNER})
    if rule.actor == "validator":
        return model.validator_id == user.pk and Role.VALIDATOR in user_roles(user)
    if rule.actor == "compliance":
        return _is_compliance(user)
    if rule.actor == "owner_or_compliance":
        return model.owner_id == user.pk or _is_compliance(user)
    raise ValueError(rule.actor)


# --- Conditions: each returns the reasons it is unmet ------------------------------------------------


def _submitter_id(version) -> int | None:
    return (
        VersionTransition.objects.filter(version=version, action="submit")
        .order_by("-at")
        .values_list("actor_id", flat=True)
        .first()
    )


def _segregation(rule: Rule, user, version, model) -> list[str]:
    """Segregation of duties, the same for everyone including superusers (VAL-01, GOV-02)."""
    reasons = []
    team = set(model.developers.values_list("pk", flat=True)) | {model.owner_id}
    independent = rule.actor in ("validator", "compliance") and rule.action != "resume"
    if independent and user.pk in team:
        reasons.append("You develop or own this model, so you cannot validate or approve it.")
    if rule.action in SIGNOFF_ACTIONS + ("start_validation",) and version.created_by_id == user.pk:
        reasons.append("You registered this version, so you cannot validate it.")
    if rule.action == "approve_deployment":
        if _submitter_id(version) == user.pk:
            reasons.append("You submitted this version, so you cannot approve it.")
        if model.validator_id == user.pk:
            reasons.append("You are this model's validator, so you cannot also approve its deployment.")
    return reasons


def _evidence_reasons(action, version, policy) -> list[str]:
    required = policy.evidence_for(action)
    have = set(Evidence.objects.filter(version=version, kind__in=required).values_list("kind", flat=True))
    labels = dict(Evidence.Kind.choices)
    return [
        f"Attach {labels.get(kind, kind).lower()} evidence first (policy v{policy.version})."
        for kind in required
        if kind not in have
    ]


def _conditions(rule: Rule, user, version, model, policy) -> list[str]:
    reasons = []
    if rule.action == "submit":
        if not model.validator_id:
            reasons.append("Compliance must assign a validator to the model first.")
        if not model.intended_use.strip():
            reasons.append("The model's intended use is empty.")
        if not model.known_limitations.strip():
            reasons.append("The model's known limitations are empty.")
    if rule.action in SIGNOFF_ACTIONS + ("promote",):
        reasons += _evidence_reasons(rule.action, version, policy)
    if rule.action == "approve_deployment":
        if not Signature.objects.filter(
            object_type="models_registry.modelversion",
            object_id=str(version.pk),
            meaning__in=[M.VALIDATED, M.VALIDATED_WITH_CONDITIONS],
        ).exists():
            reasons.append("The validator has not signed this version.")
        open_high = Finding.objects.filter(
            version=version,
            severity=Finding.Severity.HIGH,
            status__in=[Finding.Status.OPEN, Finding.Status.IN_REMEDIATION],
        ).count()
        if open_high:
            reasons.append(
                f"{open_high} high-severity finding(s) are open; close them or have compliance accept "
                "the risk in writing."
            )
        if _approvers(version).get(user.pk):
            reasons.append("You already approved this version; a second, different approver is needed.")
    if rule.action == "promote" and not PilotPlan.objects.filter(version=version).exists():
        reasons.append("The version has no pilot on record.")
    if rule.action == "rollback" and _previous_production(version) is None:
        reasons.append("There is no earlier production version of this model to roll back to.")
    return reasons


def _approvers(version) -> dict[int, Signature]:
    """Approval signatures given since the version last entered validated status."""
    entered = (
        VersionTransition.objects.filter(version=version, to_status__in=[S.VALIDATED, S.VALIDATED_WITH_CONDITIONS])
        .exclude(from_status=F("to_status"))  # a first approval of two stays in place; it is no entry
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    qs = Signature.objects.filter(
        object_type="models_registry.modelversion", object_id=str(version.pk), meaning=M.APPROVED
    )
    if entered:
        qs = qs.filter(signed_at__gte=entered)
    return {s.signer_id: s for s in qs}


def _previous_production(version):
    """The version this one superseded in production, if any."""
    return (
        ModelVersion.objects.filter(
            model=version.model,
            status=S.RETIRED,
            transitions__action="superseded",
            transitions__details__superseded_by=version.pk,
        )
        .order_by("-created_at")
        .first()
    )


# --- What a person may do now (for the UI and the API) ------------------------------------------------


@dataclass
class Availability:
    action: str
    label: str
    allowed: bool
    reasons: list[str]
    signing: bool


def available_actions(user, version) -> list[Availability]:
    """Every action that leaves the current status, with why it is or is not open to this user."""
    model = version.model
    policy = policy_in_force()
    out = []
    for rule in RULES.values():
        if version.status not in rule.sources:
            continue
        if not _role_allows(rule, user, model):
            continue  # not this person's action at all: the page need not offer it
        reasons = _segregation(rule, user, version, model) + _conditions(rule, user, version, model, policy)
        out.append(Availability(rule.action, rule.label, not reasons, reasons, bool(rule.signing)))
    return out


# --- Input of signing actions ----------------------------------------------------------------------------


def _clean_signoff(rule: Rule, version, model, data) -> dict:
    """Validation sign-off content (SR 11-7 core elements); errors are raised by field (400)."""
    if not isinstance(data, dict):
        raise ValidationError({"signoff": "Give the sign-off: the three core elements and the tier."})
    errors: dict[str, str] = {}
    clean: dict = {}
    evidence_ids = set(Evidence.objects.filter(version=version).values_list("pk", flat=True))
    for element in ELEMENTS:
        part = data.get(element)
        if not isinstance(part, dict):
            errors[f"signoff.{element}"] = "Link evidence or justify why it is not applicable."
            continue
        linked = part.get("evidence") or []
        justification = str(part.get("not_applicable", "") or "").strip()
        if not isinstance(linked, list) or not all(isinstance(i, int) and i in evidence_ids for i in linked):
            errors[f"signoff.{element}"] = "Link evidence attached to this version."
        elif not linked and not justification:
            errors[f"signoff.{element}"] = "Link evidence or justify why it is not applicable."
        elif not linked and element == "outcomes_analysis" and model.risk_tier == 1:
            errors[f"signoff.{element}"] = "A Tier 1 model cannot mark outcomes analysis not applicable."
        else:
            clean[element] = {"evidence": sorted(linked), "not_applicable": justification if not linked else ""}
    tier = data.get("tier_confirmed")
    if tier not in (1, 2, 3):
        errors["signoff.tier_confirmed"] = "Confirm the tier (1, 2 or 3)."
    clean["tier_confirmed"] = tier
    has_findings = Finding.objects.filter(version=version).exists()
    no_findings = str(data.get("no_findings_justification", "") or "").strip()
    if not has_findings and len(no_findings) < 20:
        errors["signoff.no_findings_justification"] = (
            "With no findings raised, list what was reviewed (at least 20 characters)."
        )
    clean["no_findings_justification"] = no_findings
    conditions = str(data.get("conditions", "") or "").strip()
    if rule.action == "validate_with_conditions" and not conditions:
        errors["signoff.conditions"] = "State the conditions of use."
    clean["conditions"] = conditions
    if errors:
        raise ValidationError(errors)
    return clean


def _clean_pilot(data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError({"pilot": "Give the pilot limits: max_notional, instruments or venues, end_date."})
    errors = {}
    try:
        notional = Decimal(str(data.get("max_notional")))
        if not notional.is_finite() or notional <= 0 or notional >= Decimal("1e18"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["pilot.max_notional"] = "Give a positive maximum notional."
        notional = None
    lists = {}
    for name in ("instruments", "venues"):
        value = data.get(name) or []
        if (
            not isinstance(value, list)
            or not all(isinstance(v, str) and 0 < len(v) <= 50 for v in value)
            or len(value) > 500
        ):
            errors[f"pilot.{name}"] = "Give a list of identifiers (text, at most 50 characters each)."
        lists[name] = value if isinstance(value, list) else []
    if not errors and not (lists["instruments"] or lists["venues"]):
        errors["pilot.instruments"] = "Limit the pilot to some instruments or venues."
    try:
        end = dt.date.fromisoformat(str(data.get("end_date")))
        if end <= timezone.now().date():
            errors["pilot.end_date"] = "The pilot must end in the future."
    except ValueError:
        errors["pilot.end_date"] = "Give the end date as YYYY-MM-DD."
        end = None
    if errors:
        raise ValidationError(errors)
    return {"max_notional": notional, "end_date": end, **lists}


# --- The transition itself -----------------------------------------------------------------------------


def version_transition(
    user, version, action: str, *, comment: str = "", password: str = "", otp_token: str = "", signoff=None, pilot=None
) -> ModelVersion:
    """Move a version through its lifecycle. 403: not your action; 409: state or unmet conditions; 400: input."""
    rule = RULES.get(action)
    if rule is None:
        raise ValidationError({"action": f"Unknown action. Choose one of: {', '.join(RULES)}."})
    if rule.signing:
        # Re-authenticate before the transaction: a refused attempt must stay in the audit trail even
        # though nothing else is written. Role and state are checked first so a wrong role still gets 403.
        model = Model.objects.get(pk=version.model_id)
        if not _role_allows(rule, user, model):
            raise PermissionDenied(f"Your role may not {rule.label.lower()} this version.")
        signatures.check_credentials(user, password, otp_token)
    return _transition(user, version, rule, comment, signoff, pilot)


@transaction.atomic
def _transition(user, version, rule, comment, signoff, pilot) -> ModelVersion:
    action = rule.action
    # The row lock makes concurrent transitions take turns: the second sees the first's result (409).
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    model = Model.objects.select_for_update().get(pk=version.model_id)
    if not _role_allows(rule, user, model):
        raise PermissionDenied(f"Your role may not {rule.label.lower()} this version.")
    if version.status not in rule.sources:
        raise Conflict(f"A version that is {version.get_status_display().lower()} cannot be moved by '{action}'.")
    comment = (comment or "").strip()
    if rule.needs_comment and not comment:
        raise ValidationError({"comment": "Give the reason; it is kept in the audit trail."})
    if len(comment) > 5000:
        raise ValidationError({"comment": "Keep the comment under 5,000 characters."})
    clean_signoff = _clean_signoff(rule, version, model, signoff) if action in SIGNOFF_ACTIONS else None
    clean_pilot = _clean_pilot(pilot) if action == "start_pilot" else None
    policy = policy_in_force()
    reasons = _segregation(rule, user, version, model) + _conditions(rule, user, version, model, policy)
    if reasons:
        raise Conflict(reasons)
    signature = None
    if rule.signing:
        payload = version_payload(version)
        payload["meaning"] = rule.signing
        if clean_signoff is not None:
            payload["signoff"] = clean_signoff
        signature = signatures.sign(user, rule.signing, version, payload, policy, comment)
    return _apply(rule, user, version, model, policy, comment, signature, clean_signoff, clean_pilot)


def _apply(rule, user, version, model, policy, comment, signature, signoff, pilot):
    from_status = version.status
    target = rule.target
    details: dict = {}
    if rule.action == "approve_deployment":
        needed = policy.approvals_for(model.risk_tier)
        given = len(_approvers(version))  # includes the signature just recorded
        details = {"approval": given, "of": needed}
        if given < needed:
            target = from_status  # four eyes: the first approval is recorded, the status waits for the second
    if rule.action == "resume":
        last = version.transitions.filter(action="suspend").order_by("-at").first()
        target = last.from_status if last else S.PRODUCTION
    if rule.action == "start_pilot":
        PilotPlan.objects.update_or_create(version=version, defaults={**pilot, "created_by": user})
        details = {k: str(v) if not isinstance(v, list) else v for k, v in pilot.items()}
    if rule.action == "rollback":
        previous = _previous_production(version)
        _move(previous, S.PRODUCTION, "rollback", user, policy, comment, {"rolled_back_from": version.pk})
        details = {"restored": previous.version}
    if rule.action == "promote":
        for older in ModelVersion.objects.filter(model=model, status__in=[S.PRODUCTION]).exclude(pk=version.pk):
            _move(
                older,
                S.RETIRED,
                "superseded",
                user,
                policy,
                f"Superseded by {version.version}.",
                {"superseded_by": version.pk},
            )
        details = {"superseded_by": version.pk}
    transition = _move(version, target, rule.action, user, policy, comment, details, signature)
    _after_validation(rule, user, model, policy, signoff)
    sync_model_status(model, user)
    _notify(rule, version, model, transition)
    return ModelVersion.objects.select_related("model").get(pk=version.pk)


def _move(version, target, action, user, policy, comment, details, signature=None) -> VersionTransition:
    from_status = version.status
    if target != from_status:
        # Conditional update as a second guard behind the row lock: zero rows means someone moved it.
        updated = ModelVersion.objects.filter(pk=version.pk, status=from_status).update(
            status=target, updated_at=timezone.now()
        )
        if updated != 1:
            raise Conflict("The version changed while you were acting; reload and try again.")
        version.status = target
    transition = VersionTransition.objects.create(
        version=version,
        action=action,
        from_status=from_status,
        to_status=target,
        actor=user,
        at=timezone.now(),
        comment=comment,
        details=details,
        signature=signature,
        policy=policy,
    )
    audit_record(
        user,
        f"version.{action}",
        version,
        reason=comment,
        changes={
            "status": [from_status, target],
            "policy_version": [None, policy.version],
            **({"details": [None, details]} if details else {}),
        },
    )
    return transition


def _after_validation(rule, user, model, policy, signoff) -> None:
    """A validation signature dates the model's validation and confirms or changes its tier."""
    if rule.action not in ("validate", "validate_with_conditions"):
        return
    before = {
        "last_validated_at": model.last_validated_at,
        "next_validation_due": model.next_validation_due,
        "risk_tier": model.risk_tier,
    }
    tier = signoff["tier_confirmed"]
    if tier != model.risk_tier:
        model.tier_override = tier
        model.tier_override_justification = f"Tier set to {tier} by the validator at sign-off."
        model.risk_tier = tier
    today = timezone.now().date()
    model.last_validated_at = today
    model.next_validation_due = _add_months(today, policy.months_for(model.risk_tier))
    model.save(
        update_fields=[
            "last_validated_at",
            "next_validation_due",
            "risk_tier",
            "tier_override",
            "tier_override_justification",
            "updated_at",
        ]
    )
    after = {k: getattr(model, k) for k in before}
    audit_record(
        user,
        "model.validation_dated",
        model,
        changes={k: [before[k], after[k]] for k in before if before[k] != after[k]},
    )


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def sync_model_status(model, actor) -> None:
    """The model's status follows its versions: the most significant version status wins."""
    statuses = set(ModelVersion.objects.filter(model=model).values_list("status", flat=True))
    new = next((s for s in MODEL_STATUS_ORDER if s in statuses), S.DRAFT)
    if new != model.status:
        old = model.status
        Model.objects.filter(pk=model.pk).update(status=new, updated_at=timezone.now())
        model.status = new
        audit_record(actor, "model.status_followed_versions", model, changes={"status": [old, new]})


def _notify(rule, version, model, transition) -> None:
    url = reverse("models_registry:version-detail", kwargs={"key": model.key, "version": version.version})
    name = f"{model.key} {version.version}"
    team = [model.owner, *model.developers.all()]
    compliance = list(users_with_role(Role.COMPLIANCE))
    messages = {
        "submit": ([model.validator], "signature_request", f"{name} was submitted for your validation."),
        "validate": (compliance, "signature_request", f"{name} was validated and awaits deployment approval."),
        "validate_with_conditions": (
            compliance,
            "signature_request",
            f"{name} was validated with conditions and awaits deployment approval.",
        ),
        "reject": (team, "decision", f"{name} was rejected by its validator."),
        "approve_deployment": (
            team if transition.to_status == S.APPROVED else [u for u in compliance if u.pk != transition.actor_id],
            "decision" if transition.to_status == S.APPROVED else "signature_request",
            f"{name} was approved for deployment."
            if transition.to_status == S.APPROVED
            else f"{name} needs a second deployment approval (four eyes).",
        ),
        "suspend": (team + compliance, "alert", f"{name} was suspended: {transition.comment}"),
        "rollback": (team + compliance, "alert", f"{name} was rolled back: {transition.comment}"),
    }
    if rule.action in messages:
        users, kind, text = messages[rule.action]
        notify(users, kind, text, url)


def version_history(version):
    return version.transitions.select_related("actor", "signature", "policy").order_by("at", "id")
