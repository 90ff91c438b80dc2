"""Findings over the API."""

from django.utils import timezone
from rest_framework import serializers

from governance.core.single_line import MULTI_LINE
from risk.validation.models import Finding


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
            "run",
            "test",
            "raised_by",
            "raised_at",
            "remediation_note",
            "closed_by",
            "closed_at",
        ]
        read_only_fields = fields

    def get_is_overdue(self, obj) -> bool:
        return obj.is_active and obj.due_date < timezone.now().date()


class FindingCreateSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=80)
    version = serializers.CharField(max_length=40)
    severity = serializers.ChoiceField(choices=Finding.Severity.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10000, style=MULTI_LINE)
    owner = serializers.CharField(max_length=150, help_text="Username of the person who remediates.")
    due_date = serializers.DateField()
    run = serializers.IntegerField(
        required=False, min_value=1, max_value=10**18, help_text="The validation run whose test the finding is about."
    )
    test = serializers.CharField(required=False, allow_blank=True, max_length=120, help_text="That test's name.")


class FindingActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["start_remediation", "close", "accept_risk"])
    comment = serializers.CharField(required=False, allow_blank=True, max_length=10000, style=MULTI_LINE)
    password = serializers.CharField(required=False, allow_blank=True, write_only=True, max_length=200)
    otp_token = serializers.CharField(required=False, allow_blank=True, max_length=12)
