"""The client against a scripted fake Vigil: retries keep their key, refusals are final, pushes never wait."""

import datetime as dt
import email.utils
import logging
import random
import time

import pytest

from vigil_client import VigilClient, VigilRefused, VigilUnavailable

POINT = {"metric": "accuracy", "timestamp": "2026-01-01T00:00:00Z", "value": 0.6}


class MaxJitter(random.Random):
    """Jitter that always picks the top of the range, so the exponential cap itself shows."""

    def uniform(self, a, b):
        return b


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


# ----- send_batch: retries and refusals -----


def test_it_retries_a_503_with_the_same_idempotency_key(fake, make_client, sleeps):
    client = make_client()
    fake.answer(503, 503)
    answer = client.send_batch("points", [POINT])
    assert answer["stored"] == 1 and answer["duplicate"] is False
    assert len(fake.requests) == 3 and len(set(fake.keys())) == 1
    assert len(sleeps) == 2 and client.stats()["retried"] == 2


def test_it_retries_a_dropped_connection_with_the_same_idempotency_key(fake, make_client, sleeps):
    client = make_client()
    fake.answer("drop", "drop")
    assert client.send_batch("points", [POINT], idempotency_key="batch-7")["stored"] == 1
    assert fake.keys() == ["batch-7"] * 3 and len(sleeps) == 2


def test_it_grows_the_backoff_exponentially_up_to_its_cap(fake, make_client, sleeps):
    client = make_client(rng=MaxJitter(), backoff_base=0.5, backoff_max=4.0, max_retries=6)
    fake.answer(*[503] * 6)
    client.send_batch("points", [POINT])
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_it_draws_full_jitter_below_the_cap_reproducibly_from_a_seeded_random(fake, make_client, sleeps):
    client = make_client(rng=random.Random(7), backoff_base=0.5, backoff_max=4.0, max_retries=6)
    fake.answer(*[503] * 6)
    client.send_batch("points", [POINT])
    caps = [min(4.0, 0.5 * 2**attempt) for attempt in range(6)]
    assert all(0 <= delay <= cap for delay, cap in zip(sleeps, caps, strict=True))
    assert sleeps != caps  # jittered, not the bare exponential
    again = random.Random(7)
    assert sleeps == [again.uniform(0, cap) for cap in caps]


def test_it_honours_retry_after_on_429_and_503(fake, make_client, sleeps):
    client = make_client(backoff_max=1.0)
    later = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=20), usegmt=True)
    fake.answer((429, {}, {"Retry-After": "7"}), (503, {}, {"Retry-After": later}))
    client.send_batch("points", [POINT])
    assert sleeps[0] == 7.0 and 15 < sleeps[1] <= 20  # longer than backoff_max: the server knows best


def test_it_gives_up_after_max_retries_naming_the_key_to_resend_with(fake, make_client, sleeps):
    client = make_client(max_retries=2)
    fake.answer(503, 503, 503)
    with pytest.raises(VigilUnavailable) as raised:
        client.send_batch("points", [POINT])
    assert raised.value.attempts == 3 and len(fake.requests) == 3
    assert fake.keys() == [raised.value.idempotency_key] * 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_it_never_retries_a_refusal_and_raises_it_with_the_body(status, fake, make_client, sleeps):
    client = make_client()
    body = {"points": [{"row": 0, "field": "metric", "error": "Unknown metric 'acuracy'."}]}
    fake.answer((status, body, {}))
    with pytest.raises(VigilRefused) as raised:
        client.send_batch("points", [POINT | {"metric": "acuracy"}])
    assert raised.value.status == status and raised.value.body == body
    assert len(fake.requests) == 1 and sleeps == []


def test_it_treats_a_redirect_as_a_refusal_instead_of_resending_as_get(fake, make_client):
    client = make_client()
    fake.answer((302, {}, {"Location": "/login/"}))
    with pytest.raises(VigilRefused) as raised:
        client.send_batch("points", [POINT])
    assert raised.value.status == 302 and len(fake.requests) == 1


def test_it_sends_the_token_the_version_and_a_quoted_model_key(fake):
    with VigilClient(fake.url + "/", "secret-token", "eq mom/1", version="1.2", flush_interval=60) as client:
        assert client.send_batch("trades", [{"id": "t-1"}])["version"] == "1.2"
    request = fake.requests[0]
    assert request["path"] == "/api/v1/models/eq%20mom%2F1/monitoring/trades/"
    assert request["headers"]["Authorization"] == "Token secret-token"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == {"trades": [{"id": "t-1"}], "version": "1.2"}


# ----- pushing -----


def test_it_writes_datetimes_in_utc_with_a_z_and_defaults_to_now(fake, make_client):
    client = make_client()
    paris = dt.timezone(dt.timedelta(hours=2))
    client.push_point("accuracy", 0.61, dt.datetime(2026, 11, 23, 16, 0, tzinfo=paris))
    client.push_point("accuracy", 0.62)
    assert client.flush(timeout=5)
    first, second = fake.rows("points")
    assert first == {"metric": "accuracy", "timestamp": "2026-11-23T14:00:00Z", "value": 0.61}
    now = dt.datetime.now(dt.UTC)
    assert second["timestamp"].endswith("Z")
    assert abs(dt.datetime.fromisoformat(second["timestamp"]) - now) < dt.timedelta(seconds=5)


@pytest.mark.parametrize(
    "push",
    [
        lambda c: c.push_point("accuracy", float("nan")),
        lambda c: c.push_point("accuracy", "0.6"),
        lambda c: c.push_point("accuracy", 0.6, dt.datetime(2026, 1, 1)),  # naive: which zone?
        lambda c: c.push_prediction("p-1", {}, 1),
        lambda c: c.push_prediction("p-1", {"f1": float("inf")}, 1),
        lambda c: c.push_outcome("", 1),
        lambda c: c.push_trade("t-1", "SPY", "hold", 100, 512.3, -40.5),
        lambda c: c.push_trade("t-1", "SPY", "buy", 0, 512.3, -40.5),
    ],
)
def test_it_refuses_at_push_time_a_row_vigil_would_refuse_with_its_whole_batch(push, make_client):
    client = make_client()
    with pytest.raises((ValueError, TypeError)):
        push(client)
    assert client.stats()["pending"] == 0


def test_it_converts_numpy_numbers_that_json_cannot_write(fake, make_client):
    np = pytest.importorskip("numpy")
    client = make_client()
    client.push_prediction("p-1", {"f1": np.float32(0.5)}, np.int64(1), score=np.float64(0.72))
    assert client.flush(timeout=5)
    row = fake.rows("predictions")[0]
    assert row["features"] == {"f1": 0.5} and row["prediction"] == 1.0 and row["score"] == 0.72


def test_it_drops_the_oldest_rows_when_a_queue_is_full_and_warns_once_per_episode(fake, make_client, caplog):
    client = make_client(batch_size=100, max_queue=5)  # the queue never fills a batch: nothing is sent yet
    for value in range(10):
        client.push_point("accuracy", value)
    assert client.stats() | {"retried": 0} == {
        "sent": 0,
        "refused": 0,
        "dropped": 5,
        "orphaned": 0,
        "retried": 0,
        "pending": 5,
    }
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert client.flush(timeout=5) is False  # rows were dropped since the last flush
    assert [row["value"] for row in fake.rows("points")] == [5, 6, 7, 8, 9]
    for value in range(7):  # a new episode after the queue drained: warned again
        client.push_point("accuracy", value)
    assert client.stats()["dropped"] == 7
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


def test_it_never_blocks_a_push_while_vigil_hangs(fake, make_client):
    client = make_client(flush_interval=0.01, timeout=10)
    fake.answer("hang")
    client.push_point("accuracy", 0.5)
    wait_for(lambda: len(fake.requests) == 1)  # the sender is now stuck inside that request
    slowest = 0.0
    for i in range(5000):
        started = time.perf_counter()
        client.push_trade(f"t-{i}", "SPY", "buy", 100, 512.3, -40.5)
        slowest = max(slowest, time.perf_counter() - started)
    assert slowest < 0.25, slowest  # while the sender waits on a request that answers only when released
    assert client.flush(timeout=0.2) is False and client.stats()["pending"] == 5001
    fake.release.set()  # the hanging request is dropped; the retry and the rest go through
    assert client.flush(timeout=10) is True
    points = [r["headers"]["Idempotency-Key"] for r in fake.requests if r["path"].endswith("/points/")]
    assert len(points) == 2 and len(set(points)) == 1  # the dropped request, then its retry with the same key
    assert len(fake.rows("trades")) == 5000 and client.stats()["sent"] == 5001


def test_it_sends_points_and_trades_before_predictions_before_outcomes(fake, make_client):
    client = make_client()
    client.push_outcome("p-1", 1)
    client.push_prediction("p-1", {"f1": 0.3}, 1, score=0.72)
    client.push_trade("t-1", "SPY", "sell", 100, 512.3, 12.0, expected_slippage=0.5)
    client.push_point("hit_rate", 0.55)
    assert client.flush(timeout=5)
    assert fake.kinds() == ["points", "trades", "predictions", "outcomes"]
    assert fake.rows("trades")[0]["expected_slippage"] == 0.5 and "realised_slippage" not in fake.rows("trades")[0]


# ----- the background sender -----


def test_it_flushes_in_batches_of_batch_size_each_with_its_own_key(fake, make_client):
    client = make_client(batch_size=2)
    for value in range(5):
        client.push_point("accuracy", value)
    assert client.flush(timeout=5) is True
    assert [len(r["body"]["points"]) for r in fake.requests] == [2, 2, 1]
    assert len(set(fake.keys())) == 3
    assert client.stats() == {"sent": 5, "refused": 0, "dropped": 0, "orphaned": 0, "retried": 0, "pending": 0}


def test_it_keeps_a_batch_and_its_key_across_cycles_while_vigil_stays_down(fake, make_client):
    client = make_client(max_retries=1, flush_interval=0.01, backoff_max=0.01)
    fake.answer(503, 503, 503, 503, 503)  # two attempts a cycle: the third cycle gets through
    client.push_point("accuracy", 0.5)
    assert client.flush(timeout=5) is True
    assert len(fake.requests) == 6 and len(set(fake.keys())) == 1


def test_it_records_a_refused_batch_and_moves_on_to_the_next(fake, make_client, sleeps):
    client = make_client()
    body = {"points": [{"row": 1, "field": "metric", "error": "Unknown metric 'acuracy'."}]}
    fake.answer((400, body, {}))
    client.push_point("accuracy", 0.5)
    client.push_point("acuracy", 0.6)
    assert client.flush(timeout=5) is False
    assert len(fake.requests) == 1 and sleeps == []  # never retried
    error = client.last_errors[0]
    assert error["status"] == 400 and error["body"] == body and error["kind"] == "points" and error["rows"] == 2
    client.push_point("accuracy", 0.7)
    assert client.flush(timeout=5) is True
    assert client.stats()["sent"] == 1 and client.stats()["refused"] == 2


def test_it_leaves_out_outcomes_of_predictions_vigil_refused(fake, make_client):
    client = make_client()
    fake.answer((400, {"predictions": [{"row": 0, "field": "features", "error": "fixed"}]}, {}))
    client.push_prediction("p-1", {"f9": 1.0}, 1)
    client.push_prediction("p-2", {"f9": 1.0}, 0)
    for prediction_id in ("p-1", "p-2", "p-0"):  # p-0 was accepted in an earlier session
        client.push_outcome(prediction_id, 1)
    assert client.flush(timeout=5) is False
    assert fake.kinds() == ["predictions", "outcomes"]
    assert fake.rows("outcomes") == [{"id": "p-0", "outcome": 1.0}]  # one unknown id would refuse them all
    assert client.stats() | {"pending": 0} == {
        "sent": 1,
        "refused": 2,
        "dropped": 0,
        "orphaned": 2,
        "retried": 0,
        "pending": 0,
    }


def test_it_splits_a_batch_a_proxy_found_too_large(fake, make_client):
    client = make_client()
    fake.answer((413, "Request Entity Too Large", {}))
    for value in range(4):
        client.push_point("accuracy", value)
    assert client.flush(timeout=5) is True
    assert [[row["value"] for row in r["body"]["points"]] for r in fake.requests] == [[0, 1, 2, 3], [0, 1], [2, 3]]
    assert len(set(fake.keys())) == 3 and client.stats()["sent"] == 4


def test_it_splits_a_batch_heavier_than_the_body_limit_before_sending_it(fake, make_client):
    client = make_client(max_body_bytes=200)  # a point weighs about 70 bytes
    for value in range(5):
        client.push_point("accuracy", value)
    assert client.flush(timeout=5) is True
    assert [[row["value"] for row in r["body"]["points"]] for r in fake.requests] == [[0, 1], [2], [3, 4]]
    assert all(int(r["headers"]["Content-Length"]) < 300 for r in fake.requests)


def test_it_returns_false_from_flush_when_the_timeout_passes_first(fake, make_client):
    client = make_client()
    fake.answer("hang")
    client.push_point("accuracy", 0.5)
    started = time.monotonic()
    assert client.flush(timeout=0.3) is False
    assert 0.3 <= time.monotonic() - started < 2
    assert client.stats()["pending"] == 1


def test_it_closes_promptly_when_vigil_is_down_counting_what_it_could_not_send(fake):
    client = VigilClient(fake.url, "secret-token", "eq-momentum", backoff_base=10, backoff_max=10)
    fake.answer(*[503] * 5)  # the sender is in a (real) backoff sleep when close() gives up
    client.push_point("accuracy", 0.5)
    started = time.monotonic()
    assert client.close(timeout=0.3) is False
    assert time.monotonic() - started < 2
    assert client.stats()["dropped"] == 1 and client.stats()["pending"] == 0
    assert not client._thread.is_alive()


def test_close_keeps_to_its_timeout_while_a_request_hangs(fake):
    client = VigilClient(fake.url, "secret-token", "eq-momentum", flush_interval=60, timeout=10)
    fake.answer("hang")  # the server takes the batch and never answers: the sender waits on its 10 s timeout
    client.push_point("accuracy", 0.5)
    client._wake.set()
    while not fake.requests:
        time.sleep(0.01)
    started = time.monotonic()
    assert client.close(timeout=0.5) is False
    assert time.monotonic() - started < 1.5, "close(timeout=0.5) waited for the request's own 10 s timeout"
    assert client.stats()["dropped"] == 1 and client.stats()["pending"] == 0


def test_it_flushes_and_stops_its_thread_when_used_as_a_context_manager(fake):
    with VigilClient(fake.url, "secret-token", "eq-momentum", flush_interval=60) as client:
        client.push_point("accuracy", 0.5)
    assert fake.rows("points")[0]["value"] == 0.5 and client.stats()["sent"] == 1
    client.push_point("accuracy", 0.6)  # after close: counted, not sent, no error
    assert client.stats()["dropped"] == 1 and len(fake.requests) == 1
