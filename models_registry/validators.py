"""Field validators shared by the model layer, forms and API serializers (they all run full_clean)."""

import json
import math
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from models_registry.choices import AssetClass

MAX_JSON_BYTES = 64 * 1024

# A model's key and a version's label: the fields validate them and every URL captures them with these patterns
# (the API's, the pages', the gate's fast lane), so an address accepts exactly what can be stored.
MODEL_KEY_REGEX = r"[a-z0-9]+(?:-[a-z0-9]+)*"
VERSION_REGEX = r"[A-Za-z0-9][A-Za-z0-9._-]*"

model_key_validator = RegexValidator(
    rf"^{MODEL_KEY_REGEX}$", "Use lower-case letters, digits and single hyphens, e.g. eq-momentum-us."
)
version_label_validator = RegexValidator(
    rf"^{VERSION_REGEX}$",
    "Use letters, digits, dots, hyphens and underscores, starting with a letter or digit.",
)


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


URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^\s]+$")
REVISION = re.compile(r"^(?:[0-9a-fA-F]{7,64}|[A-Za-z0-9][A-Za-z0-9._+/-]{0,79})$")


def validate_artifact_uri(value) -> None:
    """Where the artifact lives, as a URI with its scheme (s3://, gs://, https://, file://...)."""
    if not URI.match(str(value)):
        raise ValidationError("Give the artifact's URI with its scheme, e.g. s3://models/eq-momentum/1.2/model.bin.")


def validate_code_revision(value) -> None:
    """A commit hash (7 to 64 hexadecimal characters) or a tag such as v1.4.2 or release-2026.11."""
    if not REVISION.match(str(value)):
        raise ValidationError("Give a commit hash (7 to 64 hexadecimal characters) or a tag such as v1.4.2.")


# --- The problem definition: success criteria and operating boundaries (issue 24) ---------------------------

OPERATORS = {">": "above", ">=": "at least", "<": "below", "<=": "at most", "==": "equal to"}
MAX_ITEMS = 30


def _finite(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _text(item: dict, key: str, limit: int, required: bool) -> str | None:
    """A problem with `item[key]` as short single-line text, or None."""
    if key not in item:
        return f"give '{key}'" if required else None
    value = item[key]
    if not isinstance(value, str) or (required and not value.strip()):
        return f"'{key}' must be text" + (" that is not empty" if required else "")
    if len(value) > limit or any(ch in value for ch in "\r\n\t") or any(ord(ch) < 32 for ch in value):
        return f"'{key}' must be one line of at most {limit} characters"
    return None


def _list_of_objects(value, what: str, example: str) -> None:
    if not isinstance(value, list):
        raise ValidationError(f"Enter a list of {what}, e.g. {example}.")
    if len(value) > MAX_ITEMS:
        raise ValidationError(f"Keep to at most {MAX_ITEMS} {what}.")


def validate_success_criteria(value) -> None:
    """Measurable success criteria: [{"metric": "sharpe", "operator": ">=", "value": 1.2, "unit": "ratio"}]."""
    _list_of_objects(value, "success criteria", '[{"metric": "sharpe", "operator": ">=", "value": 1.2}]')
    problems = []
    for n, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            problems.append(f"criterion {n}: enter an object with metric, operator and value")
            continue
        unknown = sorted(set(item) - {"metric", "operator", "value", "unit"})
        found = [_text(item, "metric", 80, True), _text(item, "unit", 20, False)]
        if unknown:
            found.append(f"unknown key {', '.join(map(repr, unknown))}")
        if not isinstance(item.get("operator"), str) or item["operator"] not in OPERATORS:
            found.append(f"'operator' must be one of {' '.join(OPERATORS)}")
        if not _finite(item.get("value")):
            found.append("'value' must be a finite number")
        problems += [f"criterion {n}: {p}" for p in found if p]
    if problems:
        raise ValidationError("; ".join(problems) + ".")


def validate_operating_boundaries(value) -> None:
    """Checkable ranges: [{"name": "order size", "min": 0, "max": 5000000, "unit": "USD"}]: at least one bound,
    min <= max."""
    _list_of_objects(value, "operating boundaries", '[{"name": "order size", "max": 5000000, "unit": "USD"}]')
    problems = []
    for n, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            problems.append(f"boundary {n}: enter an object with a name and a min or max")
            continue
        unknown = sorted(set(item) - {"name", "min", "max", "unit"})
        found = [_text(item, "name", 80, True), _text(item, "unit", 20, False)]
        if unknown:
            found.append(f"unknown key {', '.join(map(repr, unknown))}")
        bounds = [key for key in ("min", "max") if item.get(key) is not None]
        if not bounds:
            found.append("give a 'min', a 'max' or both")
        for key in bounds:
            if not _finite(item[key]):
                found.append(f"'{key}' must be a finite number")
        if len(bounds) == 2 and _finite(item["min"]) and _finite(item["max"]) and item["min"] > item["max"]:
            found.append("'min' must not exceed 'max'")
        problems += [f"boundary {n}: {p}" for p in found if p]
    if problems:
        raise ValidationError("; ".join(problems) + ".")
