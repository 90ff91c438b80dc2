"""Bulk writes of monitoring rows: COPY on PostgreSQL, bulk_create elsewhere; the same rows come back either way,
and a batch refused later in the same transaction leaves nothing behind."""

import datetime as dt
import math
import sqlite3

import pytest
from django.db import IntegrityError, connection, transaction

from risk.monitoring import bulk
from risk.monitoring.models import IngestBatch, MetricPoint, Prediction

POSTGRES = connection.vendor == "postgresql"
PREDICTION_FIELDS = ["version", "batch_id", "prediction_id", "timestamp", "features", "prediction", "score"]
PARIS = dt.timezone(dt.timedelta(hours=2))
FLOATS = [0.1, -0.0, 1e-300, -1.7976931348623157e308, 2.5e-10, 123456789.123456789, 1 / 3, 5e-324]


def a_batch(world, kind=IngestBatch.Kind.PREDICTIONS, rows=1) -> IngestBatch:
    return IngestBatch.objects.create(
        model=world.mine, version=world.mine_v1, kind=kind, rows=rows, received_by=world.developer
    )


def prediction_rows(world, batch, n=8) -> list[tuple]:
    base = dt.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=dt.UTC)  # the night clocks change in Paris
    rows = []
    for i in range(n):
        moment = base + dt.timedelta(minutes=37 * i, microseconds=i)
        features = {"spread": FLOATS[i % len(FLOATS)], "volume ü": float(i), 'quote"d\\name': -1.5}
        rows.append(
            (
                world.mine_v1,
                batch.pk,
                f"p-{i}\ttab\nline",
                moment.astimezone(PARIS) if i % 2 else moment,  # the same moments, some given in another zone
                features,
                FLOATS[(i + 3) % len(FLOATS)],
                None if i % 3 == 0 else i / 7,
            )
        )
    return rows


def read_back(batch) -> list[tuple]:
    fields = ["prediction_id", "timestamp", "features", "prediction", "score", "outcome", "outcome_at", "version_id"]
    return list(Prediction.objects.filter(batch=batch).order_by("id").values_list(*fields))


def as_stored(world, rows) -> list[tuple]:
    return [(p, t.astimezone(dt.UTC), f, v, s, None, None, world.mine_v1.pk) for _, _, p, t, f, v, s in rows]


def same(got, expected, in_json=False) -> bool:
    """Equal, and of the same type: floats to the bit (a -0.0 stays -0.0 on PostgreSQL; SQLite keeps no sign of
    zero) except inside JSON, whose numbers are decimal in PostgreSQL's jsonb however they are written (-0.0
    comes back 0.0, and -1.8e308 as an integer)."""
    if isinstance(expected, float) and in_json:
        return isinstance(got, int | float) and float(got) == expected
    if isinstance(expected, float):
        signed = not POSTGRES or math.copysign(1, got) == math.copysign(1, expected)
        return isinstance(got, float) and got == expected and signed
    if isinstance(expected, dict):
        return got.keys() == expected.keys() and all(same(got[k], v, True) for k, v in expected.items())
    if isinstance(expected, list | tuple):
        return len(got) == len(expected) and all(same(g, e, in_json) for g, e in zip(got, expected, strict=True))
    return got == expected and type(got) is type(expected)


@pytest.mark.django_db
def test_it_reads_back_copy_written_rows_identically(world, django_assert_max_num_queries):
    batch, by_orm = a_batch(world), a_batch(world)
    rows = prediction_rows(world, batch)
    with django_assert_max_num_queries(2 if POSTGRES else 1000) as captured:
        assert bulk.insert_rows(Prediction, PREDICTION_FIELDS, iter(rows)) == len(rows)
    if POSTGRES:
        assert any(q["sql"].startswith('COPY "monitoring_prediction"') for q in captured.captured_queries)
    got = read_back(batch)
    assert same(got, as_stored(world, rows)), got
    assert all(t.tzinfo is not None and t.utcoffset() == dt.timedelta(0) for _, t, *_ in got)
    Prediction.objects.bulk_create(  # the same rows as Django writes them: read back alike, JSON included
        Prediction(version=v, batch=by_orm, prediction_id=f"orm-{p}", timestamp=t, features=f, prediction=x, score=s)
        for v, _, p, t, f, x, s in rows
    )
    assert same([(p[4:], *rest) for p, *rest in read_back(by_orm)], got)


@pytest.mark.django_db
def test_it_reads_back_the_same_rows_through_the_text_format(world, monkeypatch):
    """A column of a type outside BINARY_TYPES switches COPY to its text format: the rows read back alike."""
    monkeypatch.delitem(bulk.BINARY_TYPES, "FloatField")
    batch = a_batch(world)
    rows = prediction_rows(world, batch)
    bulk.insert_rows(Prediction, PREDICTION_FIELDS, rows)
    assert same(read_back(batch), as_stored(world, rows))


@pytest.mark.django_db
def test_it_writes_points_as_bulk_create_would(world):
    copied, created = a_batch(world, IngestBatch.Kind.POINTS), a_batch(world, IngestBatch.Kind.POINTS)
    moments = [dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=i, microseconds=7) for i in range(50)]
    points = [("pnl", t, FLOATS[i % len(FLOATS)]) for i, t in enumerate(moments)]
    fields = ["version_id", "batch", "metric", "timestamp", "value"]
    bulk.insert_rows(MetricPoint, fields, [(world.mine_v1.pk, copied, m, t, v) for m, t, v in points])
    MetricPoint.objects.bulk_create(
        MetricPoint(version=world.mine_v1, batch=created, metric=m, timestamp=t, value=v) for m, t, v in points
    )

    def stored(batch):
        return list(MetricPoint.objects.filter(batch=batch).order_by("id").values_list("metric", "timestamp", "value"))

    assert same(stored(copied), stored(created)) and same(stored(copied), points)


@pytest.mark.django_db(transaction=True)
def test_it_leaves_no_rows_when_the_batch_is_refused_after_the_copy(world):
    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        batch = a_batch(world)
        bulk.insert_rows(Prediction, PREDICTION_FIELDS, prediction_rows(world, batch, 500))
        assert Prediction.objects.filter(batch=batch).count() == 500  # written, inside the transaction
        raise Refused  # e.g. a check that runs after the rows were written
    assert not Prediction.objects.exists() and not IngestBatch.objects.exists()
    with transaction.atomic():  # the connection is still good for the next batch
        batch = a_batch(world)
        bulk.insert_rows(Prediction, PREDICTION_FIELDS, prediction_rows(world, batch, 3))
    assert Prediction.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_it_leaves_no_rows_when_a_row_breaks_a_constraint_and_says_so_as_django_does(world):
    batch = a_batch(world)
    rows = prediction_rows(world, batch, 5)
    rows[4] = rows[1]  # the same prediction id twice for this version
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert_rows(Prediction, PREDICTION_FIELDS, rows)
    assert not Prediction.objects.exists()


@pytest.mark.django_db
def test_it_refuses_naive_times_and_fields_that_would_lose_their_default(world):
    batch = a_batch(world, IngestBatch.Kind.POINTS)
    naive = [(world.mine_v1.pk, batch.pk, "pnl", dt.datetime(2026, 1, 1), 1.0)]
    with pytest.raises(ValueError, match="naive"), transaction.atomic():
        bulk.insert_rows(MetricPoint, ["version_id", "batch_id", "metric", "timestamp", "value"], naive)
    with pytest.raises(ValueError, match="received_at"):  # auto_now_add: COPY would not fill it in
        columns = ["model", "version", "kind", "idempotency_key", "body_sha256", "rows", "received_by"]
        bulk.insert_rows(IngestBatch, columns, [])
    assert not MetricPoint.objects.exists()


@pytest.mark.django_db
def test_it_stores_a_batch_through_the_service_with_its_features_and_nulls(world):
    from risk.monitoring import services

    now = dt.datetime.now(dt.UTC).replace(microsecond=123456)
    body = {
        "predictions": [
            {"id": "a", "timestamp": now.isoformat(), "features": {"x": 0.1, "y": 2}, "prediction": 1, "score": None},
            {"id": "b", "timestamp": now.isoformat(), "features": {"x": -0.0, "y": 1e-300}, "prediction": 0.25},
        ]
    }
    stored = services.predictions_ingest(world.developer, world.mine, body)
    got = list(Prediction.objects.order_by("prediction_id").values_list("batch", "timestamp", "features", "score"))
    assert same(
        got,
        [(stored.batch.pk, now, {"x": 0.1, "y": 2.0}, None), (stored.batch.pk, now, {"x": -0.0, "y": 1e-300}, None)],
    )


@pytest.mark.django_db
def test_it_updates_only_the_rows_given_by_primary_key(world, django_assert_max_num_queries):
    batch = a_batch(world)
    bulk.insert_rows(Prediction, PREDICTION_FIELDS, prediction_rows(world, batch, 6))
    ids = list(Prediction.objects.filter(batch=batch).order_by("id").values_list("pk", flat=True))
    moment = dt.datetime(2026, 4, 1, 12, 30, 0, 654321, tzinfo=PARIS)
    changes = [(ids[0], -0.0, moment), (ids[2], 1e-300, None), (ids[5], 123456789.123456789, moment)]
    # One UPDATE ... FROM: unnest(...) on PostgreSQL, a VALUES list on SQLite 3.33 and later.
    with django_assert_max_num_queries(1 if POSTGRES or sqlite3.sqlite_version_info >= (3, 33) else 10):
        assert bulk.update_rows(Prediction, ["outcome", "outcome_at"], changes) == 3
    got = dict(Prediction.objects.filter(batch=batch).values_list("pk", "outcome"))
    assert same([got[pk] for pk in ids], [-0.0, None, 1e-300, None, None, 123456789.123456789])
    stamped = dict(Prediction.objects.filter(outcome_at__isnull=False).values_list("pk", "outcome_at"))
    assert stamped == {ids[0]: moment, ids[5]: moment} and stamped[ids[0]].utcoffset() == dt.timedelta(0)
    assert bulk.update_rows(Prediction, ["outcome"], []) == 0
    assert bulk.update_rows(Prediction, ["score"], [(ids[1], None), (ids[4], None)]) == 2  # a column of nulls only
    assert Prediction.objects.filter(pk__in=[ids[1], ids[4]], score__isnull=True).count() == 2


@pytest.mark.django_db
@pytest.mark.skipif(not POSTGRES, reason="the BRIN index and the COPY path are PostgreSQL's")
@pytest.mark.parametrize("table", ["monitoring_metricpoint", "monitoring_trade", "monitoring_prediction"])
def test_telemetry_tables_have_a_time_brin_and_no_row_by_row_key_checks(table):
    """The storage chosen by measurement (docs/architecture.md): keys checked by the ingest service, not by
    constraints checked row by row at commit; a BRIN on the timestamp; no index the composite ones repeat."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    assert not [name for name, c in constraints.items() if c["foreign_key"]]
    brin = [c for c in constraints.values() if c["index"] and c["type"] == "brin"]
    assert [c["columns"] for c in brin] == [["timestamp"]]
    single_version = [c for c in constraints.values() if c["index"] and c["columns"] == ["version_id"]]
    assert single_version == []
