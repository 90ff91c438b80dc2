"""API tokens (governance/core/api_tokens.py): kept hashed, shown once, new at each request, with a lifetime, ended
by their holder, by a password change, a deactivation or "sign out everywhere", refused from the next request."""

import datetime as dt
import types

import pytest
from django.contrib.auth.forms import SetPasswordForm
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from governance.core import api_tokens
from governance.core.models import ApiToken, AuditEvent, WebSession
from models_registry import service_accounts
from tests.factories import PASSWORD, UserFactory, token_for

TOKEN_URL = "/api/v1/auth/token/"
ME = "/api/v1/audit-events/"  # any endpoint a person may call


def ask(api, username, password=PASSWORD, **extra):
    api.credentials()
    return api.post(TOKEN_URL, {"username": username, "password": password, **extra}, format="json")


def answers(api, token: str) -> int:
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api.get(ME).status_code


def totp_for(device) -> str:
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


# --- Issued: new each time, shown once, kept hashed, with a lifetime ---------------------------------------------


@pytest.mark.django_db
def test_the_endpoint_issues_a_new_token_each_time_and_keeps_only_its_hash(api, settings):
    person = UserFactory(username="quant")
    first, second = ask(api, "quant").json(), ask(api, "quant").json()
    assert first["token"] != second["token"]
    assert first["token"].startswith("vgl") and first["prefix"] == first["token"][:12]
    rows = ApiToken.objects.filter(user=person)
    assert rows.count() == 2
    for row, answer in zip(rows.order_by("id"), (first, second), strict=True):
        assert row.digest == api_tokens.digest(answer["token"]) and answer["token"] not in (row.digest, row.prefix)
        lifetime = dt.timedelta(hours=settings.VIGIL_API_TOKEN_LIFETIME_HOURS)
        assert abs(row.expires_at - (row.created_at + lifetime)) < dt.timedelta(seconds=1)
    assert answers(api, first["token"]) == 200 and answers(api, second["token"]) == 200
    issued = AuditEvent.objects.filter(action="auth.token_issued", object_id=str(person.pk))
    assert issued.count() == 2
    assert not AuditEvent.objects.filter(changes__icontains=first["token"]).exists()  # never a secret in the trail


@pytest.mark.django_db
def test_an_expired_token_is_refused_from_the_next_request_with_why(api):
    person = UserFactory()
    token = token_for(person)
    assert answers(api, token) == 200
    ApiToken.objects.filter(digest=api_tokens.digest(token)).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = api.get(ME)
    assert response.status_code == 401 and "expired" in response.json()["detail"]


@pytest.mark.django_db
def test_use_is_noted_at_most_every_few_minutes(api):
    person = UserFactory()
    token = token_for(person)
    row = ApiToken.objects.get(digest=api_tokens.digest(token))
    assert row.last_used_at is None
    answers(api, token)
    row.refresh_from_db()
    first_use = row.last_used_at
    assert first_use is not None
    answers(api, token)
    row.refresh_from_db()
    assert row.last_used_at == first_use


@pytest.mark.django_db
def test_a_service_accounts_token_has_no_lifetime_and_rotation_ends_the_old_one(world, api):
    account, first = service_accounts.service_account_create(world.compliance, name="EQ OMS", desk=world.desk)
    assert ApiToken.objects.get(digest=api_tokens.digest(first)).expires_at is None
    second = service_accounts.service_account_rotate(world.compliance, account)
    api.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api.get("/api/v1/gate/mine/").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert api.get("/api/v1/gate/mine/").status_code == 200
    assert ApiToken.objects.get(digest=api_tokens.digest(first)).revoked_reason == "rotated"


# --- The second factor and the lockout ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_person_with_an_authenticator_gives_its_code_for_a_token(api):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    person = UserFactory(username="signer")
    device = TOTPDevice.objects.create(user=person, name="phone", confirmed=True)
    for extra in ({}, {"otp_token": ""}, {"otp_token": "000000"}):
        refused = ask(api, "signer", **extra)
        assert refused.status_code == 400 and "otp_token" in refused.json() and "token" not in refused.json()
    assert not ApiToken.objects.filter(user=person).exists()
    assert AuditEvent.objects.filter(action="auth.login_failed", object_id=str(person.pk)).count() == 3
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp's own throttle after wrong codes: not what is tested here
    device.throttling_failure_timestamp = None
    device.save()
    given = ask(api, "signer", otp_token=totp_for(device))
    assert given.status_code == 200 and answers(api, given.json()["token"]) == 200


@pytest.mark.django_db
def test_wrong_codes_count_towards_the_lockout_as_wrong_passwords_do(api, settings):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    person = UserFactory(username="guessed")
    device = TOTPDevice.objects.create(user=person, name="phone", confirmed=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert ask(api, "guessed", otp_token="000000").status_code == 400
    locked = ask(api, "guessed", otp_token=totp_for(device))
    assert locked.status_code == 429 and "token" not in locked.json() and int(locked["Retry-After"]) > 0
    assert not ApiToken.objects.filter(user=person).exists()


# --- Ended: by the holder, a password change, a deactivation, signing out everywhere ---------------------------


def _set_password_directly(person):
    person.set_password("a-wholly-new-passphrase")
    person.save()


def _set_password_through_the_form(person):
    form = SetPasswordForm(
        person, {"new_password1": "a-wholly-new-passphrase", "new_password2": "a-wholly-new-passphrase"}
    )
    assert form.is_valid(), form.errors
    form.save()


def _set_password_by_command(person, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a-wholly-new-passphrase")
    call_command("changepassword", person.username, stdout=types.SimpleNamespace(write=lambda *a, **k: None))


@pytest.mark.django_db
@pytest.mark.parametrize("change", [_set_password_directly, _set_password_through_the_form, _set_password_by_command])
def test_a_password_change_by_any_path_ends_every_token(api, monkeypatch, change):
    person = UserFactory()
    tokens = [token_for(person), token_for(person)]
    assert all(answers(api, token) == 200 for token in tokens)
    if change is _set_password_by_command:
        change(person, monkeypatch)
    else:
        change(person)
    assert all(answers(api, token) == 401 for token in tokens)
    assert set(ApiToken.objects.filter(user=person).values_list("revoked_reason", flat=True)) == {"password_changed"}
    event = AuditEvent.objects.get(action="auth.tokens_revoked", object_id=str(person.pk))
    assert event.reason == "Password changed" and len(event.changes["tokens"][0]) == 2


@pytest.mark.django_db
def test_a_login_that_only_rehashes_the_password_ends_nothing(api):
    person = UserFactory()
    token = token_for(person)
    person.password = "md5$oldsalt$" + "0" * 32  # as if stored by an older hasher; check_password would rehash
    person._password = None
    person.save(update_fields=["password"])
    assert answers(api, token) == 200


@pytest.mark.django_db
def test_deactivation_ends_every_token_for_good(api):
    person = UserFactory()
    token = token_for(person)
    person.is_active = False
    person.save()
    person.is_active = True
    person.save()
    assert answers(api, token) == 401  # reactivated: the token stays ended
    assert ApiToken.objects.get(user=person).revoked_reason == "deactivated"
    assert AuditEvent.objects.filter(
        action="auth.tokens_revoked", object_id=str(person.pk), reason="Account deactivated"
    ).exists()


@pytest.mark.django_db
def test_the_tokens_page_lists_live_tokens_without_secrets_and_revokes_one(browser_client, api):
    person, other = UserFactory(), UserFactory()
    kept, ended, theirs = token_for(person), token_for(person), token_for(other)
    page = browser_client.as_user(person)
    body = page.get("/account/tokens/").content.decode()
    assert kept[:12] in body and ended[:12] in body and kept not in body and theirs[:12] not in body
    ended_row = ApiToken.objects.get(digest=api_tokens.digest(ended))
    assert page.post("/account/tokens/", {"token": ended_row.pk}).status_code == 302
    assert answers(api, ended) == 401 and answers(api, kept) == 200
    their_row = ApiToken.objects.get(digest=api_tokens.digest(theirs))
    assert page.post("/account/tokens/", {"token": their_row.pk}).status_code == 404  # another's: not found
    assert page.post("/account/tokens/", {"token": "x"}).status_code == 404
    assert answers(api, theirs) == 200
    assert ended[:12] not in page.get("/account/tokens/").content.decode()
    event = AuditEvent.objects.get(action="auth.tokens_revoked", object_id=str(person.pk))
    assert event.actor == person and event.changes["tokens"][0] == [ended_row.prefix]


@pytest.mark.django_db
def test_signing_out_everywhere_ends_every_token_and_web_session(client, api, django_user_model):
    from django.test import Client

    person = UserFactory()
    token = token_for(person)
    laptop, phone = Client(), Client()
    laptop.force_login(person)
    phone.force_login(person)
    assert phone.get("/account/tokens/").status_code == 200
    assert WebSession.objects.filter(user=person).count() == 2
    done = laptop.post("/account/tokens/", {"action": "sign_out_everywhere"})
    assert done.status_code == 302 and done["Location"].startswith("/login/")
    assert phone.get("/account/tokens/").status_code == 302  # the other browser is signed out too
    assert laptop.get("/account/tokens/").status_code == 302
    assert answers(api, token) == 401
    assert not WebSession.objects.filter(user=person).exists()
    event = AuditEvent.objects.get(action="auth.signed_out_everywhere", object_id=str(person.pk))
    assert event.changes["other_web_sessions"] == [1, 0] and len(event.changes["tokens"][0]) == 1


# --- Tokens issued before Vigil hashed them ------------------------------------------------------------------


@pytest.mark.django_db
def test_plain_keys_left_by_the_old_table_are_hashed_and_the_table_dropped(world, settings):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("models_registry.migrations.0006_api_tokens_from_plain_authtoken_keys")
    account, _ = service_accounts.service_account_create(world.compliance, name="EQ OMS", desk=world.desk)
    person_key, machine_key = "a" * 40, "b" * 40
    created = timezone.now() - dt.timedelta(days=400)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id integer, created timestamp)")
        for key, user in ((person_key, world.trader), (machine_key, account.user)):
            cursor.execute(
                "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
                [key, user.pk, connection.ops.adapt_datetimefield_value(created)],
            )

    def execute(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql)

    migration.hash_plain_keys(apps, types.SimpleNamespace(connection=connection, execute=execute))
    assert "authtoken_token" not in connection.introspection.table_names()
    person = ApiToken.objects.get(digest=api_tokens.digest(person_key))
    machine = ApiToken.objects.get(digest=api_tokens.digest(machine_key))
    assert (
        person.user == world.trader
        and person.prefix == "a" * 8
        and abs(person.created_at - created) < dt.timedelta(seconds=1)
    )
    lifetime = dt.timedelta(hours=settings.VIGIL_API_TOKEN_LIFETIME_HOURS)
    assert abs(person.expires_at - (timezone.now() + lifetime)) < dt.timedelta(minutes=1)
    assert machine.expires_at is None  # a trading system keeps working until compliance rotates it
