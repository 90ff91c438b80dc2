"""Monitoring data in: batches of metric points and trades from a model's team, checked whole, stored once,
all or nothing; the series query reads them back in order, averaged into buckets when asked."""

import datetime as dt
import json

import pytest

from risk.monitoring.models import IngestBatch, MetricPoint, Trade

POINTS = "/api/v1/models/mine/monitoring/points/"
TRADES = "/api/v1/models/mine/monitoring/trades/"
SERIES = "/api/v1/models/mine/monitoring/series/"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def stamp(minutes_ago: int) -> str:
    return (NOW - dt.timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def points(n=5, metric="accuracy"):
    return [{"metric": metric, "timestamp": stamp(n - i), "value": 0.5 + i / 100} for i in range(n)]


def trade(i, **overrides):
    row = {"id": f"t-{i}", "timestamp": stamp(i), "instrument": "SPY", "side": "buy", "quantity": 100}
    return row | {"price": 512.3, "pnl": -40.5 + i} | overrides


@pytest.mark.django_db
def test_the_team_pushes_points_and_reads_them_back_in_order(world, api):
    response = api.as_user(world.developer).post(POINTS, {"points": points(5)}, format="json")
    assert response.status_code == 201
    assert response.json() | {"batch": 0} == {"stored": 5, "rows": 5, "batch": 0, "version": "1.0", "duplicate": False}
    series = api.as_user(world.compliance).get(SERIES, {"metric": "accuracy"}).json()
    assert series["version"] == "1.0" and series["step"] is None
    assert [v for _, v in series["points"]] == pytest.approx([0.5, 0.51, 0.52, 0.53, 0.54])
    assert series["points"][0][0] == stamp(5)


@pytest.mark.django_db
def test_a_batch_sent_twice_with_its_idempotency_key_is_stored_once(world, api):
    client = api.as_user(world.owner)
    first = client.post(POINTS, {"points": points(3)}, format="json", HTTP_IDEMPOTENCY_KEY="batch-42")
    again = client.post(POINTS, {"points": points(3)}, format="json", HTTP_IDEMPOTENCY_KEY="batch-42")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["stored"] == 0
    assert again.json()["batch"] == first.json()["batch"]
    assert MetricPoint.objects.count() == 3 and IngestBatch.objects.count() == 1


@pytest.mark.django_db
def test_another_batch_under_a_used_key_is_a_409_naming_the_first_and_stores_nothing(world, api):
    client = api.as_user(world.owner)
    first = client.post(POINTS, {"points": points(3)}, format="json", HTTP_IDEMPOTENCY_KEY="batch-42")
    other = client.post(POINTS, {"points": points(4)}, format="json", HTTP_IDEMPOTENCY_KEY="batch-42")
    assert first.status_code == 201 and other.status_code == 409
    reason = other.json()["detail"]
    assert "batch-42" in reason and f"batch {first.json()['batch']}" in reason and "new key" in reason
    assert MetricPoint.objects.count() == 3 and IngestBatch.objects.count() == 1
    # The same batch, re-encoded by a retrying client (other key order, other spacing), is still the same batch.
    same = json.dumps({"points": [dict(reversed(row.items())) for row in points(3)]}, indent=2)
    again = client.post(POINTS, same, content_type="application/json", HTTP_IDEMPOTENCY_KEY="batch-42")
    assert again.status_code == 200 and again.json()["batch"] == first.json()["batch"]


@pytest.mark.django_db
def test_an_idempotency_key_belongs_to_its_caller(world, api):
    mine = api.as_user(world.owner).post(POINTS, {"points": points(3)}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    theirs = api.as_user(world.developer).post(POINTS, {"points": points(2)}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert mine.status_code == 201 and theirs.status_code == 201
    assert theirs.json()["batch"] != mine.json()["batch"] and theirs.json()["stored"] == 2
    assert MetricPoint.objects.count() == 5


@pytest.mark.django_db
def test_a_batch_stored_before_keys_were_tied_to_a_hash_still_replays(world, api):
    client = api.as_user(world.owner)
    first = client.post(POINTS, {"points": points(3)}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IngestBatch.objects.update(body_sha256="")  # as migration 0007 left the batches it found
    again = client.post(POINTS, {"points": points(3)}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 200 and again.json()["batch"] == first.json()["batch"]


@pytest.mark.django_db
def test_bad_rows_are_named_by_row_and_field_and_nothing_of_the_batch_is_stored(world, api):
    rows = points(6)
    rows[1]["metric"] = "acuracy"
    rows[2]["timestamp"] = (NOW + dt.timedelta(hours=2)).isoformat()
    rows[3]["value"] = "high"
    rows[4]["timestamp"] = "yesterday"
    rows[5]["timestamp"] = rows[0]["timestamp"]
    response = api.as_user(world.developer).post(POINTS, {"points": rows}, format="json")
    assert response.status_code == 400
    problems = {(e["row"], e["field"]) for e in response.json()["points"]}
    assert problems == {(1, "metric"), (2, "timestamp"), (3, "value"), (4, "timestamp"), (5, "timestamp")}
    assert not MetricPoint.objects.exists() and not IngestBatch.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body,field",
    [
        ({"points": []}, "points"),
        ({"points": "many"}, "points"),
        ({"points": [{"metric": "accuracy", "timestamp": "2026-01-01T00:00:00", "value": 1}]}, "points"),
        (
            {"version": "9.9", "points": [{"metric": "accuracy", "timestamp": "2026-01-01T00:00:00Z", "value": 1}]},
            "version",
        ),
    ],
)
def test_malformed_batches_answer_400_naming_the_field(body, field, world, api):
    response = api.as_user(world.developer).post(POINTS, body, format="json")
    assert response.status_code == 400
    if field:
        assert field in response.json()
    assert not MetricPoint.objects.exists()


@pytest.mark.django_db
def test_a_value_too_large_for_a_float_is_refused_naming_its_row(world, api):
    body = '{"points": [{"metric": "accuracy", "timestamp": "2026-01-01T00:00:00Z", "value": 1e999}]}'
    response = api.as_user(world.developer).post(POINTS, body, content_type="application/json")
    assert response.status_code == 400 and response.json()["points"][0]["field"] == "value"
    assert not MetricPoint.objects.exists()


@pytest.mark.django_db
def test_a_batch_over_the_size_limit_is_refused_whole(world, api, settings):
    settings.VIGIL_MONITORING_MAX_BATCH = 4
    response = api.as_user(world.developer).post(POINTS, {"points": points(5)}, format="json")
    assert response.status_code == 400 and "at most 4" in str(response.json()["points"])
    assert not MetricPoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona,push,read", [("validator", 403, 200), ("compliance", 403, 200), ("developer2", 404, 404)]
)
def test_only_the_team_pushes_and_everyone_who_sees_the_model_reads(persona, push, read, world, api):
    client = api.as_user(getattr(world, persona))
    assert client.post(POINTS, {"points": points(2)}, format="json").status_code == push
    assert client.get(SERIES, {"metric": "accuracy"}).status_code == read
    assert not MetricPoint.objects.exists()


@pytest.mark.django_db
def test_trades_are_stored_once_and_a_repeated_id_refuses_the_batch(world, api):
    client = api.as_user(world.developer)
    assert client.post(TRADES, {"trades": [trade(1), trade(2)]}, format="json").status_code == 201
    again = client.post(TRADES, {"trades": [trade(3), trade(2)]}, format="json")
    assert again.status_code == 400 and again.json()["trades"][0] | {"error": ""} == {
        "row": 1,
        "field": "id",
        "error": "",
    }
    twice = client.post(TRADES, {"trades": [trade(4), trade(4)]}, format="json")
    assert twice.status_code == 400 and twice.json()["trades"][0]["row"] == 1
    bad = client.post(TRADES, {"trades": [trade(5, side="short", quantity=-1, price=0)]}, format="json")
    assert {e["field"] for e in bad.json()["trades"]} == {"side", "quantity", "price"}
    assert sorted(Trade.objects.values_list("trade_id", flat=True)) == ["t-1", "t-2"]


@pytest.mark.django_db
def test_the_series_is_averaged_into_buckets_when_asked(world, api):
    base = NOW.replace(minute=0, second=0) - dt.timedelta(hours=3)
    rows = [
        {"metric": "pnl", "timestamp": (base + dt.timedelta(minutes=15 * i)).isoformat(), "value": float(i)}
        for i in range(8)
    ]
    api.as_user(world.developer).post(POINTS, {"points": rows}, format="json")
    series = api.as_user(world.compliance).get(SERIES, {"metric": "pnl", "step": 3600}).json()
    assert series["step"] == 3600
    assert [v for _, v in series["points"]] == [1.5, 5.5]  # (0+1+2+3)/4, (4+5+6+7)/4
    since = (base + dt.timedelta(hours=1)).isoformat()
    later = api.as_user(world.compliance).get(SERIES, {"metric": "pnl", "since": since}).json()
    assert [v for _, v in later["points"]] == [4.0, 5.0, 6.0, 7.0]
    assert api.as_user(world.compliance).get(SERIES, {"metric": "pnl", "since": "soon"}).status_code == 400


PREDICTIONS = "/api/v1/models/mine/monitoring/predictions/"
OUTCOMES = "/api/v1/models/mine/monitoring/outcomes/"


def prediction(i, **overrides):
    row = {"id": f"p-{i}", "timestamp": stamp(i), "features": {"f1": 0.1 * i, "f2": 1.0}, "prediction": i % 2}
    return row | {"score": 0.5 + i / 100} | overrides


@pytest.mark.django_db
def test_outcomes_join_their_predictions_later(world, api):
    from risk.monitoring.models import Prediction

    client = api.as_user(world.developer)
    assert (
        client.post(PREDICTIONS, {"predictions": [prediction(i) for i in range(4)]}, format="json").status_code == 201
    )
    response = client.post(
        OUTCOMES, {"outcomes": [{"id": "p-1", "outcome": 1}, {"id": "p-3", "outcome": 0}]}, format="json"
    )
    assert response.status_code == 201 and response.json()["stored"] == 2
    labelled = dict(Prediction.objects.filter(outcome__isnull=False).values_list("prediction_id", "outcome"))
    assert labelled == {"p-1": 1.0, "p-3": 0.0}
    assert Prediction.objects.filter(outcome__isnull=True).count() == 2  # labels arrive late: still unlabelled


@pytest.mark.django_db
def test_predictions_with_other_features_or_repeated_ids_refuse_the_batch(world, api):
    from risk.monitoring.models import Prediction

    client = api.as_user(world.developer)
    client.post(PREDICTIONS, {"predictions": [prediction(1)]}, format="json")
    changed = prediction(2, features={"f1": 0.3, "f3": 2.0})
    response = client.post(PREDICTIONS, {"predictions": [prediction(3), changed, prediction(1)]}, format="json")
    assert response.status_code == 400
    assert {(e["row"], e["field"]) for e in response.json()["predictions"]} == {(1, "features"), (2, "id")}
    nan_like = client.post(PREDICTIONS, {"predictions": [prediction(4, features={"f1": "x", "f2": 1})]}, format="json")
    assert nan_like.status_code == 400 and nan_like.json()["predictions"][0]["field"] == "features.f1"
    assert list(Prediction.objects.values_list("prediction_id", flat=True)) == ["p-1"]


@pytest.mark.django_db
def test_outcomes_for_unknown_or_labelled_predictions_refuse_the_batch(world, api):
    from risk.monitoring.models import Prediction

    client = api.as_user(world.developer)
    client.post(PREDICTIONS, {"predictions": [prediction(1), prediction(2)]}, format="json")
    client.post(OUTCOMES, {"outcomes": [{"id": "p-1", "outcome": 1}]}, format="json")
    body = {"outcomes": [{"id": "p-2", "outcome": 1}, {"id": "p-9", "outcome": 0}, {"id": "p-1", "outcome": 0}]}
    response = client.post(OUTCOMES, body, format="json")
    assert response.status_code == 400
    assert {(e["row"], e["field"]) for e in response.json()["outcomes"]} == {(1, "id"), (2, "id")}
    assert Prediction.objects.get(prediction_id="p-2").outcome is None  # all or nothing
    assert Prediction.objects.get(prediction_id="p-1").outcome == 1.0


@pytest.mark.django_db
def test_a_body_over_the_size_limit_answers_413_in_json_and_stores_nothing(world, api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    response = api.as_user(world.developer).post(POINTS, {"points": points(100)}, format="json")
    assert response.status_code == 413
    assert "smaller batches" in response.json()["detail"]
    assert not MetricPoint.objects.exists()


@pytest.mark.django_db
def test_a_long_history_is_averaged_by_the_database_into_at_most_the_limit(world, api, monkeypatch):
    from risk.monitoring import services

    monkeypatch.setattr(services, "MAX_SERIES_POINTS", 5)
    base = NOW.replace(minute=0, second=0) - dt.timedelta(hours=4)
    rows = [
        {"metric": "pnl", "timestamp": (base + dt.timedelta(minutes=10 * i)).isoformat(), "value": float(i)}
        for i in range(20)
    ]
    api.as_user(world.developer).post(POINTS, {"points": rows}, format="json")
    series = api.as_user(world.compliance).get(SERIES, {"metric": "pnl"}).json()
    assert series["step"] and len(series["points"]) <= 5
    too_fine = api.as_user(world.compliance).get(SERIES, {"metric": "pnl", "step": 60}).json()
    assert too_fine["step"] > 60 and len(too_fine["points"]) <= 5  # widened, and the answer says so
    assert sum(v for _, v in series["points"]) > 0 and series["points"][0][0].endswith("Z")
    # A bucket starts exactly at `since` and includes it; the answer is stamped with each bucket's start.
    since = (base + dt.timedelta(hours=1)).isoformat()
    hourly = api.as_user(world.compliance).get(SERIES, {"metric": "pnl", "step": 3600, "since": since}).json()
    assert [v for _, v in hourly["points"]] == [8.5, 14.5, 18.5]  # 6..11, 12..17, 18..19
    assert hourly["points"][0][0] == (base + dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
