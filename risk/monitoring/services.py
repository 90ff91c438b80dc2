"""Storing batches of monitoring data: checked whole, stored once, all or nothing.

A batch names the version it reports on ("version" at the top of the body) or reports on the model's version
in production (else in pilot). An Idempotency-Key makes a batch sent twice stored once: the key belongs to its
caller (another caller's same key is another batch), and it is tied to the SHA-256 of the batch it first came
with. The same batch again under it answers with the first batch (nothing stored twice); another batch under it
is a 409 naming the first, never silently dropped. Reported data is telemetry, not a governed record: each
accepted batch is kept as an IngestBatch row (who, when, how many rows) instead of one audit event per batch.
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from operator import itemgetter

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from governance.core import moments
from governance.core.exceptions import Conflict
from models_registry.choices import LifecycleStatus as S
from models_registry.models import ModelVersion
from risk.monitoring import bulk, inputs
from risk.monitoring.access import can_push
from risk.monitoring.models import FeatureSet, IngestBatch, MetricPoint, Prediction, Trade

MONITORED = (S.PRODUCTION, S.PILOT, S.SUSPENDED)
CHUNK = 5000


@dataclass
class Stored:
    batch: IngestBatch
    duplicate: bool  # the same Idempotency-Key was already accepted: nothing new was stored


def monitored_version(model, label=None) -> ModelVersion:
    """The version a batch reports on: the one it names (in pilot, production or suspended), else the model's
    version in production, else in pilot."""
    versions = ModelVersion.objects.filter(model=model, status__in=MONITORED)
    if label is not None:
        if not isinstance(label, str) or len(label) > 50:
            raise ValidationError({"version": ["Give the version's label, e.g. '1.2'."]})
        version = versions.filter(version=label).first()
        if version is None:
            raise ValidationError({"version": [f"{model.key} has no version {label[:50]!r} in pilot or production."]})
        return version
    for status in (S.PRODUCTION, S.PILOT):
        version = versions.filter(status=status).order_by("-id").first()
        if version is not None:
            return version
    raise Conflict(f"{model.key} has no version in pilot or production to report on.")


def _check(actor, model, key: str) -> None:
    if not can_push(actor, model):
        raise PermissionDenied("Only the model's owner and developers report its monitoring data.")
    if len(key) > 200:
        raise ValidationError({"Idempotency-Key": ["Keep the Idempotency-Key under 200 characters."]})


def body_sha256(body) -> str:
    """SHA-256 of the batch as sent, in canonical JSON (keys sorted, no spaces): the same batch re-encoded by a
    retrying client hashes the same."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _earlier(actor, model, kind, key, digest) -> IngestBatch | None:
    """The batch this caller already sent under `key`, when it is this one; a 409 when it was another."""
    if not key:
        return None
    earlier = IngestBatch.objects.filter(model=model, kind=kind, received_by=actor, idempotency_key=key).first()
    if earlier is not None and earlier.body_sha256 and earlier.body_sha256 != digest:
        raise Conflict(
            f"The Idempotency-Key {key[:80]!r} was used for another batch of {kind} (batch {earlier.pk}, received "
            f"{earlier.received_at:%Y-%m-%d %H:%M:%S} UTC, {earlier.rows:,} rows): this batch was not stored. "
            "Send a new batch under a new key."
        )
    return earlier  # batches stored before keys were tied to a hash have none, and replay as they did


def _store(actor, model, body, key, kind, clean, build) -> Stored:
    _check(actor, model, key)
    digest = body_sha256(body) if key else ""
    earlier = _earlier(actor, model, kind, key, digest)
    if earlier is not None:
        return Stored(earlier, duplicate=True)
    rows = clean(inputs.rows_of(body, kind))
    version = monitored_version(model, body.get("version"))
    try:
        with transaction.atomic():
            batch = IngestBatch.objects.create(
                model=model,
                version=version,
                kind=kind,
                idempotency_key=key,
                body_sha256=digest,
                rows=len(rows),
                received_by=actor,
            )
            build(batch, version, rows)
    except IntegrityError:
        earlier = _earlier(actor, model, kind, key, digest)
        if earlier is not None:  # the same batch, sent twice at once: the other copy won
            return Stored(earlier, duplicate=True)
        raise Conflict("Another batch stored some of these rows at the same moment; send this one again.") from None
    return Stored(batch, duplicate=False)


def points_ingest(actor, model, body, idempotency_key: str = "") -> Stored:
    def build(batch, version, rows):
        fields, version_id, batch_id = ["version_id", "batch_id", "metric", "timestamp", "value"], version.pk, batch.pk
        bulk.insert_rows(MetricPoint, fields, ((version_id, batch_id, m, t, v) for m, t, v in rows))

    return _store(actor, model, body, idempotency_key, IngestBatch.Kind.POINTS, inputs.clean_points, build)


def _refuse_reported_ids(errors, model_class, id_field: str, noun: str, version, rows) -> None:
    """Name each row whose id was already stored for this version (an id is reported once)."""
    ids = [r[id_field] for r in rows]
    known = _stored_ids(model_class, id_field, version, ids)
    for i, row_id in enumerate(ids):
        if row_id in known:
            errors.add(i, "id", f"{noun} {row_id!r} was already reported for this version.")


def _stored_ids(model_class, id_field: str, version, ids: list[str]) -> set[str]:
    """Which of these ids the version already has. On PostgreSQL one array parameter (`= ANY(%s)`) instead of
    Django's IN with one placeholder per id: 10,000 placeholders cost more to send and plan than the lookup."""
    if connection.vendor != "postgresql":
        earlier = model_class.objects.filter(version=version, **{f"{id_field}__in": ids})
        return set(earlier.values_list(id_field, flat=True))
    table = model_class._meta.db_table
    with connection.cursor() as cursor:
        sql = f"SELECT {id_field} FROM {table} WHERE version_id = %s AND {id_field} = ANY(%s)"
        cursor.execute(sql, [version.pk, ids])
        return {row[0] for row in cursor.fetchall()}


def trades_ingest(actor, model, body, idempotency_key: str = "") -> Stored:
    def build(batch, version, rows):
        errors = inputs.RowErrors("trades")
        _refuse_reported_ids(errors, Trade, "trade_id", "Trade", version, rows)
        errors.raise_if_any()
        names, version_id, batch_id = list(rows[0]), version.pk, batch.pk
        values = itemgetter(*names)
        bulk.insert_rows(Trade, ["version_id", "batch_id", *names], ((version_id, batch_id, *values(r)) for r in rows))

    return _store(actor, model, body, idempotency_key, IngestBatch.Kind.TRADES, inputs.clean_trades, build)


def predictions_ingest(actor, model, body, idempotency_key: str = "") -> Stored:
    def build(batch, version, rows):
        names = sorted(rows[0]["features"])
        fixed, _ = FeatureSet.objects.get_or_create(version=version, defaults={"names": names})
        expected = set(fixed.names)
        errors = inputs.RowErrors("predictions")
        for i, row in enumerate(rows):
            if set(row["features"]) != expected:
                missing, extra = sorted(expected - set(row["features"])), sorted(set(row["features"]) - expected)
                errors.add(i, "features", f"This version's features are fixed; missing {missing}, unknown {extra}.")
        _refuse_reported_ids(errors, Prediction, "prediction_id", "Prediction", version, rows)
        errors.raise_if_any()
        names, version_id, batch_id = list(rows[0]), version.pk, batch.pk
        values = itemgetter(*names)
        fields = ["version_id", "batch_id", *names]
        bulk.insert_rows(Prediction, fields, ((version_id, batch_id, *values(r)) for r in rows))

    return _store(actor, model, body, idempotency_key, IngestBatch.Kind.PREDICTIONS, inputs.clean_predictions, build)


def outcomes_ingest(actor, model, body, idempotency_key: str = "") -> Stored:
    """Outcomes join the predictions they belong to (by id); an unknown id, or a prediction that already has
    an outcome, refuses the batch."""

    def build(batch, version, rows):
        ids = [prediction_id for prediction_id, _ in rows]
        stored = {
            p.prediction_id: p
            for p in Prediction.objects.select_for_update().filter(version=version, prediction_id__in=ids)
        }
        errors, now, changed = inputs.RowErrors("outcomes"), timezone.now(), []
        for i, (prediction_id, outcome) in enumerate(rows):
            prediction = stored.get(prediction_id)
            if prediction is None:
                errors.add(i, "id", f"No prediction {prediction_id!r} was reported for this version.")
            elif prediction.outcome is not None:
                errors.add(i, "id", f"Prediction {prediction_id!r} already has its outcome.")
            else:
                prediction.outcome, prediction.outcome_at = outcome, now
                changed.append(prediction)
        errors.raise_if_any()
        bulk.update_rows(Prediction, ["outcome", "outcome_at"], [(p.pk, p.outcome, p.outcome_at) for p in changed])

    return _store(actor, model, body, idempotency_key, IngestBatch.Kind.OUTCOMES, inputs.clean_outcomes, build)


MAX_SERIES_POINTS = 10_000


def series(version, metric: str, since=None, until=None, step: int | None = None) -> dict:
    """A metric's history in time order; averaged into buckets of `step` seconds when asked, and when the
    history is longer than MAX_SERIES_POINTS (the answer then says which step it used). Buckets are averaged
    by the database over the series index: reading 100,000 rows into Python to average them took a second."""
    count, first, last = _extent(version, metric, since, until)
    if count > MAX_SERIES_POINTS:
        # Never more than MAX_SERIES_POINTS in one answer: a step too fine for the history is widened (the
        # answer says which step it used). Epoch-aligned buckets can straddle one more bucket than the span
        # divides into: keep a spare one.
        span = (last - first).total_seconds()
        step = max(step or 1, int(span // (MAX_SERIES_POINTS - 1)) + 1)
    if step:
        rows = _bucketed(version, metric, since, until, step)
    else:
        rows = list(_points(version, metric, since, until).order_by("timestamp").values_list("timestamp", "value"))
    out_of_range = MetricPoint.objects.filter(version=version, metric=metric).exclude(**moments.in_range_q("timestamp"))
    return {
        "metric": metric,
        "version": version.version,
        "step": step,
        "points": _shaped(rows),
        "out_of_range": out_of_range.count(),
    }


def _points(version, metric, since, until):
    # Points stored before the time range was enforced (a year-1 placeholder) are left out: one of them would
    # stretch the series over two thousand years and average the real history into a few buckets.
    points = MetricPoint.objects.filter(version=version, metric=metric, **moments.in_range_q("timestamp"))
    if since is not None:
        points = points.filter(timestamp__gte=since)
    if until is not None:
        points = points.filter(timestamp__lt=until)
    return points


def _extent(version, metric, since, until) -> tuple[int, dt.datetime | None, dt.datetime | None]:
    """How many points (counted only up to one past the limit: counting all 100,000 cost more than the
    answer) and, when over it, the first and last (two index probes)."""
    points = _points(version, metric, since, until)
    count = points.order_by()[: MAX_SERIES_POINTS + 1].count()
    if count <= MAX_SERIES_POINTS:
        return count, None, None
    bounds = points.aggregate(first=Min("timestamp"), last=Max("timestamp"))
    return count, bounds["first"], bounds["last"]


def _shaped(rows) -> list[list]:
    return [[t.isoformat().replace("+00:00", "Z"), v] for t, v in rows]


def _bucketed(version, metric, since, until, step: int) -> list[tuple[dt.datetime, float]]:
    """(bucket start, mean) of each `step`-second bucket, epoch-aligned, in time order."""
    table = MetricPoint._meta.db_table
    if connection.vendor == "postgresql":
        # date_bin works in timestamps; extract(epoch ...) answers numeric since PostgreSQL 14, whose
        # arithmetic over 100,000 rows cost more than the averaging.
        bucket, params = "date_bin(make_interval(secs => %s), timestamp, 'epoch'::timestamptz)", [step]
    else:  # SQLite stores times as text Django wrote in UTC; strftime reads them back as epoch seconds
        bucket, params = "(CAST(strftime('%%s', timestamp) AS INTEGER) / %s) * %s", [step, step]
    where = ["version_id = %s", "metric = %s", "timestamp >= %s", "timestamp < %s"]
    params += [version.pk, metric, *(connection.ops.adapt_datetimefield_value(m) for m in moments.RANGE)]
    if since is not None:
        where.append("timestamp >= %s")
        params.append(connection.ops.adapt_datetimefield_value(since))
    if until is not None:
        where.append("timestamp < %s")
        params.append(connection.ops.adapt_datetimefield_value(until))
    sql = f"SELECT {bucket} AS b, avg(value) FROM {table} WHERE {' AND '.join(where)} GROUP BY b ORDER BY b"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if connection.vendor == "postgresql":
        return [(b.astimezone(dt.UTC), float(v)) for b, v in rows]
    return [(dt.datetime.fromtimestamp(b, dt.UTC), float(v)) for b, v in rows]
