"""Electronic signatures (21 CFR Part 11 style): re-authenticate, sign a canonical payload, verify later.

Hand-written because the signed payload is evidence a supervisor may examine: its canonical form is
documented here and in docs/architecture.md, and verify() must be able to explain a mismatch.
"""

import hashlib
import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp import match_token

from governance.core import second_factor, signing_lock
from governance.core.audit import audit_record, audit_type
from governance.core.exceptions import SigningLocked
from governance.core.models import Signature


def check_credentials(user, password: str, otp_token: str = "") -> None:
    """The signer proves it is them: password again, and a one-time code if they have a TOTP device (which the
    policy may require of their role). The one check every signature of every app goes through.

    Refused (audited, nothing signed) with a ValidationError naming the field: while their signing is locked
    (SigningLocked, even for the right password), when their role requires a device they do not have, on a wrong
    password or code (each counted: the limit locks signing, governance/core/signing_lock.py).
    """
    signing_lock.refuse_if_locked(user)
    missing = second_factor.missing(user)
    if missing:
        with transaction.atomic():
            audit_record(
                user,
                "signature.refused",
                user,
                object_type="auth.user",
                object_repr=user.get_username(),
                reason="no second factor, which the policy requires of their role",
            )
        raise ValidationError({"otp_token": [missing]})
    if not password or not user.check_password(password):
        reason = "wrong password at signing" if password else "no password given at signing"
        _refuse(user, reason, "password", "The password is not correct; nothing was signed.", guessed=bool(password))
    if second_factor.has_device(user) and (not otp_token or match_token(user, otp_token) is None):
        _refuse(
            user,
            "wrong or missing one-time code at signing",
            "otp_token",
            "Enter the current code from your authenticator; nothing was signed.",
            guessed=bool(otp_token),
        )
    signing_lock.record_success(user)


def _refuse(user, reason: str, field: str, message: str, *, guessed: bool):
    """Count a wrong answer (audited); raise the lock when it was the last one allowed, else the field's error. A
    blank answer is no guess (a form sent back to fix another field): audited, not counted."""
    if not guessed:
        with transaction.atomic():
            audit_record(
                user, "signature.refused", user, object_type="auth.user", object_repr=user.get_username(), reason=reason
            )
        raise ValidationError({field: [message]})
    until = signing_lock.record_failure(user, reason)
    if until is not None:
        first = message.removesuffix("; nothing was signed.")
        raise SigningLocked(f"{first}. {signing_lock.locked_message(until)}", until)
    raise ValidationError({field: [message]})


def canonical_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def sign(signer, meaning: str, obj, payload: dict, policy, comment: str = "") -> Signature:
    """Record a signature over `payload` (already re-authenticated by check_credentials)."""
    signature = Signature.objects.create(
        signer=signer,
        full_name_snapshot=signer.get_full_name() or signer.get_username(),
        signed_at=timezone.now(),
        meaning=meaning,
        comment=comment,
        object_type=audit_type(obj),
        object_id=str(obj.pk),
        payload=payload,
        content_hash=canonical_hash(payload),
        policy=policy,
    )
    audit_record(
        signer,
        "signature.sign",
        obj,
        reason=comment,
        changes={"meaning": [None, meaning], "content_hash": [None, signature.content_hash]},
    )
    return signature


# Each app that signs records registers how to recompute what was signed: object_type -> builder(obj, signed
# payload) answering the payload as the database has it now, or None when the record no longer exists.
_payload_builders: dict = {}


def register_payload(object_type: str, model_class, builder) -> None:
    """`builder(obj, signed_payload) -> dict`: the signed content recomputed from the database."""
    _payload_builders[object_type] = (model_class, builder)


def verify(signature: Signature, obj=None) -> tuple[bool, str]:
    """Recompute the signed content from the database; any edit or transplant breaks it. `obj`: the signed
    record when the caller already holds it (a page verifying all of a version's signatures reads it once)."""
    if canonical_hash(signature.payload) != signature.content_hash:
        return False, "the stored payload does not match the signed hash"
    if signature.payload.get("object") != f"{signature.object_type}:{signature.object_id}":
        return False, "the signature belongs to another record"
    registered = _payload_builders.get(signature.object_type)
    if registered is not None:
        model_class, builder = registered
        if obj is None or not isinstance(obj, model_class) or str(obj.pk) != signature.object_id:
            obj = model_class.objects.filter(pk=signature.object_id).first()
        if obj is None:
            return False, "the signed record no longer exists"
        current = builder(obj, signature.payload)
        signed = {k: v for k, v in signature.payload.items() if k in current}
        if canonical_hash(current) != canonical_hash(signed):
            return False, "the signed record or its evidence changed after signing"
    return True, "intact"
