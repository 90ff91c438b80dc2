"""The gate's fast lane (risk/gate/fast_lane.py), driven as a WSGI server drives it (vigil.wsgi.application): a
repeated request is answered with the full stack's own bytes after one query, and anything that could change the
answer sends the next request through the full stack again.

Each change test first asks twice (the second answer is replayed), changes one thing the way the product or an
administrator does, and asks again.
"""

import datetime as dt
import io
import json
import time
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.utils import timezone

from governance.core import api_tokens
from governance.core.access_window import set_window
from governance.core.models import ApiToken, UserProfile
from models_registry import service_accounts
from models_registry.services import model_grant_access, model_revoke_access
from risk.gate import fast_lane, killswitch
from tests.factories import PASSWORD, make_model, make_version, token_for


@pytest.fixture
def lane():
    # As Django's test client does: the test's transaction must outlive each request's connection upkeep.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield fast_lane.FastLane(WSGIHandler())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def get(lane, token: str, key: str = "mine", **environ):
    """One request through the lane as a WSGI server makes it: (status code, headers, body)."""
    request = {}
    setup_testing_defaults(request)
    request.update(
        {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": f"/api/v1/gate/{key}/",
            "HTTP_AUTHORIZATION": f"Token {token}",
            "wsgi.input": io.BytesIO(b""),
        }
    )
    request.update(environ)
    started = {}

    def start_response(status, headers, exc_info=None):
        started.update(status=int(status.split()[0]), headers=headers)

    response = lane(request, start_response)
    body = b"".join(response)
    if hasattr(response, "close"):
        response.close()
    return started["status"], started["headers"], body


def token_of(user) -> str:
    return token_for(user)


def row_of(token: str):
    return ApiToken.objects.filter(digest=api_tokens.digest(token))


def replayed_after(lane, token, key="mine", **environ) -> tuple[int, bool]:
    """The status of one more request, and whether the lane answered it from memory."""
    before = lane.replayed
    status, _headers, _body = get(lane, token, key, **environ)
    return status, lane.replayed == before + 1


def warm(lane, token, key="mine") -> None:
    assert replayed_after(lane, token, key) == (200, False)
    assert replayed_after(lane, token, key) == (200, True)


# --- What is replayed, and what it costs -------------------------------------------------------------------------


@pytest.mark.django_db
def test_wsgi_application_is_the_lane_around_django():
    from vigil.wsgi import application

    assert isinstance(application, fast_lane.FastLane)
    assert isinstance(application.django, WSGIHandler)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["service_account", "trader", "developer"])
def test_a_repeated_answer_is_the_full_stacks_bytes_after_one_query(world, lane, django_assert_num_queries, persona):
    if persona == "service_account":
        token = service_accounts.service_account_create(world.compliance, name="desk system", desk=world.desk)[1]
    else:
        token = token_of(getattr(world, persona))
    full = get(lane, token)
    assert full[0] == 200 and json.loads(full[2])["allowed"] is True and lane.replayed == 0
    with django_assert_num_queries(1):
        replay = get(lane, token)
    assert lane.replayed == 1
    assert replay[0] == full[0] and replay[2] == full[2]
    without_id = [lambda headers: [(n, v) for n, v in headers if n != "X-Request-ID"]][0]
    assert without_id(replay[1]) == without_id(full[1])
    assert {n for n, _ in replay[1]} >= {"ETag", "Cache-Control", "Content-Type", "X-Frame-Options", "X-Request-ID"}


@pytest.mark.django_db
def test_if_none_match_is_replayed_as_the_full_stacks_304(world, lane):
    token = token_of(world.trader)
    etag = dict(get(lane, token)[1])["ETag"]
    full = get(lane, token, HTTP_IF_NONE_MATCH=etag)
    assert full[0] == 304 and lane.replayed == 0
    replay = get(lane, token, HTTP_IF_NONE_MATCH=f'W/{etag}, "other"')
    assert replay[0] == 304 and replay[2] == b"" and lane.replayed == 1
    assert dict(replay[1])["ETag"] == etag
    # A stale tag gets the whole answer, from memory too.
    assert replayed_after(lane, token, HTTP_IF_NONE_MATCH='"stale"') == (200, True)


@pytest.mark.django_db
def test_a_replay_carries_its_own_request_id(world, lane):
    token = token_of(world.trader)
    warm(lane, token)
    first = dict(get(lane, token)[1])["X-Request-ID"]
    second = dict(get(lane, token)[1])["X-Request-ID"]
    assert first != second and len(first) == 32
    assert dict(get(lane, token, HTTP_X_REQUEST_ID="desk-7-abc")[1])["X-Request-ID"] == "desk-7-abc"


# --- Every change that could alter the answer goes through the full stack ----------------------------------------


def _delete_token(world, token):
    row_of(token).delete()


def _revoke_token(world, token):
    api_tokens.token_revoke(world.trader, row_of(token).get().pk)


def _expire_token(world, token):
    assert row_of(token).update(expires_at=timezone.now() - dt.timedelta(seconds=1)) == 1


def _change_password(world, token):
    world.trader.set_password("a-new-passphrase-for-the-trader")
    world.trader.save()


def _deactivate(world, token):
    world.trader.is_active = False
    world.trader.save()


def _bare_deactivation(world, token):
    type(world.trader).objects.filter(pk=world.trader.pk).update(is_active=False)


def _bare_window(end: str):
    def change(world, token):
        moment = timezone.now() + dt.timedelta(days=-1 if end == "access_from" else 1)
        assert UserProfile.objects.filter(user=world.trader).update(**{end: moment}) == 1

    return change


def _bare_superuser_update(world, token):
    type(world.trader).objects.filter(pk=world.trader.pk).update(is_superuser=True)


def _remove_role(world, token):
    world.trader.groups.clear()


def _kill_switch(world, token):
    killswitch.kill_switch_engage(
        world.compliance, scope="model", model=world.mine, reason="Drift past its threshold", password=PASSWORD
    )


CHANGES = {
    "token deleted": (_delete_token, 401),
    "token revoked": (_revoke_token, 401),
    "token expired": (_expire_token, 401),
    "password changed": (_change_password, 401),
    "user deactivated": (_deactivate, 401),
    "user deactivated behind Vigil's back": (_bare_deactivation, 401),
    "window opening written behind Vigil's back": (_bare_window("access_from"), 200),
    "window end written behind Vigil's back": (_bare_window("access_until"), 200),
    "superuser flag set behind Vigil's back": (_bare_superuser_update, 200),
    "roles removed": (_remove_role, 404),
    "kill switch engaged": (_kill_switch, 200),
}


@pytest.mark.django_db
@pytest.mark.parametrize("change", CHANGES)
def test_a_change_sends_the_next_request_through_the_full_stack(world, lane, change):
    token = token_of(world.trader)
    warm(lane, token)
    make_change, expected = CHANGES[change]
    make_change(world, token)
    assert replayed_after(lane, token) == (expected, False)


@pytest.mark.django_db
def test_a_blocked_answer_is_never_replayed(world, lane):
    token = token_of(world.trader)
    warm(lane, token)
    _kill_switch(world, token)
    for _ in range(3):
        status, headers, body = get(lane, token)
        assert status == 200 and json.loads(body)["allowed"] is False
    assert lane.replayed == 1  # only the warm-up's


@pytest.mark.django_db
def test_a_revoked_grant_is_a_404_at_once(world, lane):
    outsider = world.outsider
    grant = model_grant_access(world.compliance, world.mine, outsider, "Risk reads its output.")
    token = token_of(outsider)
    warm(lane, token)
    model_revoke_access(world.compliance, grant, "No longer needed.")
    assert replayed_after(lane, token) == (404, False)


@pytest.mark.django_db
def test_an_auditor_with_an_access_window_always_takes_the_full_stack(world, lane):
    token = token_of(world.auditor)
    warm(lane, token)
    now = timezone.now()
    set_window(world.compliance, world.auditor, now - dt.timedelta(days=1), now + dt.timedelta(days=1))
    assert replayed_after(lane, token) == (200, False)
    assert replayed_after(lane, token) == (200, False)  # inside the window, still the full stack each time
    set_window(world.compliance, world.auditor, now - dt.timedelta(days=2), now - dt.timedelta(days=1))
    assert replayed_after(lane, token) == (401, False)


@pytest.mark.django_db
def test_an_answer_is_not_replayed_past_the_date_it_depends_on(world, lane, monkeypatch):
    model = make_model(
        world.compliance,
        key="due-today",
        owner=world.owner,
        developers=[world.developer],
        desk=world.desk,
        validator=world.validator,
    )
    type(model).objects.filter(pk=model.pk).update(next_validation_due=timezone.localdate())
    make_version(world.developer, model, label="1.0", status="production")
    token = token_of(world.compliance)
    warm(lane, token, "due-today")
    (entry,) = [e for key, e in lane.entries.items() if key[1] == "due-today"]
    assert entry.replayable.valid_until is not None
    later = entry.replayable.valid_until + dt.timedelta(seconds=1)
    monkeypatch.setattr(fast_lane.timezone, "now", lambda: later)
    assert replayed_after(lane, token, "due-today")[1] is False


# --- Requests the lane leaves alone ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "environ",
    [
        {"HTTP_COOKIE": "sessionid=abc"},
        {"QUERY_STRING": "format=json"},
        {"REQUEST_METHOD": "HEAD"},
        {"HTTP_ACCEPT": "text/html"},
        {"HTTP_HOST": "evil.example"},
    ],
    ids=["cookie", "query", "head", "other-accept", "other-host"],
)
def test_a_different_request_is_not_answered_from_another_ones_memory(world, lane, environ):
    token = token_of(world.trader)
    warm(lane, token)
    status, replayed = replayed_after(lane, token, **environ)
    assert not replayed
    if environ.get("HTTP_HOST") == "evil.example":
        assert status == 400  # Django's own answer to a host it does not serve


@pytest.mark.django_db
def test_another_token_of_the_same_user_is_remembered_apart(world, lane):
    token = token_of(world.trader)
    warm(lane, token)
    api_tokens.token_revoke(world.trader, row_of(token).get().pk)
    fresh = token_for(world.trader)
    assert replayed_after(lane, fresh) == (200, False)
    assert replayed_after(lane, token) == (401, False)


@pytest.mark.django_db
def test_an_error_in_the_lane_falls_back_to_the_full_stack(world, lane, monkeypatch, caplog):
    token = token_of(world.trader)
    warm(lane, token)

    def broken(*args):
        raise RuntimeError("database went away")

    monkeypatch.setattr(lane, "_still_valid", broken)
    assert replayed_after(lane, token) == (200, False)
    assert "gate fast lane failed" in caplog.text


@pytest.mark.django_db
def test_a_role_group_change_for_someone_else_still_replays(world, lane):
    """The counts are per caller and per model: an unrelated change costs the trader nothing."""
    token = token_of(world.trader)
    warm(lane, token)
    world.developer2.first_name = "Renamed"
    world.developer2.save()
    assert replayed_after(lane, token) == (200, True)


@pytest.mark.django_db
def test_an_aged_connection_is_not_closed_inside_a_transaction(world, lane):
    """Closing would break the transaction (here the test's own; once, a test process older than the connection's
    age failed this way); the connection is closed at the first request outside one."""
    token = token_of(world.trader)
    warm(lane, token)
    connection.close_at = time.monotonic() - 1
    assert replayed_after(lane, token) == (200, True)
    assert connection.connection is not None
    world.developer2.first_name = "Still connected"
    world.developer2.save()


@pytest.mark.django_db(transaction=True)
def test_a_connection_past_its_age_is_closed_and_the_next_replay_reconnects(world, lane):
    """The lane does its own connection upkeep (no health check per request): DATABASE_CONN_MAX_AGE still holds."""

    token = token_of(world.trader)
    warm(lane, token)
    # Open now (warming may itself have closed a connection the test process opened over a minute ago), then aged.
    connection.ensure_connection()
    connection.close_at = time.monotonic() - 1
    assert replayed_after(lane, token) == (200, True)
    assert connection.connection is None
    assert replayed_after(lane, token) == (200, True)
    assert connection.connection is not None


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a dropped server connection (SQLite has none to drop)")
@pytest.mark.django_db(transaction=True)
def test_a_broken_connection_falls_back_to_django_which_reconnects(world):
    """A connection the database dropped fails the lane's query; the request goes to Django, whose request start
    finds the error and reconnects (the real signals, as under gunicorn), and the answer is still right."""

    lane = fast_lane.FastLane(WSGIHandler())
    token = token_of(world.trader)
    warm(lane, token)
    connection.connection.close()  # as a database restart or a network cut leaves it
    assert replayed_after(lane, token) == (200, False)
    assert replayed_after(lane, token) == (200, True)
