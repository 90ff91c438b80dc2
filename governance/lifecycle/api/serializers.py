"""Lifecycle over the API: a version's history, the actions open to you, and a transition request."""

from rest_framework import serializers

from governance.core.api.serializers import SignatureSerializer
from governance.core.single_line import MULTI_LINE
from governance.lifecycle.models import VersionTransition
from governance.lifecycle.workflow import RULES


class TransitionSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    policy_version = serializers.IntegerField(source="policy.version", read_only=True)
    signature = SignatureSerializer(read_only=True, allow_null=True)

    class Meta:
        model = VersionTransition
        fields = [
            "id",
            "action",
            "from_status",
            "to_status",
            "actor",
            "at",
            "comment",
            "details",
            "signature",
            "policy_version",
        ]
        read_only_fields = fields


class TransitionRequestSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(RULES))
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, style=MULTI_LINE)
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        max_length=200,
        style={"input_type": "password"},
        help_text="Required for signing actions: the signer's password again.",
    )
    otp_token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=12,
        help_text="One-time code, when the signer has an authenticator device.",
    )
    signoff = serializers.JSONField(
        required=False,
        help_text=(
            "For validate, validate_with_conditions and reject: {conceptual_soundness, ongoing_monitoring, "
            "outcomes_analysis: {evidence: [ids]} or {not_applicable: text}, tier_confirmed, "
            "no_findings_justification, conditions}."
        ),
    )
    pilot = serializers.JSONField(
        required=False, help_text="For start_pilot: {max_notional, instruments, venues, end_date}."
    )


class AvailableActionSerializer(serializers.Serializer):
    action = serializers.CharField()
    label = serializers.CharField()
    allowed = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    signing = serializers.BooleanField()


class TransitionStateSerializer(serializers.Serializer):
    model = serializers.CharField()
    version = serializers.CharField()
    status = serializers.CharField()
    history = TransitionSerializer(many=True)
    available_actions = AvailableActionSerializer(many=True)
