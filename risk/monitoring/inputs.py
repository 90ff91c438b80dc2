"""Checking a batch of monitoring data row by row, all of it before anything is stored.

Written by hand rather than with a DRF serializer per row: a batch holds up to VIGIL_MONITORING_MAX_BATCH
rows and a serializer per row costs a thousand times more. Each problem names its row (0-based, as in the
body's list) and field; the first MAX_ERRORS are returned, and nothing of a refused batch is stored.
"""

import datetime as dt
import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

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
    return value.strip()


def clean_points(rows: list) -> list[tuple[str, dt.datetime, float]]:
    errors, now, out, seen = RowErrors("points"), timezone.now(), [], set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.add(i, "non_field_errors", "Give an object with metric, timestamp and value.")
            continue
        metric = row.get("metric")
        if not isinstance(metric, str) or metric not in METRICS:
            errors.add(i, "metric", f"Unknown metric {str(metric)[:60]!r}; use one of: {', '.join(sorted(METRICS))}.")
        moment = _timestamp(row.get("timestamp"), i, errors, now)
        value = _number(row.get("value"), i, "value", errors)
        if metric in METRICS and moment is not None and value is not None:
            if (metric, moment) in seen:
                errors.add(i, "timestamp", f"A second {metric} point at the same time in this batch.")
            seen.add((metric, moment))
            out.append((metric, moment, value))
    errors.raise_if_any()
    return out


TRADE_FIELDS = ("id", "timestamp", "instrument", "side", "quantity", "price", "pnl")


def clean_trades(rows: list) -> list[dict]:
    errors, now, out, seen = RowErrors("trades"), timezone.now(), [], set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.add(i, "non_field_errors", f"Give an object with {', '.join(TRADE_FIELDS)}.")
            continue
        trade = {
            "trade_id": _text(row.get("id"), i, "id", errors, 100),
            "timestamp": _timestamp(row.get("timestamp"), i, errors, now),
            "instrument": _text(row.get("instrument"), i, "instrument", errors, 50),
            "side": row.get("side") if row.get("side") in ("buy", "sell") else None,
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


MAX_FEATURES = 500


def clean_predictions(rows: list) -> list[dict]:
    errors, now, out, seen = RowErrors("predictions"), timezone.now(), [], set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.add(i, "non_field_errors", "Give an object with id, timestamp, features, prediction and score.")
            continue
        item = {
            "prediction_id": _text(row.get("id"), i, "id", errors, 100),
            "timestamp": _timestamp(row.get("timestamp"), i, errors, now),
            "features": _features(row.get("features"), i, errors),
            "prediction": _number(row.get("prediction"), i, "prediction", errors),
            "score": _number(row.get("score"), i, "score", errors, optional=True),
        }
        if item["prediction_id"] is not None:
            if item["prediction_id"] in seen:
                errors.add(i, "id", f"Prediction {item['prediction_id']!r} appears twice in this batch.")
            seen.add(item["prediction_id"])
        required = ("prediction_id", "timestamp", "features", "prediction")
        if all(item[k] is not None for k in required) and (row.get("score") is None or item["score"] is not None):
            out.append(item)
    errors.raise_if_any()
    return out


def _features(value, row, errors) -> dict | None:
    if not isinstance(value, dict) or not value or len(value) > MAX_FEATURES:
        errors.add(row, "features", f"Give the features as an object of 1 to {MAX_FEATURES} named numbers.")
        return None
    out = {}
    for name, number in value.items():
        if not 0 < len(name) <= 100:
            errors.add(row, "features", "Feature names have 1 to 100 characters.")
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
        prediction_id = _text(row.get("id"), i, "id", errors, 100)
        outcome = _number(row.get("outcome"), i, "outcome", errors)
        if prediction_id is not None:
            if prediction_id in seen:
                errors.add(i, "id", f"Prediction {prediction_id!r} has two outcomes in this batch.")
            seen.add(prediction_id)
        if prediction_id is not None and outcome is not None:
            out.append((prediction_id, outcome))
    errors.raise_if_any()
    return out
