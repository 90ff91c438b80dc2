"""The lifecycle of a model version, as data: who may move it, from where to where, on what conditions,
and with what effects.

Hand-written as a table rather than with django-fsm-2: a refused transition must answer with *every*
unmet condition (409), tell a forbidden role apart (403) from an invisible object (404), require
re-authentication for signing actions, and take a row lock so concurrent requests cannot both win;
a library's boolean conditions would still need all of that around them.

Each Rule lists its checks (functions answering the reasons they are unmet) and its effects (functions
run in the transaction after the version moved). The UI, the API and the tests all read RULES; nothing
else branches on an action. Notifications leave the transaction as one outbox event (governance.core).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from governance.core import access, events, signatures
from governance.core.audit import audit_record, audit_type
from governance.core.exceptions import Conflict
from governance.core.models import AuditEvent, GovernancePolicy, Signature
from governance.core.notifications import notify
from governance.core.policy import policy_in_force
from governance.core.roles import Role
from governance.core.system import system_user
from governance.lifecycle import access as lifecycle_access
from governance.lifecycle.inputs import ELEMENTS, PilotSerializer, SignOffSerializer, clean
from governance.lifecycle.models import PilotPlan, VersionTransition
from governance.lifecycle.revalidation import REQUIRED
from governance.lifecycle.selectors import approval_summary, suspension_of
from models_registry.choices import Classification, DataUsage
from models_registry.choices import LifecycleStatus as S
from models_registry.models import DataSource, Model, ModelVersion
from risk.validation.models import Evidence, Finding, ValidationRun
from risk.validation.plans import label_for_test
from risk.validation.signed_content import VERSION_OBJECT_TYPE, run_fingerprint, version_payload

M = Signature.Meaning
__all__ = ["ELEMENTS", "RULES", "SIGNOFF_ACTIONS", "Action", "available_actions", "version_transition"]


class Action(models.TextChoices):
    SUBMIT = "submit", "Submit for validation"
    START_VALIDATION = "start_validation", "Start validation"
    VALIDATE = "validate", "Sign: validated"
    VALIDATE_WITH_CONDITIONS = "validate_with_conditions", "Sign: validated with conditions"
    REJECT = "reject", "Sign: rejected"
    APPROVE_DEPLOYMENT = "approve_deployment", "Sign: approve for deployment"
    START_PILOT = "start_pilot", "Start pilot"
    PROMOTE = "promote", "Sign: approve for production"
    SUSPEND = "suspend", "Suspend (kill switch)"
    RESUME = "resume", "Sign: resume"
    ROLLBACK = "rollback", "Roll back to the previous version"
    RETIRE = "retire", "Retire"


# Steps the system records on other versions as a consequence of an action (not requested by anyone).
SUPERSEDED = "superseded"


class Actor(models.TextChoices):
    TEAM = "team", "the model's developers or owner"
    VALIDATOR = "validator", "the model's assigned validator"
    COMPLIANCE = "compliance", "compliance"
    OWNER_OR_COMPLIANCE = "owner_or_compliance", "the model's owner or compliance"


SIGNOFF_ACTIONS = (Action.VALIDATE, Action.VALIDATE_WITH_CONDITIONS, Action.REJECT)
IN_USE = (S.APPROVED, S.PILOT, S.PRODUCTION, S.SUSPENDED)
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


# --- One step in progress: what every check and effect reads, each fact loaded once -------------------


@dataclass
class Step:
    rule: "Rule"
    user: object
    version: ModelVersion
    model: Model
    policy: GovernancePolicy
    comment: str = ""
    signoff: dict | None = None
    pilot: dict | None = None
    signature: Signature | None = None
    run: ValidationRun | None = None  # the validation run a sign-off rests on
    target: str | None = None
    details: dict = field(default_factory=dict)

    @cached_property
    def team_ids(self) -> set[int]:
        return {self.model.owner_id, *self.model.developers.values_list("pk", flat=True)}

    @cached_property
    def evidence(self) -> list[Evidence]:
        return list(Evidence.objects.filter(version=self.version).only("pk", "kind", "sha256"))

    @cached_property
    def findings(self) -> list[Finding]:
        return list(Finding.objects.filter(version=self.version).only("pk", "run_id", "test", "severity", "status"))

    @cached_property
    def data_links(self) -> list:
        return list(self.version.data_links.select_related("data_source"))

    @cached_property
    def submitter_id(self) -> int | None:
        return (
            VersionTransition.objects.filter(version=self.version, action=Action.SUBMIT)
            .order_by("-at")
            .values_list("actor_id", flat=True)
            .first()
        )

    @cached_property
    def approvers(self) -> dict[int, Signature]:
        return approvers(self.version)

    @cached_property
    def previous_production(self) -> ModelVersion | None:
        return previous_production(self.version)


Check = Callable[[Step], list[str]]
Effect = Callable[[Step], None]


@dataclass(frozen=True)
class Rule:
    action: Action
    sources: tuple[str, ...]
    target: str | None  # None: decided by an effect at run time (resume, rollback)
    actor: Actor
    signing: str | None = None  # the meaning of the signature the action records
    needs_comment: bool = False
    checks: tuple[Check, ...] = ()
    effects: tuple[Effect, ...] = ()  # in order, after the checks passed and the signature was recorded

    @property
    def label(self) -> str:
        return self.action.label


# --- Who may act (403 when not) ------------------------------------------------------------------------


def role_allows(rule: Rule, user, model: Model) -> bool:
    """Role-based permission to attempt the action (lifecycle/access.py says who each actor is)."""
    return lifecycle_access.may_act_as(user, rule.actor, model)


# --- Checks: each answers the reasons it is unmet --------------------------------------------------------


def independent_of_the_team(step: Step) -> list[str]:
    """Segregation of duties (VAL-01, GOV-02): nobody validates or approves a model they develop or own."""
    if step.user.pk in step.team_ids:
        return ["You develop or own this model, so you cannot validate or approve it."]
    return []


def not_the_registrant(step: Step) -> list[str]:
    if step.version.created_by_id == step.user.pk:
        return ["You registered this version, so you cannot validate it."]
    return []


def not_the_submitter(step: Step) -> list[str]:
    if step.submitter_id == step.user.pk:
        return ["You submitted this version, so you cannot approve it."]
    return []


def not_the_validator(step: Step) -> list[str]:
    if step.model.validator_id == step.user.pk:
        return ["You are this model's validator, so you cannot also approve its deployment."]
    return []


def signer_sees_the_training_data(step: Step) -> list[str]:
    """Independent validation needs the data: a validator signs only over training data they may read. The
    sources are counted, not named: their names are exactly what the signer may not see."""
    restricted = [
        link.data_source
        for link in step.data_links
        if link.usage == DataUsage.TRAINING and link.data_source.classification == Classification.RESTRICTED
    ]
    if not restricted:
        return []  # only restricted sources can be out of a validator's reach: no query in the common case
    visible = set(
        access.restrict(DataSource.objects.filter(pk__in=[s.pk for s in restricted]), step.user).values_list(
            "pk", flat=True
        )
    )
    hidden = [s for s in restricted if s.pk not in visible]
    if hidden:
        return [
            f"{len(hidden)} training data source(s) of this version are outside your access; compliance must grant "
            "you read access before you can sign."
        ]
    return []


def cited_run_addressed(step: Step) -> list[str]:
    """A validation rests on its cited run: every failed test has a finding raised from it or a written
    disposition, and every warning is acknowledged one by one. (Checked on the signed input; the page
    asks for the dispositions in the sign-off form itself.)"""
    if step.signoff is None or step.run is None or step.rule.action == Action.REJECT:
        return []
    with_findings = {f.test for f in step.findings if f.run_id == step.run.pk}
    dispositions, acknowledged = step.signoff["dispositions"], set(step.signoff["acknowledged_warnings"])
    reasons = []
    for row in step.run.results:
        test, label = row["test"], label_for_test(row["test"], row.get("metric"))
        if row["outcome"] == "fail" and test not in with_findings and len(dispositions.get(test, "")) < 20:
            reasons.append(
                f"{label} failed in validation run #{step.run.pk}: raise a finding from it or write why it does not "
                "stand in the way of this validation (at least 20 characters)."
            )
        if row["outcome"] == "warn" and test not in acknowledged and test not in with_findings:
            reasons.append(f"Acknowledge the warning on {label} (validation run #{step.run.pk}).")
    return reasons


def cite_run(step: Step) -> None:
    """The run a sign-off rests on: the one the validator names, or the version's latest succeeded run."""
    # A validator's run only: an ongoing (scheduled) run is evidence, never what a signature rests on.
    runs = ValidationRun.objects.filter(
        version=step.version, status=ValidationRun.Status.SUCCEEDED, kind=ValidationRun.Kind.VALIDATION
    )
    requested = step.signoff.get("run")
    run = runs.filter(pk=requested).first() if requested else runs.order_by("-finished_at", "-id").first()
    if requested and run is None:
        raise ValidationError({"signoff.run": "Cite a succeeded validation run of this version."})
    step.run = run
    step.signoff["run"] = run.pk if run else None
    failed = {row["test"] for row in run.results if row["outcome"] == "fail"} if run else set()
    warned = {row["test"] for row in run.results if row["outcome"] == "warn"} if run else set()
    step.signoff["dispositions"] = {k: v for k, v in step.signoff["dispositions"].items() if k in failed}
    step.signoff["acknowledged_warnings"] = sorted(set(step.signoff["acknowledged_warnings"]) & warned)


def ready_for_validation(step: Step) -> list[str]:
    reasons = []
    if not step.model.validator_id:
        reasons.append("Compliance must assign a validator to the model first.")
    if not step.model.intended_use.strip():
        reasons.append("The model's intended use is empty.")
    if not step.model.known_limitations.strip():
        reasons.append("The model's known limitations are empty.")
    return reasons


def required_evidence(step: Step) -> list[str]:
    """The evidence the policy in force asks of this action."""
    have = {e.kind for e in step.evidence}
    labels = dict(Evidence.Kind.choices)
    return [
        f"Attach {labels.get(kind, kind).lower()} evidence first (policy v{step.policy.version})."
        for kind in step.policy.evidence_for(step.rule.action)
        if kind not in have
    ]


def validator_signed(step: Step) -> list[str]:
    signed = Signature.objects.filter(
        object_type=VERSION_OBJECT_TYPE,
        object_id=str(step.version.pk),
        meaning__in=[M.VALIDATED, M.VALIDATED_WITH_CONDITIONS],
    ).exists()
    return [] if signed else ["The validator has not signed this version."]


def no_open_high_findings(step: Step) -> list[str]:
    open_high = Finding.objects.filter(
        version=step.version,
        severity=Finding.Severity.HIGH,
        status__in=[Finding.Status.OPEN, Finding.Status.IN_REMEDIATION],
    ).count()
    if open_high:
        return [
            f"{open_high} high-severity finding(s) are open; close them or have compliance accept the risk in writing."
        ]
    return []


def not_approved_twice_by_one_person(step: Step) -> list[str]:
    if step.user.pk in step.approvers:
        return ["You already approved this version; a second, different approver is needed."]
    return []


def not_awaiting_revalidation(step: Step) -> list[str]:
    """A model flagged "revalidation required" (by the incident policy, compliance or its validator) stays stopped:
    none of its versions resumes until a validation is signed, which clears the flag."""
    if step.model.revalidation_flag != REQUIRED:
        return []
    why = (
        AuditEvent.objects.filter(
            object_type=audit_type(step.model), object_id=str(step.model.pk), action="model.revalidation_required"
        )
        .order_by("-id")
        .values_list("timestamp", "reason")
        .first()
    )
    since = f" since {why[0]:%Y-%m-%d %H:%M} UTC ({why[1]})" if why else ""
    return [
        f"{step.model.key} is flagged “revalidation required”{since}: no version of it resumes until a "
        "validation is signed (a new version validated by its validator clears the flag)."
    ]


def pilot_on_record(step: Step) -> list[str]:
    return [] if PilotPlan.objects.filter(version=step.version).exists() else ["The version has no pilot on record."]


def pilot_record(step: Step) -> dict:
    """What an approval for production cites: the pilot's limits and the pilot results it rests on."""
    pilot = PilotPlan.objects.get(version=step.version)
    results = sorted([e.pk, e.sha256] for e in step.evidence if e.kind == Evidence.Kind.PILOT_RESULTS)
    limits = {
        "max_notional": str(pilot.max_notional),
        "instruments": pilot.instruments,
        "venues": pilot.venues,
        "end_date": str(pilot.end_date),
    }
    return {"limits": limits, "results": results}


def earlier_production_exists(step: Step) -> list[str]:
    if step.previous_production is None:
        return ["There is no earlier production version of this model to roll back to."]
    return []


# --- Effects: what an action changes beyond the version's status, in the same transaction ----------------


def four_eyes(step: Step) -> None:
    """Tier by tier, the policy says how many distinct compliance approvals deployment needs; until the last
    one is given the status waits (the first approval is recorded as a step that stays in place)."""
    needed = step.policy.approvals_for(step.model.risk_tier)
    given = len(approvers(step.version))  # includes the signature just recorded
    step.details = {"approval": given, "of": needed}
    if given < needed:
        step.target = step.version.status


def resume_where_suspended(step: Step) -> None:
    last = step.version.transitions.filter(action=Action.SUSPEND).order_by("-at").first()
    step.target = last.from_status if last else S.PRODUCTION


def record_pilot(step: Step) -> None:
    PilotPlan.objects.update_or_create(version=step.version, defaults={**step.pilot, "created_by": step.user})
    step.details = {k: v if isinstance(v, list) else str(v) for k, v in step.pilot.items()}


def restore_previous_production(step: Step) -> None:
    previous = step.previous_production
    _move(step, previous, S.PRODUCTION, Action.ROLLBACK, {"rolled_back_from": step.version.version}, step.comment)
    step.details = {"restored": previous.version}


def supersede_production(step: Step) -> None:
    """Promotion retires the version in production as superseded; that is what rollback restores."""
    older = list(ModelVersion.objects.filter(model=step.model, status=S.PRODUCTION).exclude(pk=step.version.pk))
    for version in older:
        _move(
            step,
            version,
            S.RETIRED,
            SUPERSEDED,
            {"superseded_by": step.version.pk},
            f"Superseded by {step.version.version}.",
        )
    step.details = {"supersedes": [v.version for v in older]} if older else {}


def date_the_validation(step: Step) -> None:
    """A validation signature dates the model's validation and confirms or changes its tier."""
    model = step.model
    before = {
        k: getattr(model, k) for k in ("last_validated_at", "next_validation_due", "risk_tier", "revalidation_flag")
    }
    tier = step.signoff["tier_confirmed"]
    if tier != model.risk_tier:
        model.tier_override = tier
        model.tier_override_justification = f"Tier set to {tier} by the validator at sign-off."
        model.risk_tier = tier
    today = timezone.now().date()
    model.last_validated_at = today
    model.next_validation_due = add_months(today, step.policy.months_for(model.risk_tier))
    model.revalidation_flag = ""  # a signed validation answers any "revalidation required"
    Model.objects.filter(pk=model.pk).update(
        last_validated_at=model.last_validated_at,
        next_validation_due=model.next_validation_due,
        revalidation_flag="",
        risk_tier=model.risk_tier,
        tier_override=model.tier_override,
        tier_override_justification=model.tier_override_justification,
        updated_at=timezone.now(),
    )
    after = {k: getattr(model, k) for k in before}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    audit_record(step.user, "model.validation_dated", model, changes=changes)


SEGREGATED = (independent_of_the_team,)
SIGNOFF_CHECKS = (
    *SEGREGATED,
    not_the_registrant,
    required_evidence,
    signer_sees_the_training_data,
    cited_run_addressed,
)
RETIRABLE = (S.VALIDATED, S.VALIDATED_WITH_CONDITIONS, S.REJECTED, S.APPROVED, S.PILOT, S.PRODUCTION, S.SUSPENDED)

RULES: dict[str, Rule] = {
    r.action: r
    for r in [
        Rule(Action.SUBMIT, (S.DRAFT,), S.SUBMITTED, Actor.TEAM, checks=(ready_for_validation,)),
        Rule(
            Action.START_VALIDATION,
            (S.SUBMITTED,),
            S.IN_VALIDATION,
            Actor.VALIDATOR,
            checks=(*SEGREGATED, not_the_registrant),
        ),
        Rule(
            Action.VALIDATE,
            (S.IN_VALIDATION,),
            S.VALIDATED,
            Actor.VALIDATOR,
            M.VALIDATED,
            checks=SIGNOFF_CHECKS,
            effects=(date_the_validation,),
        ),
        Rule(
            Action.VALIDATE_WITH_CONDITIONS,
            (S.IN_VALIDATION,),
            S.VALIDATED_WITH_CONDITIONS,
            Actor.VALIDATOR,
            M.VALIDATED_WITH_CONDITIONS,
            checks=SIGNOFF_CHECKS,
            effects=(date_the_validation,),
        ),
        Rule(
            Action.REJECT,
            (S.IN_VALIDATION,),
            S.REJECTED,
            Actor.VALIDATOR,
            M.REJECTED,
            needs_comment=True,
            checks=SIGNOFF_CHECKS,
        ),
        Rule(
            Action.APPROVE_DEPLOYMENT,
            (S.VALIDATED, S.VALIDATED_WITH_CONDITIONS),
            S.APPROVED,
            Actor.COMPLIANCE,
            M.APPROVED,
            checks=(
                *SEGREGATED,
                not_the_submitter,
                not_the_validator,
                validator_signed,
                no_open_high_findings,
                not_approved_twice_by_one_person,
            ),
            effects=(four_eyes,),
        ),
        Rule(Action.START_PILOT, (S.APPROVED,), S.PILOT, Actor.OWNER_OR_COMPLIANCE, effects=(record_pilot,)),
        Rule(
            Action.PROMOTE,
            (S.PILOT,),
            S.PRODUCTION,
            Actor.COMPLIANCE,
            M.APPROVED_FOR_PRODUCTION,
            checks=(required_evidence, pilot_on_record),
            effects=(supersede_production,),
        ),
        Rule(Action.SUSPEND, (S.PILOT, S.PRODUCTION), S.SUSPENDED, Actor.OWNER_OR_COMPLIANCE, needs_comment=True),
        Rule(
            Action.RESUME,
            (S.SUSPENDED,),
            None,
            Actor.COMPLIANCE,
            M.RESUMED,
            needs_comment=True,
            checks=(not_awaiting_revalidation,),
            effects=(resume_where_suspended,),
        ),
        Rule(
            Action.ROLLBACK,
            (S.PRODUCTION, S.SUSPENDED),
            S.RETIRED,
            Actor.COMPLIANCE,
            needs_comment=True,
            checks=(earlier_production_exists,),
            effects=(restore_previous_production,),
        ),
        Rule(Action.RETIRE, RETIRABLE, S.RETIRED, Actor.OWNER_OR_COMPLIANCE, needs_comment=True),
    ]
}


# --- Lookups shared by checks and pages ------------------------------------------------------------------


def approvers(version) -> dict[int, Signature]:
    """Approval signatures given since the version last entered validated status."""
    return approvers_of([version.pk])[version.pk]


def approvers_of(version_ids: list[int]) -> dict[int, dict[int, Signature]]:
    """`approvers` of each version, in two queries whatever their number (the work queue reads many)."""
    entered = dict(
        VersionTransition.objects.filter(
            version_id__in=version_ids, to_status__in=[S.VALIDATED, S.VALIDATED_WITH_CONDITIONS]
        )
        .exclude(from_status=F("to_status"))  # a first approval of two stays in place; it is no entry
        .order_by()
        .values("version_id")
        .annotate(last=models.Max("at"))
        .values_list("version_id", "last")
    )
    signed = Signature.objects.filter(
        object_type=VERSION_OBJECT_TYPE, object_id__in=[str(pk) for pk in version_ids], meaning=M.APPROVED
    ).order_by("pk")
    out: dict[int, dict[int, Signature]] = {pk: {} for pk in version_ids}
    for signature in signed:
        version_id = int(signature.object_id)
        since = entered.get(version_id)
        if since is None or signature.signed_at >= since:
            out[version_id][signature.signer_id] = signature
    return out


def segregation_facts(versions: list[ModelVersion]) -> dict[int, dict]:
    """What the segregation-of-duties checks read of each version's Step (its team, its submitter, its approvers),
    for many versions in four queries: the work queue seeds its Steps with them instead of reading them version by
    version (the queue's badge is on every page)."""
    ids = [v.pk for v in versions]
    developers: dict[int, set[int]] = {}
    for model_id, user_id in Model.developers.through.objects.filter(
        model_id__in={v.model_id for v in versions}
    ).values_list("model_id", "user_id"):
        developers.setdefault(model_id, set()).add(user_id)
    submitters: dict[int, int] = {}
    for version_id, actor_id in (
        VersionTransition.objects.filter(version_id__in=ids, action=Action.SUBMIT)
        .order_by("version_id", "-at")
        .values_list("version_id", "actor_id")
    ):
        submitters.setdefault(version_id, actor_id)  # the newest submission, as Step.submitter_id reads it
    given = approvers_of(ids)
    return {
        v.pk: {
            "team_ids": {v.model.owner_id, *developers.get(v.model_id, ())},
            "submitter_id": submitters.get(v.pk),
            "approvers": given[v.pk],
        }
        for v in versions
    }


def previous_production(version):
    """The version this one superseded in production, if any."""
    return (
        ModelVersion.objects.filter(
            model=version.model,
            status=S.RETIRED,
            transitions__action=SUPERSEDED,
            transitions__details__superseded_by=version.pk,
        )
        .order_by("-created_at")
        .first()
    )


# --- What a person may do now (for the UI and the API) ----------------------------------------------------


@dataclass
class Availability:
    action: str
    label: str
    allowed: bool
    reasons: list[str]
    signing: bool


# Apps above the lifecycle add conditions of their own to an action (the kill switch: no resume while a stop
# stands), each a check like those in RULES; they register in their AppConfig.ready().
_added_checks: dict[str, list[Callable[[Step], list[str]]]] = {}


def register_check(action: str, check: Callable[[Step], list[str]]) -> None:
    checks = _added_checks.setdefault(action, [])
    if check not in checks:
        checks.append(check)


# Apps above the lifecycle add facts of their own to what an action's signature pins (the incidents app: the model's
# incidents a resume rests on), each `pin(step) -> JSON-able` under its key; they register in AppConfig.ready().
_added_pins: dict[str, dict[str, Callable[[Step], object]]] = {}


def register_pin(action: str, key: str, pin: Callable[[Step], object]) -> None:
    _added_pins.setdefault(action, {})[key] = pin


def _reasons(step: Step) -> list[str]:
    checks = (*step.rule.checks, *_added_checks.get(step.rule.action, ()))
    return [reason for check in checks for reason in check(step)]


def available_actions(user, version) -> list[Availability]:
    """Every action that leaves the current status, with why it is or is not open to this user."""
    model = version.model
    policy = policy_in_force()
    out = []
    for rule in RULES.values():
        if version.status not in rule.sources or not role_allows(rule, user, model):
            continue  # not this person's action at all: the page need not offer it
        reasons = _reasons(Step(rule, user, version, model, policy))
        out.append(Availability(rule.action, rule.label, not reasons, reasons, bool(rule.signing)))
    return out


# --- The transition itself ---------------------------------------------------------------------------------


def version_transition(
    user, version, action: str, *, comment: str = "", password: str = "", otp_token: str = "", signoff=None, pilot=None
) -> ModelVersion:
    """Move a version through its lifecycle. 403: not your action; 409: state or unmet conditions; 400: input."""
    rule = RULES.get(action)
    if rule is None:
        raise ValidationError({"action": f"Unknown action. Choose one of: {', '.join(RULES)}."})
    if rule.signing:
        # Re-authenticate before the transaction: a refused attempt must stay in the audit trail even
        # though nothing else is written. Role is checked first so a wrong role still gets 403.
        model = version.model
        if not role_allows(rule, user, model):
            raise PermissionDenied(f"Your role may not {rule.label.lower()} this version.")
        signatures.check_credentials(user, password, otp_token)
    return _transition(user, version, rule, comment, signoff, pilot)


def problems_before_acting(user, version, action: str, *, comment="", signoff=None, pilot=None):
    """What would refuse this action for its input and its conditions, all of it at once and without writing
    anything (the page shows every problem in one round, beside its field). Returns (field errors keyed as the
    service names them, reasons); both empty when only the signer's credentials remain to be checked."""
    rule = RULES.get(action)
    if rule is None or not role_allows(rule, user, version.model) or version.status not in rule.sources:
        return {}, []  # the action itself answers these (403, 409) with its own message
    fields, comment = {}, (comment or "").strip()
    if rule.needs_comment and not comment:
        fields["comment"] = ["Give the reason; it is kept in the audit trail."]
    step = Step(rule, user, version, version.model, policy_in_force(), comment, target=rule.target)
    try:
        if rule.action in SIGNOFF_ACTIONS:
            context = {
                "evidence_ids": {e.pk for e in step.evidence},
                "tier": version.model.risk_tier,
                "has_findings": bool(step.findings),
                "action": rule.action,
            }
            step.signoff = clean(SignOffSerializer, signoff, "signoff", context)
            cite_run(step)
        if rule.action == Action.START_PILOT:
            step.pilot = clean(PilotSerializer, pilot, "pilot")
    except ValidationError as exc:
        fields.update(exc.message_dict)
        if rule.action not in SIGNOFF_ACTIONS or not isinstance(signoff, dict):
            return fields, []  # the conditions depend on the input: they are checked once it reads
        # The run's failed tests and warnings are judged on what was typed, so they show in the same round.
        step.signoff = _typed_signoff(signoff, version.model.risk_tier)
        try:
            cite_run(step)
        except ValidationError as cited:
            fields.update(cited.message_dict)
            return fields, []
    return fields, _reasons(step)


def _typed_signoff(signoff: dict, tier: int) -> dict:
    """A sign-off as typed, with every key the checks read, for judging it while some field is still wrong."""
    dispositions = signoff.get("dispositions") if isinstance(signoff.get("dispositions"), dict) else {}
    warnings = signoff.get("acknowledged_warnings")
    return {
        **{element: {"evidence": [], "not_applicable": ""} for element in ELEMENTS},
        "tier_confirmed": tier,
        "no_findings_justification": "",
        "conditions": str(signoff.get("conditions") or ""),
        "run": signoff.get("run") if isinstance(signoff.get("run"), int) else None,
        "dispositions": {str(k): str(v).strip() for k, v in dispositions.items() if str(v).strip()},
        "acknowledged_warnings": [str(w) for w in warnings] if isinstance(warnings, list) else [],
    }


def resume_on_release(user, version, *, comment: str, release_signature: Signature) -> ModelVersion:
    """Resume a version a kill-switch stop suspended, as part of the stop's release: the release's signature (its
    signer re-authenticated, its content recorded) is the decision for every version it resumes, so none is asked
    again. Every check of resume still applies (409 with the reasons: the release leaves that version suspended
    and names why)."""
    if release_signature.meaning != M.KILL_SWITCH_RELEASED:
        raise ValueError("Only a kill-switch release's signature resumes the versions its stop suspended.")
    return _transition(user, version, RULES[Action.RESUME], comment, None, None, signed_by=release_signature)


@transaction.atomic
def _transition(user, version, rule: Rule, comment, signoff, pilot, signed_by=None) -> ModelVersion:
    # The row locks make concurrent transitions take turns: the second sees the first's result (409).
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    model = Model.objects.select_for_update().get(pk=version.model_id)
    version.model = model
    if not role_allows(rule, user, model):
        raise PermissionDenied(f"Your role may not {rule.label.lower()} this version.")
    if version.status not in rule.sources:
        raise Conflict(f"A version that is {version.get_status_display().lower()} cannot be moved by '{rule.action}'.")
    comment = (comment or "").strip()
    if rule.needs_comment and not comment:
        raise ValidationError({"comment": "Give the reason; it is kept in the audit trail."})
    if len(comment) > 5000:
        raise ValidationError({"comment": "Keep the comment under 5,000 characters."})
    step = Step(rule, user, version, model, policy_in_force(), comment, target=rule.target)
    if rule.action in SIGNOFF_ACTIONS:
        step.signoff = clean(
            SignOffSerializer,
            signoff,
            "signoff",
            {
                "evidence_ids": {e.pk for e in step.evidence},
                "tier": model.risk_tier,
                "has_findings": bool(step.findings),
                "action": rule.action,
            },
        )
        cite_run(step)
    if rule.action == Action.START_PILOT:
        step.pilot = clean(PilotSerializer, pilot, "pilot")
    reasons = _reasons(step)
    if reasons:
        raise Conflict(reasons)
    if rule.signing and signed_by is not None:
        step.signature = signed_by
    elif rule.signing:
        payload = version_payload(version, evidence=step.evidence, data_links=step.data_links)
        payload["meaning"] = rule.signing
        if step.signoff is not None:
            payload["signoff"] = step.signoff
        if step.run is not None:
            payload["validation_run"] = run_fingerprint(step.run)
        if rule.action == Action.PROMOTE:
            payload["pilot"] = pilot_record(step)
        if rule.action == Action.APPROVE_DEPLOYMENT:
            payload["approval_summary"] = approval_summary(version, step.policy)  # what the approver saw
        if rule.action == Action.RESUME:
            payload["suspension"] = suspension_of(version)  # the decision answers this suspension
        for key, pin in _added_pins.get(rule.action, {}).items():
            payload[key] = pin(step)
        step.signature = signatures.sign(user, rule.signing, version, payload, step.policy, comment)
    for effect in rule.effects:
        effect(step)
    transition = _move(step, version, step.target, rule.action, step.details, comment, step.signature)
    # Effects that moved other versions (promotion, rollback) need the full read.
    moved = (transition.from_status, transition.to_status) if not _moves_others(rule) else None
    sync_model_status(model, user, moved)
    _notify(step, transition)
    return version


@transaction.atomic
def policy_suspend(version, *, reason: str, cause: dict) -> ModelVersion | None:
    """Suspend a version in pilot or production because the governance policy says so (an incident of a
    severity the policy's incident response suspends on): a lifecycle step by Vigil's system account, signed as the
    policy's action (the signature pins the version's record, the cause and the policy version), audited, its
    team and compliance told. None when the version is not live any more (nothing to stop)."""

    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status not in (S.PILOT, S.PRODUCTION):
        return None
    model = Model.objects.select_for_update().get(pk=version.model_id)
    version.model = model
    system = system_user()
    rule = RULES[Action.SUSPEND]
    step = Step(rule, system, version, model, policy_in_force(), reason, target=S.SUSPENDED)
    payload = version_payload(version, evidence=step.evidence, data_links=step.data_links)
    payload |= {"meaning": Signature.Meaning.SUSPENDED_BY_POLICY.value, "cause": cause}
    step.signature = signatures.sign(
        system, Signature.Meaning.SUSPENDED_BY_POLICY, version, payload, step.policy, reason
    )
    transition = _move(step, version, S.SUSPENDED, Action.SUSPEND, {"by_policy": cause}, reason, step.signature)
    sync_model_status(model, system, (transition.from_status, transition.to_status))
    _notify(step, transition)
    return version


def _moves_others(rule: Rule) -> bool:
    return any(effect in (supersede_production, restore_previous_production) for effect in rule.effects)


def _move(step: Step, version, target, action, details, comment="", signature=None) -> VersionTransition:
    """Record one step of one version: conditional status update, transition row, audit event."""
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
        actor=step.user,
        at=timezone.now(),
        comment=comment,
        details=details,
        signature=signature,
        policy=step.policy,
    )
    audit_record(
        step.user,
        f"version.{action}",
        version,
        reason=comment,
        changes={
            "status": [from_status, target],
            "policy_version": [None, step.policy.version],
            **({"details": [None, details]} if details else {}),
        },
    )
    # Apps above the lifecycle (monitoring proposes monitors at pilot) follow versions through this event.
    events.emit(
        "lifecycle.transition",
        {"version": version.pk, "action": action, "from": from_status, "to": target, "transition": transition.pk},
    )
    return transition


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def sync_model_status(model, actor, moved: tuple[str, str] | None = None) -> None:
    """The model's status follows its versions: the most significant version status wins.

    When the version that just `moved` (from, to) became more significant, the answer is known without
    reading the other versions: the model shows the more significant of its status and the new one."""
    rank = MODEL_STATUS_ORDER.index
    if moved is not None and rank(moved[1]) <= rank(moved[0]) and model.status in MODEL_STATUS_ORDER:
        new = min(model.status, moved[1], key=rank)
    else:
        statuses = set(ModelVersion.objects.filter(model=model).values_list("status", flat=True))
        new = next((s for s in MODEL_STATUS_ORDER if s in statuses), S.DRAFT)
    if new != model.status:
        changes = {"status": [model.status, new]}
        if new == S.RETIRED:
            # A retired model is due for nothing: no next validation, no revalidation flag (the daily sweep no
            # longer reads it). A version registered later starts without one, as a new model does, until signed.
            for name, none in (("next_validation_due", None), ("revalidation_flag", "")):
                if getattr(model, name) != none:
                    changes[name] = [getattr(model, name), none]
        Model.objects.filter(pk=model.pk).update(
            **{name: after for name, (_before, after) in changes.items()}, updated_at=timezone.now()
        )
        for name, (_before, after) in changes.items():
            setattr(model, name, after)
        audit_record(actor, "model.status_followed_versions", model, changes=changes)


# Who hears of each action (an outbox event, resolved to people by a worker after commit).
def _notify(step: Step, transition) -> None:
    model, version = step.model, step.version
    url = reverse("models_registry:version-detail", kwargs={"key": model.key, "version": version.version})
    name = f"{model.key} {version.version}"
    compliance = {"roles": [Role.COMPLIANCE]}
    action = step.rule.action
    if action == Action.SUBMIT:
        notify([model.validator_id], "signature_request", f"{name} was submitted for your validation.", url)
    elif action in (Action.VALIDATE, Action.VALIDATE_WITH_CONDITIONS):
        how = "validated with conditions" if action == Action.VALIDATE_WITH_CONDITIONS else "validated"
        notify(
            kind="signature_request", message=f"{name} was {how} and awaits deployment approval.", url=url, **compliance
        )
    elif action == Action.REJECT:
        notify(step.team_ids, "decision", f"{name} was rejected by its validator.", url)
    elif action == Action.APPROVE_DEPLOYMENT and transition.to_status == S.APPROVED:
        notify(step.team_ids, "decision", f"{name} was approved for deployment.", url)
    elif action == Action.APPROVE_DEPLOYMENT:
        notify(
            kind="signature_request",
            message=f"{name} needs a second deployment approval (four eyes).",
            url=url,
            exclude=[step.user.pk],
            **compliance,
        )
    # A suspension or a rollback is an alert: the alerts app follows the `lifecycle.transition` event.
