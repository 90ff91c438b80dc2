"""The work queue: what needs me, and what I am waiting on from someone else (and why), by due date.

"Needs me" is work that is mine to do by my part in the model (its validator, its owner, compliance, the
owner of a finding or an attestation), even while it is blocked; the blocking reasons are shown with it so
that a validator's version never disappears when its signing is refused. Optional actions that are always
open (suspend, retire, roll back) are not work. "Waiting on others" lists what I am involved in whose next
step belongs to someone else, with the state that holds it up.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Q
from django.urls import reverse

from governance.core import access, work
from governance.core.policy import policy_in_force
from governance.lifecycle import access as lifecycle_access
from governance.lifecycle import workflow
from governance.lifecycle.models import Attestation, PilotPlan
from governance.lifecycle.workflow import Action
from models_registry.choices import LifecycleStatus as S
from models_registry.models import Model, ModelVersion
from risk.validation.models import Evidence, Finding

# The actions that are pending work for whoever may take them, and how the queue names them.
WORK = {
    Action.START_VALIDATION: "Start validation",
    Action.VALIDATE: "Finish validation and sign",
    Action.APPROVE_DEPLOYMENT: "Approve for deployment",
    Action.START_PILOT: "Start the pilot",
    Action.PROMOTE: "Approve for production",
    Action.RESUME: "Decide on the suspension",
}
# The sign-off actions are one piece of work: finishing validation (validated, with conditions, or rejected).
SIGNOFF = set(workflow.SIGNOFF_ACTIONS)
WORK_ACTIONS = set(WORK) | SIGNOFF
# Checks that make an action someone else's for good, not merely blocked for now.
SEGREGATION = {
    workflow.independent_of_the_team,
    workflow.not_the_registrant,
    workflow.not_the_submitter,
    workflow.not_the_validator,
    workflow.not_approved_twice_by_one_person,
}
WAITING_ON = {
    S.SUBMITTED: "the validator to start validation",
    S.IN_VALIDATION: "the validator to finish validation",
    S.VALIDATED: "compliance to approve deployment",
    S.VALIDATED_WITH_CONDITIONS: "compliance to approve deployment",
    S.APPROVED: "the owner to start the pilot",
    S.PILOT: "compliance to approve for production",
    S.SUSPENDED: "compliance to decide on the suspension",
}
# Checks that describe the state of the version, whoever looks (the others depend on who acts).
STATE_CHECKS = {
    workflow.ready_for_validation,
    workflow.required_evidence,
    workflow.validator_signed,
    workflow.no_open_high_findings,
    workflow.pilot_on_record,
}
BADGE_SECONDS = 30


@dataclass
class Item:
    what: str
    subject: str
    url: str
    due: dt.date | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return bool(self.reasons)


@dataclass
class Queue:
    needs_me: list[Item]
    waiting: list[Item]


def _by_due(items: list[Item]) -> list[Item]:
    """Soonest due first; items without a due date last."""
    return sorted(items, key=lambda i: (i.due is None, i.due or dt.date.max, i.subject))


def _version_url(version) -> str:
    return reverse("models_registry:version-detail", kwargs={"key": version.model.key, "version": version.version})


def _my_versions(user) -> list[ModelVersion]:
    """Versions with an action that is mine by my part in the model (whether or not it is open right now)."""
    q = Q(pk__in=[])
    if lifecycle_access.has_validator_queue(user):
        q |= Q(model__validator=user, status__in=[S.SUBMITTED, S.IN_VALIDATION])
    if lifecycle_access.has_compliance_queue(user):
        q |= Q(status__in=[S.VALIDATED, S.VALIDATED_WITH_CONDITIONS, S.PILOT, S.SUSPENDED])
    q |= Q(model__owner=user, status=S.APPROVED)
    versions = access.restrict(ModelVersion.objects.filter(q), user).select_related("model")
    return list(versions[:200])


def _version_work(user, version, policy, known: dict | None = None, counting: bool = False) -> Item | None:
    """The one piece of work this version asks of me, with what blocks it; None when segregation of duties
    makes it someone else's (a developer who is also compliance never approves their own model). `known`: the
    version's segregation facts read beforehand (workflow.segregation_facts). `counting`: only whether there is
    work (the badge), not what blocks it nor when it is due."""
    for rule in workflow.RULES.values():
        if version.status not in rule.sources or rule.action not in WORK_ACTIONS:
            continue
        if not workflow.role_allows(rule, user, version.model):
            continue
        step = workflow.Step(rule, user, version, version.model, policy)
        step.__dict__.update(known or {})  # the Step's cached properties, already read
        if any(check(step) for check in rule.checks if check in SEGREGATION):
            continue
        if counting:
            return Item(WORK.get(rule.action, WORK[Action.VALIDATE]), "", "")
        reasons = [r for check in rule.checks if check not in SEGREGATION for r in check(step)]
        due = version.model.next_validation_due if rule.action in SIGNOFF | {Action.START_VALIDATION} else None
        if rule.action == Action.PROMOTE:
            pilot = PilotPlan.objects.filter(version=version).first()
            due = pilot.end_date if pilot else None
        label = WORK.get(rule.action, WORK[Action.VALIDATE])
        return Item(label, f"{version.model.key} {version.version}", _version_url(version), due, reasons)
    return None


def _waiting_versions(user, mine: set[int]) -> list[Item]:
    """Versions I am involved in (team, validator) whose next step is someone else's."""
    involved = Q(model__owner=user) | Q(model__developers=user) | Q(model__validator=user)
    versions = (
        access.restrict(ModelVersion.objects.filter(involved, status__in=list(WAITING_ON)), user)
        .exclude(pk__in=mine)
        .select_related("model")
        .distinct()[:200]
    )
    policy = policy_in_force()
    items = []
    for version in versions:
        reasons = []
        for rule in workflow.RULES.values():
            if version.status in rule.sources and rule.action in WORK_ACTIONS:
                step = workflow.Step(rule, user, version, version.model, policy)
                reasons += [r for check in rule.checks if check in STATE_CHECKS for r in check(step)]
        if version.status in (S.VALIDATED, S.VALIDATED_WITH_CONDITIONS):
            given = len(workflow.approvers(version))
            needed = policy.approvals_for(version.model.risk_tier)
            if given:
                reasons.append(f"{given} of {needed} approvals given.")
        items.append(
            Item(
                f"Waiting on {WAITING_ON[version.status]}",
                f"{version.model.key} {version.version}",
                _version_url(version),
                version.model.next_validation_due,
                sorted(set(reasons)),
            )
        )
    return items


def build(user, *, with_waiting: bool = True, counting: bool = False) -> Queue:
    """`counting`: for the badge, the items without what blocks them (the badge counts the work, blocked or not)."""
    today = dt.date.today()
    needs, waiting = [], []
    versions = _my_versions(user)
    policy = policy_in_force()
    known = workflow.segregation_facts(versions)
    for version in versions:
        item = _version_work(user, version, policy, known[version.pk], counting)
        if item is not None:
            needs.append(item)
    mine = {v.pk for v in versions}
    # The pilot's results are the owner's to bring: compliance's approval for production waits on them.
    piloting = access.restrict(ModelVersion.objects.filter(model__owner=user, status=S.PILOT), user)
    for version in piloting.exclude(evidence__kind=Evidence.Kind.PILOT_RESULTS).select_related("model", "pilot"):
        mine.add(version.pk)
        end = version.pilot.end_date if hasattr(version, "pilot") else None
        needs.append(
            Item("Attach the pilot results", f"{version.model.key} {version.version}", _version_url(version), end)
        )
    if lifecycle_access.has_compliance_queue(user) and counting:
        # Thousands of models at a large firm: the badge counts them, it needs no item (nor address) for each.
        unassigned = Model.objects.filter(validator__isnull=True).exclude(status=S.RETIRED).count()
        flagged = Model.objects.exclude(revalidation_flag="").exclude(status=S.RETIRED).count()
        needs += [Item("Model work", "", "")] * (unassigned + flagged)
    elif lifecycle_access.has_compliance_queue(user):
        for model in Model.objects.filter(validator__isnull=True).exclude(status=S.RETIRED).order_by("key"):
            needs.append(
                Item("Assign a validator", model.key, reverse("models_registry:model-update", args=[model.key]))
            )
        for model in Model.objects.exclude(revalidation_flag="").exclude(status=S.RETIRED):
            what = {
                "overdue": "Review an overdue revalidation",
                "required": "Revalidation required (after an incident)",
            }.get(model.revalidation_flag, "Plan a revalidation")
            needs.append(
                Item(
                    what,
                    model.key,
                    reverse("models_registry:model-detail", args=[model.key]),
                    model.next_validation_due,
                )
            )
    # Only what the person may still open: one who left a model's team keeps no work on it in their queue.
    owned = access.restrict(Finding.objects.filter(owner=user, status=Finding.Status.OPEN), user)
    for finding in owned.select_related("version__model"):
        needs.append(
            Item(
                "Remediate a finding",
                finding.title,
                reverse("validation:finding-detail", args=[finding.pk]),
                finding.due_date,
            )
        )
    to_close = Finding.objects.filter(
        version__model__validator=user, status=Finding.Status.IN_REMEDIATION
    ).select_related("version__model")
    for finding in to_close if lifecycle_access.has_validator_queue(user) else []:
        needs.append(
            Item(
                "Verify a remediation and close the finding",
                finding.title,
                reverse("validation:finding-detail", args=[finding.pk]),
                finding.due_date,
            )
        )
    attestations = Attestation.objects.filter(
        owner=user, signature__isnull=True, model__in=access.restrict(Model.objects.all(), user)
    )
    for attestation in attestations.select_related("model"):
        needs.append(
            Item(
                f"Sign the {attestation.year} attestation",
                attestation.model.key,
                reverse("models_registry:model-detail", args=[attestation.model.key]) + "?section=attestations",
                attestation.due_date,
            )
        )
    if not with_waiting:
        return Queue(_by_due(needs), [])
    waiting += _waiting_versions(user, mine)
    raised = access.restrict(Finding.objects.filter(raised_by=user, status=Finding.Status.OPEN), user)
    for finding in raised.select_related("owner"):
        waiting.append(
            Item(
                f"Waiting on {finding.owner.get_full_name() or finding.owner} to remediate",
                finding.title,
                reverse("validation:finding-detail", args=[finding.pk]),
                finding.due_date,
                ["Overdue."] if finding.due_date < today else [],
            )
        )
    return Queue(_by_due(needs), _by_due(waiting))


def needs_me_count(user) -> int:
    """The badge: how much needs me, cached for a few seconds (it is on every page)."""
    key = f"vigil:queue-count:{user.pk}:{work.generation()}"
    count = cache.get(key)
    if count is None:
        count = len(build(user, with_waiting=False, counting=True).needs_me)
        cache.set(key, count, BADGE_SECONDS)
    return count
