"""The batches' request serializers, generated from `batch_contract.ROWS` for the OpenAPI schema only.

Rows are checked by `inputs` (a serializer per row would cost a thousand times more); these document the same
table, so the schema cannot say one thing while the checks do another.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from risk.monitoring.batch_contract import ROWS, VERSION_HELP, Field


@extend_schema_field({"type": "number", "format": "double", "minimum": 0, "exclusiveMinimum": True})
class PositiveFloatField(serializers.FloatField):
    """A number above zero (DRF's min_value would document zero as allowed)."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "number", "format": "double"},
        "minProperties": 1,
        "maxProperties": ROWS["predictions"]["features"].max_length,
    }
)
class FeaturesField(serializers.DictField):
    """An object of named numbers (OpenAPI 3.0 has no propertyNames: the names' length is in the description)."""


def _field(spec: Field) -> serializers.Field:
    common = {"required": spec.required, "help_text": spec.help or None}
    if not spec.required:
        common["allow_null"] = True
    if spec.kind == "text":
        return serializers.CharField(max_length=spec.max_length, **common)
    if spec.kind == "time":
        return serializers.DateTimeField(**common)
    if spec.kind == "choice":
        return serializers.ChoiceField(choices=list(spec.choices), **common)
    if spec.kind == "features":
        return FeaturesField(child=serializers.FloatField(), **common)
    if spec.kind == "number":
        return PositiveFloatField(**common) if spec.positive else serializers.FloatField(**common)
    raise ValueError(f"Unknown field kind {spec.kind!r}.")


def _serializer(name: str, fields: dict) -> type[serializers.Serializer]:
    return type(name, (serializers.Serializer,), {**fields, "__module__": __name__})


def _batch(kind: str, row_name: str) -> type[serializers.Serializer]:
    row = _serializer(f"{row_name}Serializer", {name: _field(spec) for name, spec in ROWS[kind].items()})
    fields = {"version": serializers.CharField(required=False, help_text=VERSION_HELP), kind: row(many=True)}
    return _serializer(f"{row_name}BatchSerializer", fields)


PointBatchSerializer = _batch("points", "Point")
TradeBatchSerializer = _batch("trades", "Trade")
PredictionBatchSerializer = _batch("predictions", "Prediction")
OutcomeBatchSerializer = _batch("outcomes", "Outcome")
BATCHES = {
    "points": PointBatchSerializer,
    "trades": TradeBatchSerializer,
    "predictions": PredictionBatchSerializer,
    "outcomes": OutcomeBatchSerializer,
}
