from rest_framework import serializers

from governance.skills.models import Completion, Duty, Requirement
from governance.skills.selectors import STATUSES
from models_registry.choices import ModelType


class RequirementSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.key", allow_null=True, default=None)
    created_by = serializers.CharField(source="created_by.username")

    class Meta:
        model = Requirement
        fields = [
            "id", "duty", "scope", "model_type", "model", "kind", "title", "validity_months", "active", "created_by",
            "created_at",
        ]  # fmt: skip


class RequirementInputSerializer(serializers.Serializer):
    duty = serializers.ChoiceField(choices=Duty.choices)
    kind = serializers.ChoiceField(choices=Requirement.Kind.choices)
    title = serializers.CharField(max_length=200)
    validity_months = serializers.IntegerField(min_value=1, max_value=120)
    scope = serializers.ChoiceField(choices=Requirement.Scope.choices, default=Requirement.Scope.ANY)
    model_type = serializers.ChoiceField(
        choices=ModelType.choices, required=False, allow_blank=True, help_text="When the scope is model_type."
    )
    model = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="The model's key, when the scope is model."
    )


class RequirementChangeSerializer(RequirementInputSerializer):
    """Only the fields given change."""

    duty = serializers.ChoiceField(choices=Duty.choices, required=False)
    kind = serializers.ChoiceField(choices=Requirement.Kind.choices, required=False)
    title = serializers.CharField(max_length=200, required=False)
    validity_months = serializers.IntegerField(min_value=1, max_value=120, required=False)
    scope = serializers.ChoiceField(choices=Requirement.Scope.choices, required=False)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class RetireSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class CompletionSerializer(serializers.ModelSerializer):
    person = serializers.CharField(source="person.username")
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = Completion
        fields = ["id", "person", "requirement", "completed_on", "expires_on", "evidence", "recorded_by", "recorded_at"]


class CompletionInputSerializer(serializers.Serializer):
    person = serializers.CharField(max_length=150, help_text="The person's username.")
    requirement = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    completed_on = serializers.DateField()
    evidence = serializers.CharField(max_length=500, help_text="A certificate number, an attendance list, a note.")


class MySkillSerializer(serializers.Serializer):
    duty = serializers.CharField()
    requirement = RequirementSerializer()
    status = serializers.ChoiceField(choices=STATUSES)
    holds_until = serializers.DateField(allow_null=True, help_text="The day it lapses (lapsed); null: never completed.")
