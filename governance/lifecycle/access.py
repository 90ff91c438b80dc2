"""Who may act in the lifecycle beyond the transition table's actors (governance/lifecycle/workflow.py
`role_allows`): the yearly attestation is the model owner's to sign."""

from governance.core import access


def can_sign_attestation(user, attestation) -> bool:
    return access.is_active(user) and attestation.owner_id == user.pk and attestation.signature_id is None
