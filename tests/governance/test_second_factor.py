"""The second factor: asked at login of everyone with an authenticator (a wrong code is a failed login, counted by
django-axes), required to sign of the roles the policy names (refused without one, with the way to enrol), and
enrolled by the person on /account/two-factor/ (audited)."""

import pytest
from django.core.exceptions import ValidationError

from governance.core.models import AuditEvent, GovernancePolicy
from governance.core.policy import policy_publish
from risk.gate import killswitch
from risk.gate.models import KillSwitch
from tests.factories import PASSWORD

REASON = "Erratic fills across the desk since the open; stop until explained."


def totp_for(device) -> str:
    from django_otp.oath import totp

    device.refresh_from_db()
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def device_of(user, confirmed=True):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="phone", confirmed=confirmed)


def fresh(device) -> None:
    """Let the device accept the current code again (django-otp refuses a code twice, and throttles wrong ones)."""
    type(device).objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)


def login(client, user, code=None):
    data = {"username": user.username, "password": PASSWORD}
    if code is not None:
        data["otp_token"] = code
    return client.post("/login/", data)


def require_of(world, *roles) -> GovernancePolicy:
    return policy_publish(world.compliance, second_factor_required=list(roles))


@pytest.mark.django_db
def test_login_asks_the_code_of_a_person_with_an_authenticator(world, client):
    device = device_of(world.validator)
    for code in (None, "000000"):
        refused = login(client, world.validator, code)
        assert refused.status_code == 200 and "_auth_user_id" not in client.session
        assert "Enter the current code from your authenticator app." in refused.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed", object_repr="validator").count() == 2
    fresh(device)
    signed_in = login(client, world.validator, totp_for(device))
    assert signed_in.status_code == 302 and client.session["_auth_user_id"] == str(world.validator.pk)
    assert client.session["otp_device_id"] == device.persistent_id  # the session is verified (django-otp)


@pytest.mark.django_db
def test_wrong_codes_count_towards_the_login_lockout(world, client, settings):
    device = device_of(world.validator)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        fresh(device)
        login(client, world.validator, "123456" if totp_for(device) != "123456" else "654321")
    fresh(device)
    assert login(client, world.validator, totp_for(device)).status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_person_without_an_authenticator_signs_in_with_the_password(world, client):
    response = login(client, world.owner)
    assert response.status_code == 302 and response["Location"] == "/models/"


@pytest.mark.django_db
def test_a_role_the_policy_requires_a_second_factor_of_is_told_at_login_and_refused_at_signing(world, client, api):
    require_of(world, "compliance", "validator")
    response = login(client, world.compliance)
    assert response.status_code == 302 and response["Location"] == "/account/two-factor/"
    page = client.get("/account/two-factor/").content.decode()
    assert "compliance officer sign with a second factor and you have none" in page
    with pytest.raises(ValidationError) as refused:
        killswitch.kill_switch_engage(
            world.compliance, scope="model", model=world.mine, reason=REASON, password=PASSWORD
        )
    assert "/account/two-factor/" in refused.value.message_dict["otp_token"][0]
    assert not KillSwitch.objects.exists()
    assert AuditEvent.objects.filter(
        action="signature.refused", actor=world.compliance, reason__startswith="no second factor"
    ).exists()
    api_refusal = api.as_user(world.compliance).post(
        "/api/v1/kill-switch/",
        {"scope": "model", "model": "mine", "reason": REASON, "password": PASSWORD},
        format="json",
    )
    assert api_refusal.status_code == 400 and "second factor" in api_refusal.json()["otp_token"][0]
    # Roles the policy does not name sign as before; with a device, the code is asked as always.
    assert not login(client, world.owner).get("Location", "").startswith("/account/")
    device = device_of(world.compliance)
    engaged = killswitch.kill_switch_engage(
        world.compliance, scope="model", model=world.mine, reason=REASON, password=PASSWORD, otp_token=totp_for(device)
    )
    assert engaged.engaged_by == world.compliance


@pytest.mark.django_db
def test_a_person_enrols_an_authenticator_and_signs_with_it(world, browser_client):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = browser_client.as_user(world.validator)
    page = client.get("/account/two-factor/")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    device = TOTPDevice.objects.get(user=world.validator, confirmed=False)
    assert device.key and f"secret={page.context['secret']}" in device.config_url
    assert client.get("/account/two-factor/").context["secret"] == page.context["secret"]  # same device kept
    wrong = client.post("/account/two-factor/", {"otp_token": "12345x"})
    assert wrong.status_code == 400 and "That code does not match" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=world.validator, confirmed=True).exists()
    confirmed = client.post("/account/two-factor/", {"otp_token": totp_for(device)})
    assert confirmed.status_code == 302
    assert TOTPDevice.objects.get(user=world.validator).confirmed
    enrolled = AuditEvent.objects.get(action="auth.second_factor_enrolled")
    assert enrolled.actor == world.validator
    after = client.get("/account/two-factor/").content.decode()
    assert "You have an authenticator app." in after and "secret=" not in after
    assert client.post("/account/two-factor/", {"otp_token": "123456"}).status_code == 403  # no second device


@pytest.mark.django_db
def test_compliance_publishes_the_requirement_and_sees_who_has_no_device(world, browser_client):
    client = browser_client.as_user(world.compliance)
    response = client.post(
        "/policy/",
        {
            **{f"months_{t}": "12" for t in "123"},
            **{f"approvals_{t}": "1" for t in "123"},
            "second_factor_compliance": "1",
            "second_factor_validator": "1",
        },
    )
    assert response.status_code == 302
    assert GovernancePolicy.objects.order_by("-version").first().second_factor_required == ["compliance", "validator"]
    page = client.get("/policy/").content.decode()
    assert "Validator: required to sign" in page and "2 without an authenticator yet" in page
    with pytest.raises(ValidationError) as bad:
        policy_publish(world.compliance, second_factor_required=["everyone"])
    assert "second_factor_required" in bad.value.message_dict
