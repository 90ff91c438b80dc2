"""The governance policy in force, and publishing a new version of it (compliance only)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from governance.core import indicators, moments
from governance.core.access import may_publish_policy
from governance.core.audit import audit_record
from governance.core.models import (
    GovernancePolicy,
    default_acknowledgement_required,
    default_incident_response,
    default_ongoing_regression_revalidation,
    default_ongoing_validation_months,
)
from governance.core.roles import Role

SECOND_FACTOR_ROLES = (Role.COMPLIANCE, Role.VALIDATOR, Role.OWNER, Role.DEVELOPER, Role.AUDITOR, Role.TRADER)

DEFAULTS = {
    "profile": "SR 26-2",
    "tiering_rule_version": "TIER-2026.1",
    "revalidation_months": {"1": 12, "2": 24, "3": 36},
    "approvals_required": {"1": 2, "2": 1, "3": 1},
    "required_evidence": {
        "validate": ["validation_report"],
        "validate_with_conditions": ["validation_report"],
        "reject": ["validation_report"],
        "promote": ["pilot_results"],
    },
    "due_soon_days": 30,
    "incident_response": default_incident_response(),
    # Off until compliance publishes it: required before people have enrolled, it would refuse every signature
    # of those roles (the kill switch included). People enrol on /account/two-factor/; the policy page counts who
    # of each role has no device yet.
    "second_factor_required": [],
    # Thresholds of the key risk indicators (governance/core/indicators.py); one it does not name keeps Vigil's
    # default, shown as such.
    "risk_indicators": {},
    # Scheduled validation of live versions on production data (risk/monitoring/ongoing_validation.py).
    "ongoing_validation_months": default_ongoing_validation_months(),
    "ongoing_regression_revalidation": default_ongoing_regression_revalidation(),
    # Whose acknowledgement of a model card the gate waits for, by tier (risk/gate/acknowledgements.py): none by
    # default, so the history recorded before it existed keeps its meaning.
    "acknowledgement_required": default_acknowledgement_required(),
}
ACKNOWLEDGING_PARTIES = ("traders", "desk_head")
# How the policy page says each party (the form's boxes, the summary of the policy in force).
ACKNOWLEDGING_WORDS = {"traders": "each trader of the desk", "desk_head": "the desk's head"}
# Version 1 is Vigil's defaults, which apply from before anything is recorded: it is dated at the earliest moment
# Vigil takes, so every decision citing it, including those of a past rebuilt with the clock set back (the demo's
# year, governance/demo/history.py), is dated after its publication. Migration 0005 writes the same moment.
DEFAULTS_IN_FORCE_FROM = moments.EARLIEST
SEVERITIES = ("critical", "high", "medium", "low")
TIERS = ("1", "2", "3")


def policy_in_force() -> GovernancePolicy:
    """The newest published policy. Migration 0005 publishes version 1 with the defaults; if the table was
    emptied since (a restored or flushed database), version 1 is published again so no decision is ever
    taken without a recorded policy. Either way version 1 is in force from `DEFAULTS_IN_FORCE_FROM`."""
    policy = GovernancePolicy.objects.order_by("-version").first()
    if policy is None:
        policy, _ = GovernancePolicy.objects.get_or_create(
            version=1, defaults={**DEFAULTS, "published_at": DEFAULTS_IN_FORCE_FROM, "notes": "Vigil defaults."}
        )
    return policy


def policy_at(moment) -> GovernancePolicy:
    """The policy in force at `moment` (None: now): the newest published before it; the first version when the
    moment precedes every publication (its defaults are what Vigil applied until then)."""
    if moment is None:
        return policy_in_force()
    found = GovernancePolicy.objects.filter(published_at__lt=moment).order_by("-version").first()
    return found or GovernancePolicy.objects.order_by("version").first() or policy_in_force()


def _whole(value, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _by_tier(message: str, tiers) -> list[ValidationError]:
    """One error per tier at fault; its `tier` param lets a form put it beside that tier's field."""
    return [ValidationError(message, code="invalid", params={"tier": t}) for t in tiers]


def _check(fields: dict) -> None:
    errors = {}
    for name in ("revalidation_months", "approvals_required"):
        value = fields.get(name)
        if not isinstance(value, dict) or set(value) != set(TIERS):
            errors[name] = f"Give a whole number for each tier {', '.join(TIERS)}."
            continue
        if bad := [t for t in TIERS if not _whole(value[t], 1, 120)]:
            errors[name] = _by_tier("Tier %(tier)s: a whole number between 1 and 120.", bad)
    evidence = fields.get("required_evidence")
    if not isinstance(evidence, dict) or any(
        not isinstance(v, list) or not all(isinstance(k, str) for k in v) for v in evidence.values()
    ):
        errors["required_evidence"] = "Map each action to a list of evidence kinds."
    response = fields.get("incident_response")
    if (
        not isinstance(response, dict)
        or set(response) != {"suspend", "revalidation"}
        or any(not isinstance(by_tier, dict) or set(by_tier) != set(TIERS) for by_tier in response.values())
        or any(
            not isinstance(severities, list) or not set(severities) <= set(SEVERITIES)
            for by_tier in response.values()
            for severities in by_tier.values()
        )
    ):
        errors["incident_response"] = (
            'Give, for "suspend" and "revalidation", each tier 1, 2, 3 a list of severities among '
            f"{', '.join(SEVERITIES)}."
        )
    errors.update(_check_indicators(fields.get("risk_indicators")))
    errors.update(_check_ongoing(fields))
    acks = fields.get("acknowledgement_required")
    if (
        not isinstance(acks, dict)
        or set(acks) != set(TIERS)
        or any(not isinstance(v, list) or not set(v) <= set(ACKNOWLEDGING_PARTIES) for v in acks.values())
    ):
        errors["acknowledgement_required"] = (
            f"Give each tier {', '.join(TIERS)} a list among {', '.join(ACKNOWLEDGING_PARTIES)}."
        )
    second = fields.get("second_factor_required")
    if not isinstance(second, list) or not set(second) <= set(SECOND_FACTOR_ROLES):
        errors["second_factor_required"] = f"Give a list of roles among {', '.join(SECOND_FACTOR_ROLES)}."
    if errors:
        raise ValidationError(errors)


def _check_ongoing(fields: dict) -> dict:
    """Months between scheduled validations (0 to 120, 0: none) and the revalidation switch, for each tier."""
    errors = {}
    months = fields.get("ongoing_validation_months")
    if not isinstance(months, dict) or set(months) != set(TIERS):
        errors["ongoing_validation_months"] = f"Give a whole number of months for each tier {', '.join(TIERS)}."
    elif bad := [t for t in TIERS if not _whole(months[t], 0, 120)]:
        errors["ongoing_validation_months"] = _by_tier(
            "Tier %(tier)s: a whole number of months from 0 (none) to 120.", bad
        )
    flags = fields.get("ongoing_regression_revalidation")
    if not isinstance(flags, dict) or set(flags) != set(TIERS):
        errors["ongoing_regression_revalidation"] = f"Give true or false for each tier {', '.join(TIERS)}."
    elif bad := [t for t in TIERS if not isinstance(flags[t], bool)]:
        errors["ongoing_regression_revalidation"] = _by_tier("Tier %(tier)s: give true or false.", bad)
    return errors


def _check_indicators(given) -> dict:
    """Each named indicator exists and has whole-number thresholds, amber no higher than red."""
    known = {indicator.key: indicator.label for indicator in indicators.all_indicators()}
    if not isinstance(given, dict):
        return {"risk_indicators": "Map each key risk indicator to its amber and red thresholds."}
    for key, levels in given.items():
        if key not in known:
            return {"risk_indicators": f"{key} is not a key risk indicator Vigil knows."}
        values = {name: levels.get(name) for name in ("amber", "red")} if isinstance(levels, dict) else {"amber": None}
        # From 1: a threshold of 0 would make the indicator red (or amber) with nothing to count. The params say
        # where, for a form's field; the message names the indicator as people read it, never by its code.
        for level, value in values.items():
            if not _whole(value, 1, 1_000_000):
                return {
                    "risk_indicators": _at(f"{known[key]}: give amber and red as whole numbers from 1.", key, level)
                }
        if values["amber"] > values["red"]:
            return {"risk_indicators": _at(f"{known[key]}: amber must not be above red.", key, "amber")}
    return {}


def _at(message: str, indicator: str, level: str) -> ValidationError:
    # The label may hold a "%": escaped, since Django formats a message with its params.
    return ValidationError(message.replace("%", "%%"), code="invalid", params={"indicator": indicator, "level": level})


@transaction.atomic
def policy_publish(actor, **fields) -> GovernancePolicy:
    """Publish the next policy version. Earlier versions stay as they were, forever."""
    if not may_publish_policy(actor):
        raise PermissionDenied("Only compliance publishes governance policy.")
    merged = {**DEFAULTS, **{k: v for k, v in fields.items() if v is not None}}
    _check(merged)
    merged["second_factor_required"] = sorted(set(merged["second_factor_required"]))
    merged["acknowledgement_required"] = {
        t: [p for p in ACKNOWLEDGING_PARTIES if p in merged["acknowledgement_required"][t]] for t in TIERS
    }
    current = GovernancePolicy.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0
    policy = GovernancePolicy(version=current + 1, published_by=actor, published_at=timezone.now(), **merged)
    policy.full_clean()
    policy.save(force_insert=True)
    audit_record(actor, "policy.publish", policy, changes={k: [None, v] for k, v in merged.items()})
    return policy
