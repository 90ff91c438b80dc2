"""In a browser: a person with an authenticator signs in with its code; a compliance officer the policy requires one
of is sent at login to enrol, scans (here: reads) the secret, confirms a code, and is asked for codes from then on."""

import base64

import pytest
from django_otp.oath import totp

from governance.core.policy import policy_publish
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def code_from_secret(secret: str) -> str:
    return f"{totp(base64.b32decode(secret + '=' * (-len(secret) % 8))):06d}"


def test_sign_in_with_a_code_and_enrol_when_the_policy_requires_it(page, live_server):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    validator = UserFactory(username="val", roles=["validator"])
    device = TOTPDevice.objects.create(user=validator, name="phone", confirmed=True)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "val")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    assert page.is_visible("text=Enter the current code from your authenticator app.")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", f"{totp(device.bin_key):06d}")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/models/")
    page.click("text=Log out")

    officer = UserFactory(username="officer", roles=["compliance"])
    policy_publish(officer, second_factor_required=["compliance"])
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "officer")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/account/two-factor/")
    assert page.is_visible("text=you have none")
    assert page.locator("[data-testid=otp-qr] svg").count() == 1
    secret = page.inner_text("[data-testid=otp-secret]")
    page.fill("#id_otp_token", code_from_secret(secret))
    page.click("text=Confirm")
    assert page.is_visible("text=You have an authenticator app.")
    assert TOTPDevice.objects.get(user=officer).confirmed
