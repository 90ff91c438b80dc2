"""Typed input of the lifecycle's actions: the validation sign-off and the pilot limits.

DRF serializers, so the API, the pages and the services check the same shapes. Errors come back by field
("signoff.ongoing_monitoring", "pilot.end_date") in plain words.
"""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework import serializers

from governance.core.single_line import MULTI_LINE

ELEMENTS = ("conceptual_soundness", "ongoing_monitoring", "outcomes_analysis")
LINK_OR_JUSTIFY = "Link evidence or justify why it is not applicable."


class ElementSerializer(serializers.Serializer):
    """One SR 11-7 core element: the evidence that covers it, or why it does not apply."""

    evidence = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=10**18), required=False, default=list, max_length=200
    )
    not_applicable = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, default="", style=MULTI_LINE
    )


class SignOffSerializer(serializers.Serializer):
    """What a validator signs: the three core elements, the tier, what was reviewed, and any conditions.

    Context: `evidence_ids` (files attached to the version), `tier` (the model's), `has_findings`, `action`.
    """

    conceptual_soundness = ElementSerializer(error_messages={"required": LINK_OR_JUSTIFY, "invalid": LINK_OR_JUSTIFY})
    ongoing_monitoring = ElementSerializer(error_messages={"required": LINK_OR_JUSTIFY, "invalid": LINK_OR_JUSTIFY})
    outcomes_analysis = ElementSerializer(error_messages={"required": LINK_OR_JUSTIFY, "invalid": LINK_OR_JUSTIFY})
    tier_confirmed = serializers.ChoiceField(
        choices=[1, 2, 3],
        error_messages={"required": "Confirm the tier (1, 2 or 3).", "invalid_choice": "Confirm the tier (1, 2 or 3)."},
    )
    no_findings_justification = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, default="", style=MULTI_LINE
    )
    conditions = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="", style=MULTI_LINE)
    run = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=10**18,
        help_text="The validation run the sign-off rests on; the latest succeeded run of the version by default.",
    )
    dispositions = serializers.DictField(
        child=serializers.CharField(max_length=5000, allow_blank=True, style=MULTI_LINE),
        required=False,
        default=dict,
        help_text="For each failed test of the cited run without a finding: why it does not stand in the way.",
    )
    acknowledged_warnings = serializers.ListField(
        child=serializers.CharField(max_length=120), required=False, default=list, max_length=200
    )

    def validate_dispositions(self, value):
        if len(value) > 200 or any(len(key) > 120 for key in value):
            raise serializers.ValidationError("Give at most 200 dispositions, keyed by test name.")
        return {key: text.strip() for key, text in value.items() if text.strip()}

    def validate(self, data):
        errors = {}
        for element in ELEMENTS:
            part = data[element]
            linked, justification = part["evidence"], part["not_applicable"].strip()
            if not set(linked) <= self.context["evidence_ids"]:
                errors[element] = "Link evidence attached to this version."
            elif not linked and not justification:
                errors[element] = LINK_OR_JUSTIFY
            elif not linked and element == "outcomes_analysis" and self.context["tier"] == 1:
                errors[element] = "A Tier 1 model cannot mark outcomes analysis not applicable."
            data[element] = {"evidence": sorted(linked), "not_applicable": justification if not linked else ""}
        data["no_findings_justification"] = data["no_findings_justification"].strip()
        if not self.context["has_findings"] and len(data["no_findings_justification"]) < 20:
            errors["no_findings_justification"] = (
                "With no findings raised, list what was reviewed (at least 20 characters)."
            )
        data["conditions"] = data["conditions"].strip()
        if self.context["action"] == "validate_with_conditions" and not data["conditions"]:
            errors["conditions"] = "State the conditions of use."
        if errors:
            raise serializers.ValidationError(errors)
        return data


class PilotSerializer(serializers.Serializer):
    """The limits of a pilot: how much, on what, where, and until when."""

    max_notional = serializers.DecimalField(
        max_digits=20,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={
            "required": "Give a positive maximum notional.",
            "invalid": "Give a positive maximum notional.",
            "min_value": "Give a positive maximum notional.",
            "max_digits": "Give a positive maximum notional below 10^18.",
            "max_whole_digits": "Give a positive maximum notional below 10^18.",
            "max_decimal_places": "Give the notional with at most two decimals.",
        },
    )
    instruments = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=50), required=False, default=list, max_length=500
    )
    venues = serializers.ListField(
        child=serializers.CharField(min_length=1, max_length=50), required=False, default=list, max_length=500
    )
    end_date = serializers.DateField(
        input_formats=["iso-8601"], error_messages={"invalid": "Give the end date as YYYY-MM-DD."}
    )

    def validate_end_date(self, value: dt.date) -> dt.date:
        if value <= timezone.now().date():
            raise serializers.ValidationError("The pilot must end in the future.")
        return value

    def to_internal_value(self, data):
        # The scope check runs even when another field is wrong, so the form shows every error at once
        # (DRF's validate() would only run once every field is valid).
        errors, value = {}, None
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors = dict(exc.detail)
        if not (data.get("instruments") or data.get("venues")) and "instruments" not in errors:
            errors["instruments"] = ["Limit the pilot to some instruments or venues."]
        if errors:
            raise serializers.ValidationError(errors)
        return value


def _first_messages(detail) -> str:
    """A DRF error detail (possibly nested) as one plain sentence."""
    if isinstance(detail, dict):
        return " ".join(_first_messages(v) for v in detail.values())
    if isinstance(detail, list):
        return " ".join(_first_messages(v) for v in detail)
    return str(detail)


def clean(serializer_class, data, prefix: str, context: dict | None = None) -> dict:
    """Validate `data`; a Django ValidationError keyed "prefix.field" (400) when it does not fit."""
    if not isinstance(data, dict):
        raise ValidationError({prefix: f"Give the {prefix.replace('_', ' ')} as an object of fields."})
    serializer = serializer_class(data=data, context=context or {})
    if not serializer.is_valid():
        raise ValidationError(
            {f"{prefix}.{field}": _first_messages(detail) for field, detail in serializer.errors.items()}
        )
    return dict(serializer.validated_data)
