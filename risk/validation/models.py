"""Validation evidence. Files are stored through Django's storage API, hashed, and never executed."""

import uuid

from django.conf import settings
from django.db import models

from governance.core.models import Job, Signature


def evidence_path(instance, filename):
    # A random name on disk: the uploader's file name is kept as data, never trusted as a path.
    return f"evidence/{instance.version.model_id}/{instance.version_id}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    """A file attached to a model version: documents, datasets, validation reports, pilot results."""

    class Kind(models.TextChoices):
        DOCUMENTATION = "documentation", "Model documentation"
        DATASET = "dataset", "Dataset"
        BACKTEST = "backtest", "Backtest results"
        VALIDATION_REPORT = "validation_report", "Validation report"
        PILOT_RESULTS = "pilot_results", "Pilot results"
        TRIAL_RETURNS = "trial_returns", "Trial returns (one column per configuration tried)"
        # The model itself, which Vigil runs (confined, in the worker; never a pickle): model_runtime.py.
        MODEL_ONNX = "model_onnx", "Model (ONNX)"
        ATTRIBUTIONS = "attributions", "Feature attributions (SHAP values)"
        # Written by Vigil from what the live version reported (risk/monitoring/ongoing_validation.py).
        PRODUCTION_DATA = "production_data", "Production data (for a scheduled validation)"
        OTHER = "other", "Other"

    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    description = models.CharField(max_length=500, blank=True)
    file = models.FileField(upload_to=evidence_path, max_length=300)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"


class ValidationPlan(models.Model):
    """The tests a validator will run on a version, with pass / warn / fail thresholds (editable by them)."""

    version = models.OneToOneField(
        "models_registry.ModelVersion", on_delete=models.PROTECT, related_name="validation_plan"
    )
    template = models.CharField(max_length=30)
    tests = models.JSONField()
    options = models.JSONField(default=dict)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.template} plan for {self.version}"


class ValidationRun(models.Model):
    """One execution of a plan on an evidence dataset. Results are written once, all together, at the end."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        VALIDATION = "validation", "Validator's run"
        # The signed plan re-run by schedule on production data: evidence, never cited by a signature.
        ONGOING = "ongoing", "Ongoing (scheduled)"

    version = models.ForeignKey(
        "models_registry.ModelVersion", on_delete=models.PROTECT, related_name="validation_runs"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.VALIDATION, db_index=True)
    baseline = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="ongoing_runs",
        null=True,
        blank=True,
        help_text="For an ongoing run: the signed run whose plan it re-ran and whose outcomes it is compared with.",
    )
    dataset = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="+")
    reference = models.ForeignKey(
        Evidence, on_delete=models.PROTECT, related_name="+", null=True, blank=True, help_text="Training sample."
    )
    trial_returns = models.ForeignKey(Evidence, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    prediction_log = models.ForeignKey(
        Evidence,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The trading model's predictions, when its plan also tests it as a classifier or regressor.",
    )
    model = models.ForeignKey(
        Evidence,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The model as an ONNX file: Vigil runs it to re-perform the prediction log.",
    )
    attributions = models.ForeignKey(
        Evidence,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The developer's feature attributions (SHAP values) for the prediction log's rows.",
    )
    plan_snapshot = models.JSONField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    results = models.JSONField(default=list, blank=True)
    metrics = models.JSONField(
        default=list, blank=True, help_text="Every figure the run computed, headline figures first."
    )
    charts = models.JSONField(default=dict, blank=True)
    fingerprints = models.JSONField(default=list, blank=True, help_text="What each input file was: hash, rows.")
    report = models.OneToOneField(Evidence, on_delete=models.PROTECT, related_name="report_of", null=True, blank=True)
    error = models.TextField(blank=True)
    input_sha256 = models.CharField(max_length=64)
    attempts = models.PositiveIntegerField(default=0)
    job = models.OneToOneField(Job, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Validation run {self.pk} of {self.version}"


class Finding(models.Model):
    """A validation finding on a version (VAL-07): tracked until a validator closes it or compliance accepts it."""

    # The name the audit trail and signatures have always used for it (auditors filter on it).
    AUDIT_TYPE = "governance.finding"

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
    # Raised from a failed or warned test of a validation run: which run and which test (the sign-off counts it).
    run = models.ForeignKey(ValidationRun, null=True, blank=True, on_delete=models.PROTECT, related_name="findings")
    test = models.CharField(max_length=120, blank=True)
    # Raised by an ongoing run: the signed run where the same test passed.
    baseline_run = models.ForeignKey(ValidationRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
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
        db_table = "governance_finding"  # created by the governance app before the layers were split
        ordering = ["status", "due_date", "id"]

    def __str__(self) -> str:
        return f"{self.get_severity_display()} finding: {self.title}"

    ACTIVE = (Status.OPEN, Status.IN_REMEDIATION)

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.IN_REMEDIATION)


class OngoingCheck(models.Model):
    """The scheduled validation of a live version, as last checked by the daily sweep: when, what it did (a run
    started, or skipped and why). One row per version, kept current, so the model page says why no run exists."""

    version = models.OneToOneField("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    checked_on = models.DateField()
    run = models.ForeignKey(ValidationRun, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    skipped_reason = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"Scheduled validation of {self.version} checked on {self.checked_on}"
