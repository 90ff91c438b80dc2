"""Who may act in the lifecycle: the actors the transition table names (governance/lifecycle/workflow.py
`Actor`, asked through `workflow.role_allows`), who requires a revalidation, whose work queue holds what, and the
yearly attestation, the model owner's to sign."""

from governance.core import access
from governance.core.roles import Role, user_roles
from risk.validation.access import is_validator_of


def may_act_as(user, actor: str, model) -> bool:
    """Whether `user` is, for `model`, the actor a transition names (a workflow.Actor value). Superusers get
    nothing extra."""
    roles = user_roles(user)
    if actor == "team":
        return access.can(user, access.ADD_VERSION, model) and bool(roles & {Role.DEVELOPER, Role.OWNER})
    if actor == "validator":
        return is_validator_of(user, model)
    if actor == "compliance":
        return Role.COMPLIANCE in roles
    if actor == "owner_or_compliance":
        return model.owner_id == user.pk or Role.COMPLIANCE in roles
    raise ValueError(actor)


def may_require_revalidation(user, model) -> bool:
    """Compliance, or the model's validator, marks a model "revalidation required" by hand."""
    return Role.COMPLIANCE in user_roles(user) or model.validator_id == user.pk


def has_validator_queue(user) -> bool:
    """Validators find the versions and findings of their models that await them in their queue."""
    return Role.VALIDATOR in user_roles(user)


def sees_validator_dashboard(user) -> bool:
    """A validator's own dashboard (My dashboard: the validations assigned to them, their runs): validators."""
    return access.is_active(user) and Role.VALIDATOR in user_roles(user)


def has_compliance_queue(user) -> bool:
    """Compliance finds the decisions that are theirs (approvals, validators to assign, revalidations) queued."""
    return Role.COMPLIANCE in user_roles(user)


def can_sign_attestation(user, attestation) -> bool:
    return access.is_active(user) and attestation.owner_id == user.pk and attestation.signature_id is None
