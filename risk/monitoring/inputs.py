"""Checking a batch of monitoring data row by row, all of it before anything is stored.

Written by hand rather than with a DRF serializer per row: a batch holds up to VIGIL_MONITORING_MAX_BATCH
rows and a serializer per row costs a thousand times more. Each problem names its row (0-based, as in the
body's list) and field; the first MAX_ERRORS are returned, and nothing of a refused batch is stored.

Points and predictions are read by two paths that agree: a row whose every field is plainly right (the usual
case: a known metric, an aware ISO time from 1970 that is not in the future, finite numbers) is taken in one
pass without a call per field (`_plain_*`); any other row is checked field by field as before, and that path
names each problem. Times outside Vigil's range (`governance.core.moments`) are refused naming it. The plain
path only ever accepts what the field-by-field one would accept, with the same values.

The fields, their kinds and limits are `batch_contract.ROWS`, from which the API's schema is generated: a field
changed here is changed there (tests/risk/test_monitoring_contract.py checks the two agree).
"""

import datetime as dt
import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.core import moments, single_line
from risk.monitoring.batch_contract import FEATURE_NAME_MAX, ID_MAX, INSTRUMENT_MAX, MAX_FEATURES, ROWS, SIDES
from risk.monitoring.catalogue import METRICS

MAX_ERRORS = 50


class BatchRefused(Exception):  # noqa: N818  (a refusal, answered 400 with each row's problems)
    """A batch with problems in its rows: {kind: [{"row", "field", "error"}, ...]}; nothing of it is stored."""

    def __init__(self, detail: dict):
        super().__init__(detail)
        self.detail = detail


class RowErrors:
    def __init__(self, kind: str):
        self.kind, self.errors = kind, []

    def add(self, row: int, field: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "field": field, "error": message})

    def raise_if_any(self) -> None:
        if self.errors:
            raise BatchRefused({self.kind: self.errors})


def rows_of(body, kind: str) -> list:
    """The batch's list of rows, refused whole when it is not one or is too long."""
    if not isinstance(body, dict):
        raise ValidationError({"non_field_errors": ["Send a JSON object."]})
    rows = body.get(kind)
    limit = settings.VIGIL_MONITORING_MAX_BATCH
    if not isinstance(rows, list) or not rows:
        raise ValidationError({kind: [f"Send a non-empty list of {kind}."]})
    if len(rows) > limit:
        raise ValidationError({kind: [f"A batch holds at most {limit:,} {kind}; this one has {len(rows):,}."]})
    return rows


def _timestamp(value, row, errors, now) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        errors.add(row, "timestamp", "Give an ISO 8601 time with its zone, e.g. 2026-11-23T14:00:00Z.")
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        errors.add(row, "timestamp", f"{value!r} is not an ISO 8601 time.")
        return None
    if moment.tzinfo is None:
        errors.add(row, "timestamp", "Give the time zone (Z for UTC).")
        return None
    if (problem := moments.problem(moment)) is not None:
        errors.add(row, "timestamp", problem)
        return None
    if moment > now + dt.timedelta(seconds=settings.VIGIL_MONITORING_CLOCK_SKEW_SECONDS):
        errors.add(row, "timestamp", "The time is in the future.")
        return None
    return moment.astimezone(dt.UTC)


def _number(value, row, field, errors, *, positive=False, optional=False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.add(row, field, "Give a number.")
        return None
    number = float(value) if abs(value) < 1e300 else math.inf
    if not math.isfinite(number):
        errors.add(row, field, "Give a finite number.")
        return None
    if positive and number <= 0:
        errors.add(row, field, "Give a positive number.")
        return None
    return number


def _text(value, row, field, errors, max_length) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        errors.add(row, field, f"Give a text of 1 to {max_length} characters.")
        return None
    if (problem := single_line.problem(value.strip())) is not None:
        errors.add(row, field, problem)
        return None
    return value.strip()


def _latest(now) -> dt.datetime:
    return now + dt.timedelta(seconds=settings.VIGIL_MONITORING_CLOCK_SKEW_SECONDS)


def _plain_time(value, latest) -> dt.datetime | None:
    """An aware ISO time no later than `latest`, in UTC; None for anything _timestamp would look at closer."""
    if type(value) is not str or len(value) > 40:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None or moment > latest or moment < moments.EARLIEST:
        return None
    return moment if moment.tzinfo is dt.UTC else moment.astimezone(dt.UTC)


def _plain_number(value) -> float | None:
    """A number _number would take as it is (not a bool, below 1e300 in size), as a float; else None."""
    if (type(value) is float or type(value) is int) and -1e300 < value < 1e300:
        return float(value)
    return None


def _plain_point(row, latest) -> tuple[str, dt.datetime, float] | None:
    if type(row) is not dict:
        return None
    metric = row.get("metric")
    if type(metric) is not str or metric not in METRICS:
        return None
    moment, value = _plain_time(row.get("timestamp"), latest), _plain_number(row.get("value"))
    if moment is None or value is None:
        return None
    return metric, moment, value


def _checked_point(row, i, errors, now) -> tuple[str, dt.datetime, float] | None:
    if not isinstance(row, dict):
        errors.add(i, "non_field_errors", "Give an object with metric, timestamp and value.")
        return None
    metric = row.get("metric")
    if not isinstance(metric, str) or metric not in METRICS:
        errors.add(i, "metric", f"Unknown metric {str(metric)[:60]!r}; use one of: {', '.join(sorted(METRICS))}.")
    moment = _timestamp(row.get("timestamp"), i, errors, now)
    value = _number(row.get("value"), i, "value", errors)
    if metric in METRICS and moment is not None and value is not None:
        return metric, moment, value
    return None


def clean_points(rows: list) -> list[tuple[str, dt.datetime, float]]:
    errors, now, out, seen = RowErrors("points"), timezone.now(), [], set()
    latest = _latest(now)
    for i, row in enumerate(rows):
        point = _plain_point(row, latest) or _checked_point(row, i, errors, now)
        if point is not None:
            key = point[:2]
            if key in seen:
                errors.add(i, "timestamp", f"A second {key[0]} point at the same time in this batch.")
            seen.add(key)
            out.append(point)
    errors.raise_if_any()
    return out


TRADE_FIELDS = tuple(name for name, field in ROWS["trades"].items() if field.required)


def clean_trades(rows: list) -> list[dict]:
    errors, now, out, seen = RowErrors("trades"), timezone.now(), [], set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.add(i, "non_field_errors", f"Give an object with {', '.join(TRADE_FIELDS)}.")
            continue
        trade = {
            "trade_id": _text(row.get("id"), i, "id", errors, ID_MAX),
            "timestamp": _timestamp(row.get("timestamp"), i, errors, now),
            "instrument": _text(row.get("instrument"), i, "instrument", errors, INSTRUMENT_MAX),
            "side": row.get("side") if row.get("side") in SIDES else None,
            "quantity": _number(row.get("quantity"), i, "quantity", errors, positive=True),
            "price": _number(row.get("price"), i, "price", errors, positive=True),
            "pnl": _number(row.get("pnl"), i, "pnl", errors),
            "expected_slippage": _number(row.get("expected_slippage"), i, "expected_slippage", errors, optional=True),
            "realised_slippage": _number(row.get("realised_slippage"), i, "realised_slippage", errors, optional=True),
        }
        if trade["side"] is None:
            errors.add(i, "side", "Give buy or sell.")
        if trade["trade_id"] is not None:
            if trade["trade_id"] in seen:
                errors.add(i, "id", f"Trade {trade['trade_id']!r} appears twice in this batch.")
            seen.add(trade["trade_id"])
        if all(trade[k] is not None for k in ("trade_id", "timestamp", "instrument", "side", "quantity", "price")):
            if trade["pnl"] is not None:
                out.append(trade)
    errors.raise_if_any()
    return out


def _plain_prediction(row, latest) -> dict | None:
    if type(row) is not dict:
        return None
    prediction_id, score = row.get("id"), row.get("score")
    if type(prediction_id) is not str or len(prediction_id) > ID_MAX or not (prediction_id := prediction_id.strip()):
        return None
    if single_line.problem(prediction_id) is not None:
        return None
    item = {
        "prediction_id": prediction_id,
        "timestamp": _plain_time(row.get("timestamp"), latest),
        "features": _plain_features(row.get("features")),
        "prediction": _plain_number(row.get("prediction")),
        "score": None if score is None else _plain_number(score),
    }
    if item["timestamp"] is None or item["features"] is None or item["prediction"] is None:
        return None
    if score is not None and item["score"] is None:
        return None
    return item


def _checked_prediction(row, i, errors, now) -> dict | None:
    if not isinstance(row, dict):
        errors.add(i, "non_field_errors", "Give an object with id, timestamp, features, prediction and score.")
        return None
    return {
        "prediction_id": _text(row.get("id"), i, "id", errors, ID_MAX),
        "timestamp": _timestamp(row.get("timestamp"), i, errors, now),
        "features": _features(row.get("features"), i, errors),
        "prediction": _number(row.get("prediction"), i, "prediction", errors),
        "score": _number(row.get("score"), i, "score", errors, optional=True),
    }


def clean_predictions(rows: list) -> list[dict]:
    errors, now, out, seen = RowErrors("predictions"), timezone.now(), [], set()
    latest = _latest(now)
    required = ("prediction_id", "timestamp", "features", "prediction")
    for i, row in enumerate(rows):
        item = _plain_prediction(row, latest)
        if item is not None:
            if item["prediction_id"] in seen:
                errors.add(i, "id", f"Prediction {item['prediction_id']!r} appears twice in this batch.")
            seen.add(item["prediction_id"])
            out.append(item)
            continue
        item = _checked_prediction(row, i, errors, now)
        if item is None:
            continue
        if item["prediction_id"] is not None:
            if item["prediction_id"] in seen:
                errors.add(i, "id", f"Prediction {item['prediction_id']!r} appears twice in this batch.")
            seen.add(item["prediction_id"])
        if all(item[k] is not None for k in required) and (row.get("score") is None or item["score"] is not None):
            out.append(item)
    errors.raise_if_any()
    return out


def _plain_features(value) -> dict | None:
    if type(value) is not dict or not value or len(value) > MAX_FEATURES:
        return None
    for name, number in value.items():
        if not 0 < len(name) <= FEATURE_NAME_MAX:
            return None
        if not ((type(number) is float or type(number) is int) and -1e300 < number < 1e300):
            return None
    return {name: float(number) for name, number in value.items()}


def _features(value, row, errors) -> dict | None:
    if not isinstance(value, dict) or not value or len(value) > MAX_FEATURES:
        errors.add(row, "features", f"Give the features as an object of 1 to {MAX_FEATURES} named numbers.")
        return None
    out = {}
    for name, number in value.items():
        if not 0 < len(name) <= FEATURE_NAME_MAX:
            errors.add(row, "features", f"Feature names have 1 to {FEATURE_NAME_MAX} characters.")
            return None
        clean = _number(number, row, f"features.{name}", errors)
        if clean is None:
            return None
        out[name] = clean
    return out


def clean_outcomes(rows: list) -> list[tuple[str, float]]:
    errors, out, seen = RowErrors("outcomes"), [], set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.add(i, "non_field_errors", "Give an object with id and outcome.")
            continue
        prediction_id = _text(row.get("id"), i, "id", errors, ID_MAX)
        outcome = _number(row.get("outcome"), i, "outcome", errors)
        if prediction_id is not None:
            if prediction_id in seen:
                errors.add(i, "id", f"Prediction {prediction_id!r} has two outcomes in this batch.")
            seen.add(prediction_id)
        if prediction_id is not None and outcome is not None:
            out.append((prediction_id, outcome))
    errors.raise_if_any()
    return out
