"""gate.check(key): the deadline holds whatever the server does, the ETag is sent back and a 304 honoured,
max-age spares requests, an error is never cached, and errors fail closed past the staleness window."""

import socket
import threading
import time

import pytest

from governance.lifecycle import workflow
from models_registry import service_accounts
from risk.gate.models import GateDecision
from tests.base import build_world
from vigil_client import Gate, GateAnswer, VigilClient
from vigil_client import gate as gate_module

MARGIN = 1.0  # the deadline's slack in the timed assertions: generous, so a loaded machine does not flake


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def gate_workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "vigil-gate-request"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


# ----- answers from the server -----


def test_it_answers_vigils_decision_with_every_field(fake_gate, make_gate):
    limits = {
        "max_notional": "5000000.00",
        "currency": "USD",
        "instruments": ["ESZ6"],
        "venues": ["XCME"],
        "end_date": "2026-12-31",
    }
    fake_gate.decide("eq-momentum", version="2.0", status="pilot", pilot=limits, conditions="Max 5m.", revision=4)
    answer = make_gate().check("eq-momentum")
    assert isinstance(answer, GateAnswer)
    assert (answer.allowed, answer.source, answer.key, answer.version, answer.status) == (
        True,
        "server",
        "eq-momentum",
        "2.0",
        "pilot",
    )
    assert answer.limits == limits and answer.conditions == "Max 5m." and answer.reasons == []
    assert (answer.revision, answer.decided_at, answer.error, answer.age) == (4, "2026-01-05T10:00:00Z", "", 0.0)
    sent = fake_gate.requests[0]
    assert sent["path"] == "/api/v1/gate/eq-momentum/"
    assert sent["headers"]["Authorization"] == "Token secret-token"
    assert "If-None-Match" not in sent["headers"]  # nothing cached yet


def test_a_blocked_model_is_answered_with_every_reason(fake_gate, make_gate):
    fake_gate.decide("eq-momentum", allowed=False, reasons=["suspended", "kill_switch"])
    answer = make_gate().check("eq-momentum")
    assert answer.allowed is False and answer.source == "server"
    assert [r["code"] for r in answer.reasons] == ["suspended", "kill_switch"]


def test_it_sends_the_etag_back_and_a_304_confirms_the_cached_answer(fake_gate, make_gate, clock):
    fake_gate.decide("eq-momentum", revision=3)
    gate = make_gate()
    first = gate.check("eq-momentum")
    clock.advance(5)
    second = gate.check("eq-momentum")
    assert [r["headers"].get("If-None-Match") for r in fake_gate.requests] == [None, fake_gate.etag("eq-momentum")]
    assert fake_gate.not_modified == 1
    assert second.source == "not_modified" and second.age == 0.0
    assert (
        (second.allowed, second.revision, second.version)
        == (first.allowed, first.revision, first.version)
        == (
            True,
            3,
            "1.0",
        )
    )


def test_a_changed_decision_replaces_the_cached_one(fake_gate, make_gate):
    fake_gate.decide("eq-momentum")
    gate = make_gate()
    assert gate.check("eq-momentum").allowed
    fake_gate.decide("eq-momentum", allowed=False, reasons=["kill_switch"], revision=2)
    answer = gate.check("eq-momentum")
    assert (answer.allowed, answer.revision, answer.source) == (False, 2, "server")
    assert fake_gate.not_modified == 0  # the old ETag no longer matched: a full answer


def test_no_request_is_made_while_the_answer_is_younger_than_max_age(fake_gate, make_gate, clock):
    fake_gate.max_age = 5
    fake_gate.decide("eq-momentum")
    gate = make_gate()
    gate.check("eq-momentum")
    clock.advance(4.9)
    cached = gate.check("eq-momentum")
    assert len(fake_gate.requests) == 1
    assert cached.source == "cache" and cached.allowed and cached.age == pytest.approx(4.9) and cached.error == ""
    clock.advance(0.1)  # max-age reached: ask again, with the ETag
    assert gate.check("eq-momentum").source == "not_modified"
    assert len(fake_gate.requests) == 2 and fake_gate.not_modified == 1


def test_a_huge_max_age_is_capped_so_a_stop_still_gets_through(fake_gate, make_gate, clock):
    fake_gate.max_age = 86_400  # a misconfigured proxy, say
    fake_gate.decide("eq-momentum")
    gate = make_gate()
    gate.check("eq-momentum")
    clock.advance(gate_module.MAX_AGE_CAP)
    fake_gate.decide("eq-momentum", allowed=False, reasons=["kill_switch"], revision=2)
    assert gate.check("eq-momentum").allowed is False
    assert len(fake_gate.requests) == 2


def test_a_callers_edit_does_not_change_the_cached_answer(fake_gate, make_gate):
    fake_gate.max_age = 60
    fake_gate.decide("eq-momentum", allowed=False, reasons=["suspended"])
    gate = make_gate()
    gate.check("eq-momentum").reasons.clear()
    assert [r["code"] for r in gate.check("eq-momentum").reasons] == ["suspended"]


# ----- the deadline -----


@pytest.mark.parametrize("action", ["hang", "trickle"])
def test_the_deadline_holds_when_the_server_hangs_or_trickles(fake_gate, make_gate, action):
    fake_gate.decide("eq-momentum")
    fake_gate.answer(action)
    gate = make_gate(deadline=0.5)
    started = time.monotonic()
    answer = gate.check("eq-momentum")
    elapsed = time.monotonic() - started
    assert elapsed < 0.5 + MARGIN, f"check took {elapsed:.2f}s past a 0.5s deadline"
    assert answer.allowed is False and answer.source == "error"
    assert [r["code"] for r in answer.reasons] == ["timeout"]
    assert "timed out" in answer.reasons[0]["message"] and answer.error == answer.reasons[0]["message"]
    # The request's thread was woken by closing its socket: it ends while the server is still hanging.
    assert not fake_gate.release.is_set()
    wait_for(lambda: not gate_workers())


def test_the_deadline_holds_with_a_cached_answer_to_fall_back_on(fake_gate, make_gate, clock):
    fake_gate.decide("eq-momentum")
    gate = make_gate(deadline=0.5)
    gate.check("eq-momentum")
    clock.advance(10)
    fake_gate.answer("hang")
    started = time.monotonic()
    answer = gate.check("eq-momentum")
    assert time.monotonic() - started < 0.5 + MARGIN
    assert (answer.allowed, answer.source, answer.age) == (True, "cache", 10.0)
    assert "timed out" in answer.error


def test_workers_stuck_past_their_deadline_are_bounded(fake_gate, make_gate):
    """A worker that closing its socket cannot wake (a hung DNS lookup) is counted; past MAX_HANGING the gate
    answers at once instead of starting another thread."""
    fake_gate.decide("eq-momentum")
    gate = make_gate(deadline=0.1)
    stuck = threading.Event()

    def hung_lookup(timeout):
        stuck.wait(30)
        raise OSError("name resolution failed")

    real_connection, gate._connection = gate._connection, hung_lookup
    try:
        answers = [gate.check("eq-momentum") for _ in range(gate_module.MAX_HANGING + 3)]
        assert len(gate_workers()) == gate_module.MAX_HANGING
        assert all(not a.allowed and a.reasons[0]["code"] == "timeout" for a in answers)
        assert "still hanging" in answers[-1].error
    finally:
        stuck.set()
    wait_for(lambda: not gate_workers())
    gate._connection = real_connection
    gate.deadline = 5.0  # a real request now: 0.1 s was sometimes too short on a loaded machine (failed once)
    assert gate.check("eq-momentum").allowed  # the hung workers ended: requests start again


# ----- errors: fail closed, never cached -----


@pytest.mark.parametrize(
    ("action", "code", "named"),
    [
        ("hang", "timeout", "timed out"),
        ("drop", "unreachable", "RemoteDisconnected"),
        (500, "server_error", "HTTP 500"),
        (503, "server_error", "HTTP 503"),
        ("not_json", "bad_answer", "not JSON"),
        (401, "unauthorized", "HTTP 401"),
        (403, "unauthorized", "HTTP 403"),
        (404, "refused", "HTTP 404"),
    ],
)
def test_an_error_answers_blocked_naming_it_and_is_never_cached(fake_gate, make_gate, action, code, named):
    fake_gate.decide("eq-momentum")
    fake_gate.answer(action)
    gate = make_gate(deadline=0.5)
    blocked = gate.check("eq-momentum")
    assert (blocked.allowed, blocked.source, blocked.age, blocked.revision) == (False, "error", None, None)
    assert [r["code"] for r in blocked.reasons] == [code]
    assert named in blocked.reasons[0]["message"] and blocked.error == blocked.reasons[0]["message"]
    again = gate.check("eq-momentum")  # the error was not kept: Vigil is asked again, from scratch
    assert (again.allowed, again.source) == (True, "server")
    assert len(fake_gate.requests) == 2 and "If-None-Match" not in fake_gate.requests[1]["headers"]


def test_a_refused_connection_answers_blocked(make_gate):
    answer = Gate(f"http://127.0.0.1:{closed_port()}", "secret-token", deadline=2.0).check("eq-momentum")
    assert answer.allowed is False and answer.source == "error"
    assert answer.reasons[0]["code"] == "unreachable" and "ConnectionRefusedError" in answer.error


def test_an_answer_about_another_model_is_not_taken(fake_gate, make_gate):
    fake_gate.decide("eq-momentum", model="other-model")
    answer = make_gate().check("eq-momentum")
    assert answer.allowed is False and answer.reasons[0]["code"] == "bad_answer" and "other-model" in answer.error


def test_within_the_staleness_window_an_error_answers_the_cached_answer_and_past_it_blocks(fake_gate, make_gate, clock):
    fake_gate.decide("eq-momentum", revision=7)
    gate = make_gate(max_staleness=30)
    gate.check("eq-momentum")
    clock.advance(30)
    fake_gate.answer(503)
    within = gate.check("eq-momentum")  # a network blip: trading goes on
    assert (within.allowed, within.source, within.revision, within.age) == (True, "cache", 7, 30.0)
    assert "HTTP 503" in within.error and within.reasons == []
    clock.advance(0.5)
    fake_gate.answer(503)
    past = gate.check("eq-momentum")  # Vigil last confirmed it 30.5 s ago: blocked
    assert (past.allowed, past.source) == (False, "error")
    assert past.reasons[0]["code"] == "server_error"
    back = gate.check("eq-momentum")  # the cached answer is still Vigil's last one, not the error
    assert (back.allowed, back.source, back.revision) == (True, "not_modified", 7)


def test_a_304_restarts_the_staleness_window(fake_gate, make_gate, clock):
    fake_gate.decide("eq-momentum")
    gate = make_gate(max_staleness=30)
    gate.check("eq-momentum")
    clock.advance(20)
    assert gate.check("eq-momentum").source == "not_modified"
    clock.advance(20)  # 40 s after the 200, 20 s after the 304
    fake_gate.answer("drop")
    answer = gate.check("eq-momentum")
    assert (answer.allowed, answer.source, answer.age) == (True, "cache", 20.0)


def test_a_cached_blocked_answer_stays_blocked_on_error(fake_gate, make_gate, clock):
    fake_gate.decide("eq-momentum", allowed=False, reasons=["kill_switch"])
    gate = make_gate()
    gate.check("eq-momentum")
    clock.advance(1)
    fake_gate.answer(500)
    answer = gate.check("eq-momentum")
    assert (answer.allowed, answer.source) == (False, "cache")
    assert [r["code"] for r in answer.reasons] == ["kill_switch"] and "HTTP 500" in answer.error


def test_max_staleness_0_blocks_on_every_error(fake_gate, make_gate, clock):
    fake_gate.decide("eq-momentum")
    gate = make_gate(max_staleness=0)
    gate.check("eq-momentum")
    clock.advance(0.001)
    fake_gate.answer(500)
    assert gate.check("eq-momentum").source == "error"


def test_fail_open_allows_a_model_vigil_never_answered_but_keeps_a_blocked_one_blocked(fake_gate, make_gate, clock):
    fake_gate.decide("eq-momentum")
    fake_gate.decide("fx-carry", allowed=False, reasons=["suspended"])
    gate = make_gate(fail_open=True, max_staleness=30)
    fake_gate.answer(500)
    unknown = gate.check("eq-momentum")
    assert (unknown.allowed, unknown.source) == (True, "error")
    assert unknown.reasons[0]["code"] == "server_error" and "HTTP 500" in unknown.error
    gate.check("fx-carry")
    clock.advance(3600)  # far past the staleness window
    fake_gate.answer("drop")
    blocked = gate.check("fx-carry")
    assert (blocked.allowed, blocked.source, blocked.age) == (False, "cache", 3600.0)
    assert [r["code"] for r in blocked.reasons] == ["suspended"]


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("fail_open", [False, True])
def test_a_refused_token_blocks_at_once_whatever_is_cached(fake_gate, make_gate, clock, status, fail_open):
    fake_gate.decide("eq-momentum")
    fake_gate.decide("fx-carry")
    gate = make_gate(max_staleness=30, fail_open=fail_open)
    assert gate.check("eq-momentum").allowed and gate.check("fx-carry").allowed
    clock.advance(1)  # well within the staleness window: a 503 would answer the cached "allowed"
    fake_gate.answer(status)
    refused = gate.check("eq-momentum")
    assert (refused.allowed, refused.source, refused.age) == (False, "error", None)
    assert refused.reasons[0]["code"] == "unauthorized" and f"HTTP {status}" in refused.error
    fake_gate.answer(status)  # every answer the refused token was given is forgotten, not only this key's
    other = gate.check("fx-carry")
    assert (other.allowed, other.source) == (False, "error")
    assert "If-None-Match" not in fake_gate.requests[-1]["headers"]


# ----- sharing, proxies, the client -----


def test_threads_share_a_gate_safely(fake_gate, make_gate, clock):
    fake_gate.max_age = 60
    for i in range(4):
        fake_gate.decide(f"model-{i}", allowed=i % 2 == 0, revision=i + 1)
    gate = make_gate()
    answers, errors = [], []

    def ask(i):
        try:
            answers.append(gate.check(f"model-{i % 4}"))
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == [] and len(answers) == 32
    assert all(a.allowed == (a.revision % 2 == 1) and a.key == f"model-{a.revision - 1}" for a in answers)
    asked = len(fake_gate.requests)
    assert all(gate.check(f"model-{i}").source == "cache" for i in range(4))  # each key is cached now
    assert len(fake_gate.requests) == asked


def test_it_goes_through_the_proxy_the_environment_names(fake_gate, monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", fake_gate.url.replace("http://", "http://ops:s3cret@"))
    fake_gate.decide("eq-momentum")
    answer = Gate("http://vigil.example:8000", "secret-token").check("eq-momentum")
    assert answer.allowed and answer.source == "server"
    sent = fake_gate.requests[0]
    assert sent["path"] == "http://vigil.example:8000/api/v1/gate/eq-momentum/"
    assert sent["headers"]["Proxy-Authorization"] == "Basic b3BzOnMzY3JldA=="  # ops:s3cret


def test_it_refuses_settings_that_cannot_work():
    with pytest.raises(ValueError):
        Gate("vigil.example", "t")  # no scheme
    with pytest.raises(ValueError):
        Gate("https://vigil.example", "t", deadline=0)
    with pytest.raises(ValueError):
        Gate("https://vigil.example", "t", max_staleness=-1)
    with pytest.raises(ValueError):
        Gate("https://vigil.example", "t").check("")


def test_the_client_has_a_gate_on_the_same_vigil_and_token(fake_gate):
    fake_gate.decide("eq-momentum")
    client = VigilClient(f"{fake_gate.url}/", "secret-token", "eq-momentum", flush_interval=60)
    try:
        assert client.gate is client.gate
        assert client.gate.check(client.model_key).allowed
        assert fake_gate.requests[0]["headers"]["Authorization"] == "Token secret-token"
    finally:
        client.close(timeout=1)


# ----- against the real Vigil (a live Django server) -----


@pytest.mark.django_db(transaction=True)
def test_a_service_account_reads_the_real_gate_through_a_stop_and_its_304s(live_server, clock):
    world = build_world()
    _, token = service_accounts.service_account_create(
        world.compliance, name="EQ OMS", models=[world.mine], can_read_gate=True, can_push=False
    )
    gate = Gate(live_server.url, token, deadline=10.0, clock=clock)

    first = gate.check("mine")
    assert (first.allowed, first.source, first.version, first.status) == (True, "server", "1.0", "production")
    assert first.reasons == [] and first.limits is None and first.decided_at.endswith("Z")
    assert first.revision == GateDecision.objects.filter(model=world.mine).latest("revision").revision
    assert gate.check("mine").source == "cache"  # within the server's max-age: no request
    clock.advance(60)
    assert gate.check("mine").source == "not_modified"  # past it: the ETag sent back, 304

    workflow.version_transition(world.owner, world.mine_v1, "suspend", comment="Fills look wrong this morning.")
    clock.advance(60)
    stopped = gate.check("mine")
    assert (stopped.allowed, stopped.source, stopped.revision) == (False, "server", first.revision + 1)
    assert [r["code"] for r in stopped.reasons] == ["suspended"]

    outside = gate.check("theirs")  # not in the account's scope: 404, blocked
    assert (outside.allowed, outside.source) == (False, "error") and "HTTP 404" in outside.error
