"""What a monitoring batch holds: the one definition of its rows' fields.

`inputs.py` enforces it (by hand, for speed: it takes its names and limits from here) and the API's OpenAPI
schema is generated from it (`api/batch_serializers.py`), so the contract callers read and the one Vigil
applies are the same table; tests/risk/test_monitoring_contract.py sends rows built from this table through
`inputs` and fails when the two part.
"""

from dataclasses import dataclass

from risk.monitoring.catalogue import METRICS

ID_MAX = 100
INSTRUMENT_MAX = 50
FEATURE_NAME_MAX = 100
MAX_FEATURES = 500
SIDES = ("buy", "sell")
VERSION_HELP = "Defaults to the version in production, else pilot."
TIME_HELP = "ISO 8601 with its zone (Z for UTC), not in the future."  # the schema adds Vigil's time range


@dataclass(frozen=True)
class Field:
    """One field of a row. kind: text, number, time, choice or features (an object of named numbers)."""

    kind: str
    required: bool = True
    max_length: int | None = None
    positive: bool = False
    choices: tuple = ()
    help: str = ""


ROWS: dict[str, dict[str, Field]] = {
    "points": {
        "metric": Field("choice", choices=tuple(sorted(METRICS))),
        "timestamp": Field("time", help=TIME_HELP),
        "value": Field("number"),
    },
    "trades": {
        "id": Field("text", max_length=ID_MAX, help="Unique within the version's trades."),
        "timestamp": Field("time", help=TIME_HELP),
        "instrument": Field("text", max_length=INSTRUMENT_MAX),
        "side": Field("choice", choices=SIDES),
        "quantity": Field("number", positive=True),
        "price": Field("number", positive=True),
        "pnl": Field("number"),
        "expected_slippage": Field("number", required=False),
        "realised_slippage": Field("number", required=False),
    },
    "predictions": {
        "id": Field("text", max_length=ID_MAX, help="Unique within the version's predictions."),
        "timestamp": Field("time", help=TIME_HELP),
        "features": Field(
            "features",
            max_length=MAX_FEATURES,
            help=f"1 to {MAX_FEATURES} named feature values (names of 1 to {FEATURE_NAME_MAX} characters).",
        ),
        "prediction": Field("number"),
        "score": Field("number", required=False),
    },
    "outcomes": {
        "id": Field("text", max_length=ID_MAX, help="The id of a prediction reported earlier."),
        "outcome": Field("number"),
    },
}
