"""The model inventory: models, their versions, data sources and the links between them (INV-01..06)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from models_registry.choices import (
    AssetClass,
    Classification,
    CollectionMethod,
    DataSourceKind,
    DataUsage,
    LifecycleStatus,
    ModelType,
    Purpose,
    Rating,
    RiskTier,
)
from models_registry.problem import boundary_text, criterion_text
from models_registry.validators import (
    model_key_validator,
    validate_artifact_uri,
    validate_asset_classes,
    validate_code_revision,
    validate_json_object,
    validate_metric_map,
    validate_operating_boundaries,
    validate_success_criteria,
    version_label_validator,
)

User = settings.AUTH_USER_MODEL

sha256_validator = RegexValidator(r"^[0-9a-f]{64}$", "Enter a SHA-256 digest: 64 lower-case hexadecimal characters.")

RESERVED_KEYS = {"new"}


def validate_not_reserved(value: str) -> None:
    if value in RESERVED_KEYS:
        raise ValidationError(f"'{value}' is reserved; choose another key.")


class Model(models.Model):
    """A model in the inventory, addressed by trading systems through its stable `key`.

    Never hard-deleted: a model leaves use by being retired. The risk tier is computed from materiality
    and complexity by models_registry.tiering; an override needs a written justification.
    """

    key = models.CharField(max_length=80, unique=True, validators=[model_key_validator, validate_not_reserved])
    name = models.CharField(max_length=200)
    description = models.TextField(max_length=10000, blank=True)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    desk = models.ForeignKey("governance.Desk", on_delete=models.PROTECT, related_name="models")
    asset_classes = models.JSONField(
        default=list, blank=True, validators=[validate_asset_classes], help_text="List of asset class codes."
    )
    model_type = models.CharField(max_length=30, choices=ModelType.choices)
    is_vendor = models.BooleanField(default=False)
    vendor_name = models.CharField(max_length=200, blank=True)

    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="owned_models")
    developers = models.ManyToManyField(User, related_name="developed_models", blank=True)
    validator = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="validated_models"
    )

    intended_use = models.TextField(max_length=5000)
    known_limitations = models.TextField(max_length=5000, blank=True)
    use_restrictions = models.TextField(max_length=5000, blank=True)

    # The problem definition (issue 24): what the model is for, how success is measured, what binds it, what it needs
    # from the trading infrastructure, and where it must not be used. The card reads them.
    objectives = models.TextField(max_length=5000, blank=True)
    success_criteria = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_success_criteria],
        help_text='Measurable figures, e.g. [{"metric": "sharpe", "operator": ">=", "value": 1.2, "unit": "ratio"}].',
    )
    constraints = models.TextField(max_length=5000, blank=True)
    infrastructure_needs = models.TextField(
        max_length=5000,
        blank=True,
        help_text="What it needs from the trading infrastructure: OMS coupling, latency budget, market-data feeds, "
        "alternative data.",
    )
    out_of_scope_uses = models.TextField(max_length=5000, blank=True)
    operating_boundaries = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_operating_boundaries],
        help_text='Checkable ranges, e.g. [{"name": "order size", "min": 0, "max": 5000000, "unit": "USD"}].',
    )

    notional_at_stake = models.DecimalField(
        max_digits=20,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Notional or capital at stake, in the firm's reporting currency.",
    )
    downstream_consumers = models.PositiveIntegerField(default=0, validators=[MaxValueValidator(100000)])
    complexity_rating = models.CharField(max_length=10, choices=Rating.choices, default=Rating.MEDIUM)
    explainability_rating = models.CharField(max_length=10, choices=Rating.choices, default=Rating.MEDIUM)
    computed_tier = models.PositiveSmallIntegerField(choices=RiskTier.choices)
    tier_rule_version = models.CharField(max_length=20)
    tier_override = models.PositiveSmallIntegerField(choices=RiskTier.choices, null=True, blank=True)
    tier_override_justification = models.TextField(max_length=5000, blank=True)
    risk_tier = models.PositiveSmallIntegerField(choices=RiskTier.choices, db_index=True)

    status = models.CharField(
        max_length=30, choices=LifecycleStatus.choices, default=LifecycleStatus.DRAFT, db_index=True
    )
    last_validated_at = models.DateField(null=True, blank=True)
    next_validation_due = models.DateField(null=True, blank=True)
    revalidation_flag = models.CharField(
        max_length=10,
        default="",
        blank=True,
        db_index=True,
        help_text="Set by the daily revalidation sweep: due_soon or overdue; empty when in date.",
    )

    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    upstream_models = models.ManyToManyField(
        "self",
        symmetrical=False,
        through="ModelDependency",
        through_fields=("downstream", "upstream"),
        related_name="downstream_models",
        blank=True,
    )

    class Meta:
        ordering = ["key"]
        permissions = [
            ("add_version_model", "Can add versions to the model"),
            ("validate_model", "Can validate the model"),
        ]
        indexes = [
            models.Index(fields=["purpose", "key"], name="model_purpose_idx"),
            models.Index(fields=["desk", "status", "key"], name="model_desk_status_idx"),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def asset_class_labels(self) -> list[str]:
        labels = dict(AssetClass.choices)
        return [labels.get(code, code) for code in self.asset_classes]

    @property
    def success_criteria_texts(self) -> list[str]:
        return [criterion_text(item) for item in self.success_criteria if isinstance(item, dict)]

    @property
    def operating_boundary_texts(self) -> list[str]:
        return [boundary_text(item) for item in self.operating_boundaries if isinstance(item, dict)]


class ModelUserObjectPermission(UserObjectPermissionBase):
    """guardian's per-user grants on models, with a real foreign key (indexed, no text casts)."""

    content_object = models.ForeignKey(Model, on_delete=models.CASCADE)


class ModelGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Model, on_delete=models.CASCADE)


class AccessGrantBase(models.Model):
    """Access given by hand by compliance. Revoking keeps the row (revoked_at/by), so an auditor can see who
    could see what, and when."""

    reason = models.TextField(max_length=2000)
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-granted_at"]


class ModelAccessGrant(AccessGrantBase):
    """Read access to a model beyond its owner, developers and validator."""

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="access_grants")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="model_access_grants")

    class Meta(AccessGrantBase.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["model", "user"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_model_grant_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} may view {self.model}"


class ModelDependency(models.Model):
    """A feeder -> consumer edge: `downstream` consumes the output of `upstream` (INV-05)."""

    upstream = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="downstream_links")
    downstream = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="upstream_links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["upstream", "downstream"], name="unique_model_dependency"),
            models.CheckConstraint(condition=~models.Q(upstream=models.F("downstream")), name="no_self_dependency"),
        ]

    def __str__(self) -> str:
        return f"{self.upstream} -> {self.downstream}"


class DataSource(models.Model):
    """An entry of the data governance register (DEV-02). Restricted sources are visible only by grant."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(max_length=5000, blank=True)
    kind = models.CharField(max_length=20, choices=DataSourceKind.choices)
    collection_method = models.CharField(max_length=20, choices=CollectionMethod.choices)
    storage_location = models.CharField(max_length=500)
    classification = models.CharField(max_length=20, choices=Classification.choices, db_index=True)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="owned_data_sources")
    retention_days = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(36500)],
        help_text="How long records from this source are kept, in days.",
    )
    quality_rules = models.TextField(max_length=10000, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_restricted(self) -> bool:
        return self.classification == Classification.RESTRICTED


class DataSourceUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(DataSource, on_delete=models.CASCADE)


class DataSourceGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(DataSource, on_delete=models.CASCADE)


class DataSourceAccessGrant(AccessGrantBase):
    """Access to a restricted data source."""

    data_source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="access_grants")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="data_source_access_grants")

    class Meta(AccessGrantBase.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["data_source", "user"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_data_source_grant_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} may use {self.data_source}"


class ModelVersion(models.Model):
    """One trained, versioned artefact of a model. Frozen once it leaves draft (INV-06): edits get 409."""

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=40, validators=[version_label_validator])
    status = models.CharField(
        max_length=30, choices=LifecycleStatus.choices, default=LifecycleStatus.DRAFT, db_index=True
    )
    artifact_uri = models.CharField(max_length=500, validators=[validate_artifact_uri])
    artifact_sha256 = models.CharField(max_length=64, validators=[sha256_validator])
    code_revision = models.CharField(max_length=80, validators=[validate_code_revision])
    training_data_ref = models.CharField(max_length=500, blank=True)
    hyperparameters = models.JSONField(default=dict, blank=True, validators=[validate_json_object])
    claimed_performance = models.JSONField(default=dict, blank=True, validators=[validate_metric_map])
    notes = models.TextField(max_length=5000, blank=True)
    data_sources = models.ManyToManyField(DataSource, through="VersionDataSource", related_name="versions")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["model", "version"], name="unique_version_per_model")]

    def __str__(self) -> str:
        return f"{self.model.key}@{self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.status != LifecycleStatus.DRAFT


class VersionDataSource(models.Model):
    """Which data a version uses, and for what: training or inference."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="data_links")
    data_source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="version_links")
    usage = models.CharField(max_length=20, choices=DataUsage.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "data_source", "usage"], name="unique_version_data_usage")
        ]

    def __str__(self) -> str:
        return f"{self.version} uses {self.data_source} for {self.usage}"


class ModelRisk(models.Model):
    """An entry of a model's risk register: likelihood and impact (1-5) before and after mitigation."""

    class Kind(models.TextChoices):
        MODEL = "model", "Model risk"
        OPERATIONAL = "operational", "Operational risk"
        REGULATORY = "regulatory", "Regulatory risk"

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="risks")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    likelihood = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    impact = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    mitigations = models.TextField(max_length=5000, blank=True)
    residual_likelihood = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    residual_impact = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    next_review = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "governance_modelrisk"  # created by the governance app before the layers were split
        ordering = ["-likelihood", "-impact", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def inherent_score(self) -> int:
        return self.likelihood * self.impact

    @property
    def residual_score(self) -> int:
        return self.residual_likelihood * self.residual_impact


class ServiceAccount(models.Model):
    """A trading system's or pipeline's account: an API token scoped to named models or a desk, allowed to read
    the gate and/or push monitoring data, nothing else (no pages, no other endpoint). Created, rotated and revoked
    by compliance; never deleted (revoked accounts stay for the audit trail)."""

    AUDIT_TYPE = "models_registry.serviceaccount"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_account")
    name = models.CharField(max_length=100, unique=True, help_text="The system it belongs to, e.g. 'EQ OMS'.")
    desk = models.ForeignKey(
        "governance.Desk", null=True, blank=True, on_delete=models.PROTECT, related_name="service_accounts"
    )
    scope_models = models.ManyToManyField(Model, blank=True, related_name="service_accounts")
    can_read_gate = models.BooleanField(default=True)
    can_push = models.BooleanField(default=False, help_text="Report monitoring data for the models in scope.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    token_rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"Service account {self.name}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
