"""Field validators shared by the model layer, forms and API serializers (they all run full_clean)."""

import json
import math

from django.core.exceptions import ValidationError

from models_registry.choices import AssetClass

MAX_JSON_BYTES = 64 * 1024


def validate_json_object(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError('Enter a JSON object, e.g. {"max_depth": 6}.')
    if len(json.dumps(value)) > MAX_JSON_BYTES:
        raise ValidationError(f"Keep this under {MAX_JSON_BYTES // 1024} KB of JSON.")


def validate_metric_map(value) -> None:
    """Claimed performance: metric name -> finite number, so validators can re-perform each claim."""
    validate_json_object(value)
    for name, number in value.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 80:
            raise ValidationError("Metric names must be non-empty text of at most 80 characters.")
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            raise ValidationError(f"The claimed value of {name!r} must be a finite number.")


def validate_asset_classes(value) -> None:
    if not isinstance(value, list):
        raise ValidationError("Enter a list of asset classes.")
    unknown = [v for v in value if v not in AssetClass.values]
    if unknown:
        raise ValidationError(
            f"Unknown asset class: {', '.join(map(str, unknown))}. Choose from {', '.join(AssetClass.values)}."
        )
    if len(set(value)) != len(value):
        raise ValidationError("Each asset class may appear once.")
