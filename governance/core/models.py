"""Governance core models: organisational reference data, user profiles and the audit trail."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Desk(models.Model):
    """A trading desk or business line. Models belong to one; traders see models of their own desk."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120, unique=True)
    business_line = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserProfile(models.Model):
    """What Vigil needs to know about a person beyond Django's user: their desk and printed name."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="profile")
    desk = models.ForeignKey(Desk, null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    title = models.CharField(max_length=120, blank=True)

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class AuditEvent(models.Model):
    """One append-only entry of the tamper-evident audit trail (21 CFR 11.10(e)).

    Each event stores the SHA-256 of the previous event and of its own canonical content, so any edit,
    deletion or reordering breaks the chain at that row. Actor name and object repr are kept as text so
    the record survives renames and archival. On PostgreSQL a trigger refuses UPDATE and DELETE.
    """

    timestamp = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150)
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id", "id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action} {self.object_repr}"


class AuditChainHead(models.Model):
    """A single row holding the hash of the newest audit event.

    Appenders lock this row (SELECT ... FOR UPDATE) so that concurrent writers extend the chain one at a
    time; without it two events could claim the same predecessor and fork the chain.
    """

    singleton = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64)
    length = models.PositiveBigIntegerField(default=0)


class GovernancePolicy(models.Model):
    """A published version of the rules that govern decisions (GOV-02, TIER-01, VAL-05).

    Immutable once saved: compliance publishes a new version instead of editing. Every transition and
    signature records the version in force, so an auditor can see under which rules it was decided.
    """

    version = models.PositiveIntegerField(unique=True)
    profile = models.CharField(
        max_length=40, default="SR 26-2", help_text="Supervisory profile, e.g. SR 11-7 or SR 26-2."
    )
    tiering_rule_version = models.CharField(max_length=20)
    revalidation_months = models.JSONField(
        help_text='Months between validations by tier, e.g. {"1": 12, "2": 24, "3": 36}.'
    )
    approvals_required = models.JSONField(
        help_text='Distinct compliance approvals by tier, e.g. {"1": 2, "2": 1, "3": 1}.'
    )
    required_evidence = models.JSONField(
        help_text='Evidence kinds each action needs, e.g. {"validate": ["validation_report"]}.'
    )
    due_soon_days = models.PositiveIntegerField(default=30)
    notes = models.TextField(max_length=5000, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Policy v{self.version}"

    def months_for(self, tier: int) -> int:
        return int(self.revalidation_months[str(tier)])

    def approvals_for(self, tier: int) -> int:
        return int(self.approvals_required[str(tier)])

    def evidence_for(self, action: str) -> list[str]:
        return list(self.required_evidence.get(action, []))


class Signature(models.Model):
    """An electronic signature (21 CFR 11.50, 11.70): who, when (UTC), what it means, over which content.

    `content_hash` is the SHA-256 of the canonical signed payload (`payload`), which pins the version
    record and the hashes of the evidence it covered; verify() recomputes it from the database, so an
    edited record or a signature copied onto another record fails verification.
    """

    class Meaning(models.TextChoices):
        AUTHORED = "authored", "Authored"
        REVIEWED = "reviewed", "Reviewed"
        VALIDATED = "validated", "Validated"
        VALIDATED_WITH_CONDITIONS = "validated_with_conditions", "Validated with conditions"
        REJECTED = "rejected", "Rejected"
        APPROVED = "approved", "Approved for deployment"
        RISK_ACCEPTED = "risk_accepted", "Risk accepted"
        ATTESTED = "attested", "Annual attestation"

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    full_name_snapshot = models.CharField(max_length=300)
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=40, choices=Meaning.choices)
    comment = models.TextField(max_length=5000, blank=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    payload = models.JSONField()
    content_hash = models.CharField(max_length=64)
    policy = models.ForeignKey(GovernancePolicy, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="signature_object_idx")]

    def __str__(self) -> str:
        when = f"{self.signed_at:%Y-%m-%d %H:%M:%S}"
        return f"Signed by {self.full_name_snapshot} at {when} UTC: {self.get_meaning_display()}"


class VersionTransition(models.Model):
    """One lifecycle step of a model version, with who, when, why, and the policy in force."""

    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="transitions")
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=30)
    to_status = models.CharField(max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    comment = models.TextField(max_length=5000, blank=True)
    details = models.JSONField(default=dict, blank=True)
    signature = models.ForeignKey(Signature, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    policy = models.ForeignKey(GovernancePolicy, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.version}: {self.action} {self.from_status} -> {self.to_status}"


class PilotPlan(models.Model):
    """The limits of a phased deployment (the model gate enforces them in a later issue)."""

    version = models.OneToOneField("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="pilot")
    max_notional = models.DecimalField(max_digits=20, decimal_places=2)
    instruments = models.JSONField(default=list, blank=True)
    venues = models.JSONField(default=list, blank=True)
    end_date = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Pilot of {self.version} until {self.end_date}"


class Finding(models.Model):
    """A validation finding on a version (VAL-07): tracked until a validator closes it or compliance accepts it."""

    class Severity(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_REMEDIATION = "in_remediation", "In remediation"
        CLOSED = "closed", "Closed"
        RISK_ACCEPTED = "risk_accepted", "Risk accepted"

    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="findings")
    severity = models.CharField(max_length=10, choices=Severity.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=10000)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_findings")
    due_date = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(auto_now_add=True)
    remediation_note = models.TextField(max_length=10000, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    risk_acceptance = models.ForeignKey(Signature, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["status", "due_date", "id"]

    def __str__(self) -> str:
        return f"{self.get_severity_display()} finding: {self.title}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.IN_REMEDIATION)


class Notification(models.Model):
    """Something that waits on a person: an assignment, a signature request, an overdue item."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=500)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=200, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user}: {self.message}"


class Attestation(models.Model):
    """The yearly attestation a production model's owner signs (MiFID II RTS 6 Art. 9 style self-assessment)."""

    model = models.ForeignKey("models_registry.Model", on_delete=models.PROTECT, related_name="attestations")
    year = models.PositiveIntegerField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attestations")
    opened_at = models.DateTimeField(auto_now_add=True)
    due_date = models.DateField()
    statement = models.TextField(max_length=10000, blank=True)
    signature = models.ForeignKey(Signature, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-year", "model_id"]
        constraints = [models.UniqueConstraint(fields=["model", "year"], name="one_attestation_per_model_year")]

    def __str__(self) -> str:
        return f"{self.year} attestation of {self.model}"


class ModelRisk(models.Model):
    """An entry of a model's risk register: likelihood and impact (1-5) before and after mitigation."""

    class Kind(models.TextChoices):
        MODEL = "model", "Model risk"
        OPERATIONAL = "operational", "Operational risk"
        REGULATORY = "regulatory", "Regulatory risk"

    model = models.ForeignKey("models_registry.Model", on_delete=models.PROTECT, related_name="risks")
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
        ordering = ["-likelihood", "-impact", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def inherent_score(self) -> int:
        return self.likelihood * self.impact

    @property
    def residual_score(self) -> int:
        return self.residual_likelihood * self.residual_impact
