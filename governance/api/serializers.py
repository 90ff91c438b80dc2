from rest_framework import serializers

from governance.models import AuditEvent, Finding, Signature, VersionTransition
from governance.workflow import RULES


class SignatureSerializer(serializers.ModelSerializer):
    signer = serializers.SlugRelatedField(slug_field="username", read_only=True)
    policy_version = serializers.IntegerField(source="policy.version", read_only=True)
    manifestation = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Signature
        fields = [
            "id",
            "signer",
            "full_name_snapshot",
            "signed_at",
            "meaning",
            "comment",
            "content_hash",
            "policy_version",
            "manifestation",
        ]
        read_only_fields = fields


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
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
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


class FindingSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="version.model.key", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    raised_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = [
            "id",
            "model",
            "version",
            "severity",
            "title",
            "description",
            "owner",
            "due_date",
            "status",
            "is_overdue",
            "raised_by",
            "raised_at",
            "remediation_note",
            "closed_by",
            "closed_at",
        ]
        read_only_fields = fields

    def get_is_overdue(self, obj) -> bool:
        from django.utils import timezone

        return obj.is_active and obj.due_date < timezone.now().date()


class FindingCreateSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=80)
    version = serializers.CharField(max_length=40)
    severity = serializers.ChoiceField(choices=Finding.Severity.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10000)
    owner = serializers.CharField(max_length=150, help_text="Username of the person who remediates.")
    due_date = serializers.DateField()


class FindingActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["start_remediation", "close", "accept_risk"])
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    password = serializers.CharField(required=False, allow_blank=True, write_only=True, max_length=200)
    otp_token = serializers.CharField(required=False, allow_blank=True, max_length=12)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_username", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "timestamp",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "reason",
            "request_id",
            "ip_address",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class ChainReportSerializer(serializers.Serializer):
    intact = serializers.BooleanField()
    checked = serializers.IntegerField()
    first_broken_id = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(allow_blank=True)
