"""API shapes of the inventory. Output serializers read; input serializers validate and hand a dict to a service.

Related objects are addressed as people and trading systems know them: users by username, desks by code,
models by key, data sources by id. Choices for models and data sources are limited to what the caller may
see, so an invisible object is reported exactly like an absent one.
"""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.core import access as perms
from governance.core.api.fields import SafeSlugRelatedField
from governance.core.models import Desk
from governance.core.single_line import MULTI_LINE
from models_registry.choices import AssetClass, DataUsage
from models_registry.models import DataSource, Model, ModelVersion
from models_registry.services import DATA_SOURCE_FIELDS, MODEL_INPUT_FIELDS, PROBLEM_DEFINITION_FIELDS
from models_registry.validators import (
    OPERATORS,
    validate_metric_map,
    validate_operating_boundaries,
    validate_success_criteria,
)

User = get_user_model()


class UsernameField(SafeSlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(slug_field="username", queryset=User.objects.filter(is_active=True), **kwargs)


class FiniteNumberField(serializers.FloatField):
    """A JSON number: booleans and numeric strings are refused rather than coerced."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class SuccessCriterionSerializer(serializers.Serializer):
    """One success criterion as the API documents it (the rule is models_registry.validators')."""

    metric = serializers.CharField(max_length=80)
    operator = serializers.ChoiceField(choices=list(OPERATORS))
    value = serializers.FloatField()
    unit = serializers.CharField(max_length=20, required=False)


class OperatingBoundarySerializer(serializers.Serializer):
    """One operating boundary: a checkable range with at least one bound, min <= max."""

    name = serializers.CharField(max_length=80)
    min = serializers.FloatField(required=False)
    max = serializers.FloatField(required=False)
    unit = serializers.CharField(max_length=20, required=False)


@extend_schema_field(SuccessCriterionSerializer(many=True))
class SuccessCriteriaField(serializers.JSONField):
    def __init__(self, **kwargs):
        super().__init__(validators=[validate_success_criteria], **kwargs)


@extend_schema_field(OperatingBoundarySerializer(many=True))
class OperatingBoundariesField(serializers.JSONField):
    def __init__(self, **kwargs):
        super().__init__(validators=[validate_operating_boundaries], **kwargs)


class VisibleChoicesMixin:
    """Limit relational choices to the objects the requesting user may see."""

    visible_fields: dict[str, type] = {}

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        for name, model_class in self.visible_fields.items():
            field = fields[name]
            target = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
            target.queryset = perms.restrict(model_class.objects.all(), user)
        return fields


class ModelSummarySerializer(serializers.ModelSerializer):
    """One row of the inventory list: what a list shows. The full record is at the model's url."""

    desk = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    validator = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:model-detail", lookup_field="key")

    class Meta:
        model = Model
        fields = [
            "url",
            "key",
            "name",
            "purpose",
            "desk",
            "model_type",
            "is_vendor",
            "owner",
            "validator",
            "risk_tier",
            "status",
            "last_validated_at",
            "next_validation_due",
            "updated_at",
        ]
        read_only_fields = fields


class ModelSerializer(serializers.ModelSerializer):
    desk = serializers.SlugRelatedField(slug_field="code", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    validator = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    developers = serializers.SlugRelatedField(slug_field="username", read_only=True, many=True)
    asset_classes = serializers.ListField(child=serializers.ChoiceField(choices=AssetClass.choices), read_only=True)
    success_criteria = SuccessCriteriaField(read_only=True)
    operating_boundaries = OperatingBoundariesField(read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:model-detail", lookup_field="key")

    class Meta:
        model = Model
        fields = [
            "url",
            "key",
            "name",
            "description",
            "purpose",
            "desk",
            "asset_classes",
            "model_type",
            "is_vendor",
            "vendor_name",
            "owner",
            "developers",
            "validator",
            "intended_use",
            "known_limitations",
            "use_restrictions",
            *PROBLEM_DEFINITION_FIELDS,
            "notional_at_stake",
            "downstream_consumers",
            "complexity_rating",
            "explainability_rating",
            "computed_tier",
            "tier_rule_version",
            "tier_override",
            "tier_override_justification",
            "risk_tier",
            "status",
            "last_validated_at",
            "next_validation_due",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ModelDetailSerializer(ModelSerializer):
    upstream_models = serializers.SerializerMethodField()
    downstream_models = serializers.SerializerMethodField()

    class Meta(ModelSerializer.Meta):
        fields = [*ModelSerializer.Meta.fields, "upstream_models", "downstream_models"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_upstream_models(self, obj):
        return self.context["upstream"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_downstream_models(self, obj):
        return self.context["downstream"]


class ModelWriteSerializer(VisibleChoicesMixin, serializers.ModelSerializer):
    visible_fields = {"upstream_models": Model}

    desk = SafeSlugRelatedField(slug_field="code", queryset=Desk.objects.all())
    owner = UsernameField(required=False)
    validator = UsernameField(required=False, allow_null=True)
    developers = UsernameField(many=True, required=False)
    upstream_models = SafeSlugRelatedField(slug_field="key", many=True, required=False, queryset=Model.objects.none())
    asset_classes = serializers.ListField(
        child=serializers.ChoiceField(choices=AssetClass.choices), required=False, max_length=len(AssetClass.choices)
    )
    success_criteria = SuccessCriteriaField(required=False)
    operating_boundaries = OperatingBoundariesField(required=False)

    class Meta:
        model = Model
        fields = MODEL_INPUT_FIELDS


class ModelUpdateSerializer(ModelWriteSerializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        write_only=True,
        style=MULTI_LINE,
        help_text="Why the record changes; kept in the audit trail.",
    )
    grant_training_data = serializers.BooleanField(
        required=False,
        default=False,
        write_only=True,
        help_text="Compliance: also grant the validator read access to the model's restricted training data "
        "(independent validation needs it; each grant is audited).",
    )

    class Meta(ModelWriteSerializer.Meta):
        fields = [f for f in ModelWriteSerializer.Meta.fields if f != "key"] + ["reason", "grant_training_data"]


class ModelVersionSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="key", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    training_sources = serializers.SerializerMethodField()
    inference_sources = serializers.SerializerMethodField()
    is_frozen = serializers.BooleanField(read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "model",
            "version",
            "status",
            "is_frozen",
            "artifact_uri",
            "artifact_sha256",
            "code_revision",
            "training_data_ref",
            "hyperparameters",
            "claimed_performance",
            "notes",
            "training_sources",
            "inference_sources",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _sources(self, obj, usage):
        visible = self.context.get("visible_source_ids")
        return [
            link.data_source_id
            for link in obj.data_links.all()
            if link.usage == usage and (visible is None or link.data_source_id in visible)
        ]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_training_sources(self, obj):
        return self._sources(obj, DataUsage.TRAINING)

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_inference_sources(self, obj):
        return self._sources(obj, DataUsage.INFERENCE)


class ModelVersionWriteSerializer(VisibleChoicesMixin, serializers.ModelSerializer):
    visible_fields = {"training_sources": DataSource, "inference_sources": DataSource}

    training_sources = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=DataSource.objects.none())
    inference_sources = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=DataSource.objects.none()
    )
    hyperparameters = serializers.DictField(required=False)
    claimed_performance = serializers.DictField(
        child=FiniteNumberField(), required=False, validators=[validate_metric_map]
    )

    class Meta:
        model = ModelVersion
        fields = [
            "version",
            "artifact_uri",
            "artifact_sha256",
            "code_revision",
            "training_data_ref",
            "hyperparameters",
            "claimed_performance",
            "notes",
            "training_sources",
            "inference_sources",
        ]


class ModelVersionUpdateSerializer(ModelVersionWriteSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, write_only=True, style=MULTI_LINE)

    class Meta(ModelVersionWriteSerializer.Meta):
        fields = [f for f in ModelVersionWriteSerializer.Meta.fields if f != "version"] + ["reason"]


class DataSourceSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DataSource
        fields = ["id", *DATA_SOURCE_FIELDS, "created_at", "updated_at"]
        read_only_fields = fields


class DataSourceWriteSerializer(serializers.ModelSerializer):
    owner = UsernameField(required=False)

    class Meta:
        model = DataSource
        fields = DATA_SOURCE_FIELDS


class DataSourceUpdateSerializer(DataSourceWriteSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, write_only=True, style=MULTI_LINE)

    class Meta(DataSourceWriteSerializer.Meta):
        fields = [*DataSourceWriteSerializer.Meta.fields, "reason"]
