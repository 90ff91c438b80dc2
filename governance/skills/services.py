"""Writes of skills: requirements defined, changed and retired, completions recorded (compliance only, audited);
the lifecycle's checks on signers; the daily warnings.

Every write re-reads what it changes, checks the person may, refuses bad input by field (400, nothing written)
and records its audit event in the same transaction.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from governance.core import access, moments
from governance.core.audit import audit_record, diff, snapshot
from governance.core.exceptions import Conflict
from governance.core.notifications import notify
from governance.skills import access as skills_access
from governance.skills import selectors
from governance.skills.models import Completion, Duty, Requirement
from models_registry.choices import ModelType
from models_registry.models import Model

REQUIREMENT_FIELDS = ["duty", "scope", "model_type", "model", "kind", "title", "validity_months", "active"]
COMPLETION_FIELDS = ["person", "requirement", "completed_on", "expires_on", "evidence"]
NOTIFICATION_KIND = "skill_expiry"


def require_manager(user) -> None:
    if not skills_access.manages_skills(user):
        raise PermissionDenied("Only compliance defines requirements and records completions.")


def _clean_requirement(values: dict) -> dict:
    """The requirement's fields checked together; every problem at once, by field."""
    errors = {}
    duty, scope = values.get("duty"), values.get("scope") or Requirement.Scope.ANY
    if duty not in Duty.values:
        errors["duty"] = f"Choose one of: {', '.join(Duty.values)}."
    if scope not in Requirement.Scope.values:
        errors["scope"] = f"Choose one of: {', '.join(Requirement.Scope.values)}."
    if values.get("kind") not in Requirement.Kind.values:
        errors["kind"] = f"Choose one of: {', '.join(Requirement.Kind.values)}."
    title = (values.get("title") or "").strip()
    if not title:
        errors["title"] = "Name the requirement."
    elif len(title) > 200:
        errors["title"] = "At most 200 characters."
    months = values.get("validity_months")
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 120:
        errors["validity_months"] = "A whole number of months from 1 to 120."
    model_type, model = values.get("model_type") or "", values.get("model")
    if scope == Requirement.Scope.MODEL_TYPE:
        if model_type not in ModelType.values:
            errors["model_type"] = "Choose the model type this requirement covers."
        model = None
    elif scope == Requirement.Scope.MODEL:
        if not isinstance(model, Model):
            errors["model"] = "Choose the model this requirement covers."
        model_type = ""
    else:
        model_type, model = "", None
    if errors:
        raise ValidationError(errors)
    return {
        "duty": duty,
        "scope": scope,
        "model_type": model_type,
        "model": model,
        "kind": values["kind"],
        "title": title,
        "validity_months": months,
    }


def requirement_create(user, **values) -> Requirement:
    require_manager(user)
    clean = _clean_requirement(values)
    with transaction.atomic():
        requirement = Requirement.objects.create(created_by=user, **clean)
        audit_record(
            user,
            "skills.requirement_created",
            requirement,
            changes=diff({}, snapshot(requirement, REQUIREMENT_FIELDS)),
        )
    return requirement


def requirement_change(user, requirement: Requirement, **values) -> Requirement:
    """Change a requirement's fields (those given); completions already recorded keep the expiry they were given."""
    require_manager(user)
    with transaction.atomic():
        requirement = Requirement.objects.select_for_update(of=("self",)).select_related("model").get(pk=requirement.pk)
        if not requirement.active:
            raise Conflict("This requirement is retired: define a new one.")
        current = {f: getattr(requirement, f) for f in REQUIREMENT_FIELDS if f != "active"}
        clean = _clean_requirement(current | {k: v for k, v in values.items() if k in current})
        before = snapshot(requirement, REQUIREMENT_FIELDS)
        for name, value in clean.items():
            setattr(requirement, name, value)
        changes = diff(before, snapshot(requirement, REQUIREMENT_FIELDS))
        if not changes:
            return requirement
        requirement.save()
        audit_record(user, "skills.requirement_changed", requirement, changes=changes, reason=values.get("reason", ""))
    return requirement


def requirement_retire(user, requirement: Requirement, reason: str = "") -> Requirement:
    """A retired requirement binds nobody any more; it stays, with its completions, as a record."""
    require_manager(user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why this requirement is retired."})
    with transaction.atomic():
        requirement = Requirement.objects.select_for_update().get(pk=requirement.pk)
        if not requirement.active:
            raise Conflict("This requirement is already retired.")
        requirement.active = False
        requirement.save(update_fields=["active"])
        audit_record(user, "skills.requirement_retired", requirement, changes={"active": [True, False]}, reason=reason)
    return requirement


def completion_record(user, *, person, requirement: Requirement, completed_on: dt.date, evidence: str) -> Completion:
    """Record that `person` completed `requirement` on `completed_on`; it holds for the requirement's validity."""
    require_manager(user)
    errors = {}
    if person is None or not getattr(person, "is_active", False):
        errors["person"] = "Choose an active person."
    elif person.pk == user.pk:
        errors["person"] = "Nobody records their own completion: another compliance officer records it."
    elif not skills_access.holds_duty(person, requirement.duty):
        duty = requirement.get_duty_display()
        errors["person"] = f"This person does not hold the duty this requirement is for ({duty})."
    if not isinstance(completed_on, dt.date):
        errors["completed_on"] = "Enter the day it was completed."
    else:
        problem = moments.problem(completed_on)
        if problem:
            errors["completed_on"] = problem
        elif completed_on > selectors.today():
            errors["completed_on"] = "A completion cannot be in the future."
    evidence = (evidence or "").strip()
    if not evidence:
        errors["evidence"] = "Give the evidence: a certificate number, an attendance list, a note."
    elif len(evidence) > 500:
        errors["evidence"] = "At most 500 characters."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        requirement = Requirement.objects.select_for_update().get(pk=requirement.pk)
        if not requirement.active:
            raise Conflict("This requirement is retired: completions are no longer recorded against it.")
        completion = Completion.objects.create(
            person=person,
            requirement=requirement,
            completed_on=completed_on,
            expires_on=selectors.expiry(completed_on, requirement.validity_months),
            evidence=evidence,
            recorded_by=user,
        )
        audit_record(
            user,
            "skills.completion_recorded",
            completion,
            changes=diff({}, snapshot(completion, COMPLETION_FIELDS)),
        )
    return completion


# --- The lifecycle's checks on signers (registered in apps.py) --------------------------------------------------


def _reasons(user, duty: str, model, who: str) -> list[str]:
    reasons = []
    for requirement in selectors.lapsed(user, duty, model):
        if requirement.holds_until is None:
            when = "has never been completed"
        else:
            when = f"lapsed on {requirement.holds_until:%Y-%m-%d}"
        reasons.append(
            f"Your {requirement.get_kind_display().lower()} “{requirement.title}” ({who}, {requirement.scope_text}) "
            f"{when}: compliance must record a current completion before you can sign."
        )
    return reasons


def validator_skills_current(step) -> list[str]:
    """A validator signs a validation only while their validator requirements for the model are current."""
    return _reasons(step.user, Duty.VALIDATOR, step.model, "validator")


def compliance_skills_current(step) -> list[str]:
    """Compliance approves only while their compliance requirements for the model are current."""
    return _reasons(step.user, Duty.COMPLIANCE, step.model, "compliance")


# --- The daily warnings ------------------------------------------------------------------------------------------


def warn_expiring(on: dt.date | None = None) -> dict:
    """Tell each person, once per completion, 30 days before it lapses and once when it has lapsed (in-app and by
    e-mail). Only the latest completion of a requirement still binding its person counts; a newer completion stops
    the warnings of the older. Idempotent: each notice has its dedupe key, so running twice tells nobody twice."""
    on = on or selectors.today()
    soon = on + dt.timedelta(days=selectors.DUE_SOON_DAYS)
    latest = {}
    rows = (
        Completion.objects.filter(requirement__active=True, person__is_active=True)
        .select_related("person", "requirement__model")
        .order_by("person_id", "requirement_id", "expires_on", "id")
    )
    for completion in rows:
        latest[(completion.person_id, completion.requirement_id)] = completion
    told = {"due_soon": 0, "lapsed": 0}
    for completion in latest.values():
        if completion.expires_on > soon:
            continue
        person, requirement = completion.person, completion.requirement
        if not skills_access.holds_duty(person, requirement.duty) or not access.is_active(person):
            continue
        if completion.expires_on <= on:
            state, message = "lapsed", f"Your {requirement.title} lapsed on {completion.expires_on:%Y-%m-%d}."
        else:
            state = "due_soon"
            message = f"Your {requirement.title} lapses on {completion.expires_on:%Y-%m-%d}: renew it before then."
        if requirement.duty in (Duty.VALIDATOR, Duty.COMPLIANCE):
            message += " Until it is current again you cannot sign."
        elif requirement.duty == Duty.KILL_SWITCH:
            message += " It never stops you pulling the kill switch."
        sent = notify(
            [person],
            kind=NOTIFICATION_KIND,
            message=message,
            url="/skills/me/",
            dedupe_key=f"skills:{state}:{completion.pk}",
        )
        told[state] += int(sent)
    return told
