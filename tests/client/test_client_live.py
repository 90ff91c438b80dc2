"""The client against the real Vigil (a live Django server): what it pushes is stored, once."""

import datetime as dt

import pytest

from risk.monitoring.models import IngestBatch, MetricPoint, Prediction, Trade
from tests.base import build_world
from tests.factories import token_for
from vigil_client import VigilClient, VigilRefused

pytestmark = pytest.mark.slow(reason="drives the client against Vigil served by a live server")

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def ago(minutes: int) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes)


@pytest.fixture
def vigil(live_server):
    """The developer of `mine` (in production at 1.0) reporting its monitoring data, as a trading system does."""
    world = build_world()
    token = token_for(world.developer)
    client = VigilClient(live_server.url, token, "mine", flush_interval=60, max_retries=2, backoff_base=0.05)
    yield world, client
    client.close(timeout=5)


@pytest.mark.django_db(transaction=True)
def test_it_stores_points_trades_predictions_and_their_outcomes_in_vigil(vigil):
    world, client = vigil
    for i in range(3):
        client.push_point("accuracy", 0.6 + i / 100, ago(3 - i))
    client.push_trade("t-1", "SPY", "buy", 100, 512.3, -40.5, ago(2), expected_slippage=0.4, realised_slippage=0.6)
    client.push_trade("t-2", "SPY", "sell", 100, 513.1, 80.0, ago(1))
    client.push_prediction("p-1", {"f1": 0.3, "f2": 1.0}, 1, score=0.72, timestamp=ago(2))
    client.push_prediction("p-2", {"f1": 0.1, "f2": 0.0}, 0, timestamp=ago(1))
    client.push_outcome("p-1", 0)  # in the same flush as its prediction: sent after it

    assert client.flush(timeout=30) is True, client.last_errors
    assert client.stats() == {"sent": 8, "refused": 0, "dropped": 0, "orphaned": 0, "retried": 0, "pending": 0}
    points = MetricPoint.objects.filter(version=world.mine_v1, metric="accuracy").order_by("timestamp")
    assert [(p.timestamp, p.value) for p in points] == [(ago(3), 0.6), (ago(2), 0.61), (ago(1), 0.62)]
    trades = {t.trade_id: t for t in Trade.objects.filter(version=world.mine_v1)}
    assert trades.keys() == {"t-1", "t-2"}
    assert (trades["t-1"].side, trades["t-1"].pnl, trades["t-1"].realised_slippage) == ("buy", -40.5, 0.6)
    assert trades["t-2"].expected_slippage is None
    predictions = {p.prediction_id: p for p in Prediction.objects.filter(version=world.mine_v1)}
    assert (predictions["p-1"].features, predictions["p-1"].score, predictions["p-1"].outcome) == (
        {"f1": 0.3, "f2": 1.0},
        0.72,
        0.0,
    )
    assert predictions["p-2"].outcome is None  # labels arrive later
    assert IngestBatch.objects.filter(model=world.mine).count() == 4  # one batch per kind


@pytest.mark.django_db(transaction=True)
def test_it_stores_a_batch_resent_with_its_key_once(vigil):
    world, client = vigil
    rows = [{"metric": "pnl", "timestamp": ago(i).isoformat().replace("+00:00", "Z"), "value": i} for i in range(3)]
    first = client.send_batch("points", rows, idempotency_key="backfill-2026-11-23")
    again = client.send_batch("points", rows, idempotency_key="backfill-2026-11-23")
    assert (first["stored"], first["duplicate"], first["version"]) == (3, False, "1.0")
    assert (again["stored"], again["duplicate"], again["batch"]) == (0, True, first["batch"])
    assert MetricPoint.objects.filter(version=world.mine_v1, metric="pnl").count() == 3


@pytest.mark.django_db(transaction=True)
def test_it_raises_vigils_row_by_row_refusal_without_storing_anything(vigil):
    world, client = vigil
    rows = [{"metric": "accuracy", "timestamp": ago(1).isoformat(), "value": 0.6}, {"metric": "acuracy"}]
    with pytest.raises(VigilRefused) as raised:
        client.send_batch("points", rows)
    assert raised.value.status == 400
    assert {(e["row"], e["field"]) for e in raised.value.body["points"]} == {
        (1, "metric"),
        (1, "timestamp"),
        (1, "value"),
    }
    assert not MetricPoint.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_gets_a_batch_past_vigils_10_mb_body_limit_by_splitting_it(vigil):
    world, client = vigil
    features = {f"feature_{j:03d}": 0.123456789 + j for j in range(400)}  # 11.2 MB in all: over 10 MiB
    for i in range(1000):
        client.push_prediction(f"p-{i}", features, i % 2, timestamp=ago(1))
    assert client.flush(timeout=120) is True, client.last_errors
    assert Prediction.objects.filter(version=world.mine_v1).count() == 1000
    assert IngestBatch.objects.filter(model=world.mine, kind="predictions").count() == 2
