"""The second factor: an authenticator app (django-otp's TOTP device), asked at login of everyone who has one and
at every signature; the governance policy says which roles must have one to sign (`second_factor_required`).

A person enrols themselves on /account/two-factor/ (the secret as a QR code and as text, confirmed with a code,
audited). Once they have a confirmed device the page adds no other: a stolen session must not be able to add the
thief's phone. Replacing a lost device is an administrator's change (the Django admin), audited there.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance.core.audit import audit_record
from governance.core.policy import policy_in_force
from governance.core.roles import Role, user_roles

DEVICE_NAME = "Authenticator app"


def has_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def roles_requiring(user, policy=None) -> list[str]:
    """The person's roles for which the policy in force requires a second factor."""
    return (policy or policy_in_force()).second_factor_roles(user_roles(user))


def missing(user, policy=None) -> str:
    """Why this person may not sign yet ("" when they may): their role requires a device and they have none."""
    policy = policy or policy_in_force()
    roles = roles_requiring(user, policy)
    if not roles or has_device(user):
        return ""
    labels = " and ".join(Role(r).label.lower() for r in roles)
    return (
        f"Under governance policy v{policy.version}, {labels} sign with a second factor and you have none: add an "
        f"authenticator app on {reverse('governance:two-factor')} first; nothing was signed."
    )


def enrolment_device(user) -> TOTPDevice:
    """The unconfirmed device a person is enrolling (made on their first visit, kept until confirmed, so the QR
    code they scanned stays valid while they type the code). 403 once they have a confirmed one."""
    if has_device(user):
        raise PermissionDenied("You already have an authenticator; an administrator replaces a lost one.")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


@transaction.atomic
def device_confirm(user, token: str) -> TOTPDevice:
    """Confirm the device being enrolled with a current code from it: 400 on the code field when wrong."""
    device = enrolment_device(user)
    token = (token or "").strip()
    if not token.isdigit() or not device.verify_token(token):
        raise ValidationError({"otp_token": ["That code does not match; enter the current 6-digit code."]})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()  # no stray secret left behind
    audit_record(
        user,
        "auth.second_factor_enrolled",
        user,
        object_type="auth.user",
        object_repr=user.get_username(),
        changes={"second_factor": [None, f"{device.name} (TOTP device {device.pk})"]},
    )
    return device
