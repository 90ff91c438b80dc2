"""Building the rows of each kind, checked at push time.

The server refuses a batch whole when one row is bad, so a row it would certainly refuse (a NaN, a naive
time, a side that is neither buy nor sell) is refused here, by the push_* call that made it, instead of
taking a thousand good rows down with it later. Metric names are left to the server, which owns the list.
"""

from __future__ import annotations

import datetime as dt
import math

UTC = dt.timezone.utc  # noqa: UP017  (datetime.UTC needs Python 3.11; the client also runs on 3.9 and 3.10)


def timestamp(value=None) -> str:
    """ISO 8601 in UTC with a Z: now when None; an aware datetime converted to UTC; a string passed as is."""
    if value is None:
        value = dt.datetime.now(UTC)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("Give an aware datetime (e.g. datetime.now(timezone.utc)); Vigil refuses naive times.")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        return value
    raise TypeError(f"Give the timestamp as a datetime or an ISO 8601 string, not {type(value).__name__}.")


def number(field: str, value, *, optional: bool = False, positive: bool = False) -> float | None:
    """A finite float; numpy scalars and Decimals are converted (json cannot write numpy.int64)."""
    if value is None and optional:
        return None
    # bool is an int, but Vigil refuses it: a True where a number belongs is a bug upstream.
    if isinstance(value, (bool, str, bytes)):
        raise TypeError(f"{field}: give a number, not {type(value).__name__}.")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{field}: give a number, not {type(value).__name__}.") from None
    if not math.isfinite(result):
        raise ValueError(f"{field}: give a finite number, not {result}.")  # JSON has no NaN or infinity
    if positive and result <= 0:
        raise ValueError(f"{field}: give a positive number, not {result}.")
    return result


def identifier(field: str, value, max_length: int = 100) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{field}: give a string, not {type(value).__name__}.")
    text = str(value).strip()
    if not text or len(text) > max_length:
        raise ValueError(f"{field}: give 1 to {max_length} characters.")
    return text


def point(metric, value, when=None) -> dict:
    if not isinstance(metric, str) or not metric:
        raise ValueError("metric: give the metric's name, e.g. 'accuracy'.")
    return {"metric": metric, "timestamp": timestamp(when), "value": number("value", value)}


def prediction(id, features, prediction, score=None, when=None) -> dict:
    if not isinstance(features, dict) or not features:
        raise ValueError("features: give a non-empty dict of named numbers.")
    clean = {}
    for name, value in features.items():
        if not isinstance(name, str) or not name:
            raise ValueError("features: name each feature with a non-empty string.")
        clean[name] = number(f"features.{name}", value)
    row = {
        "id": identifier("id", id),
        "timestamp": timestamp(when),
        "features": clean,
        "prediction": number("prediction", prediction),
    }
    if score is not None:  # left out rather than sent as null, as the trades' optional fields
        row["score"] = number("score", score)
    return row


def outcome(id, outcome) -> dict:
    return {"id": identifier("id", id), "outcome": number("outcome", outcome)}


def trade(
    id, instrument, side, quantity, price, pnl, when=None, expected_slippage=None, realised_slippage=None
) -> dict:
    side = side.lower() if isinstance(side, str) else side
    if side not in ("buy", "sell"):
        raise ValueError(f"side: give 'buy' or 'sell', not {side!r}.")
    row = {
        "id": identifier("id", id),
        "timestamp": timestamp(when),
        "instrument": identifier("instrument", instrument, 50),
        "side": side,
        "quantity": number("quantity", quantity, positive=True),
        "price": number("price", price, positive=True),
        "pnl": number("pnl", pnl),
    }
    # Optional fields are left out rather than sent as null: smaller batches, same meaning.
    for field, value in (("expected_slippage", expected_slippage), ("realised_slippage", realised_slippage)):
        if value is not None:
            row[field] = number(field, value)
    return row
