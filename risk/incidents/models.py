"""The incident log: what went wrong with a live model, who or what detected it, what it cost, and what was done.

An incident is a governed record: never deleted, every change audited, its timeline append-only. A monitor's
breach opens one, or adds to the one already open for that monitor (a partial unique index makes that hold
with any number of workers); anyone who may see the model reports one by hand, traders included.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Incident(models.Model):
    AUDIT_TYPE = "incidents.incident"

    class Severity(models.TextChoices):
        CRITICAL = "critical", "Critical"
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        INVESTIGATING = "investigating", "Investigating"
        MITIGATED = "mitigated", "Mitigated"
        CLOSED = "closed", "Closed"

    class Detection(models.TextChoices):
        MONITOR = "monitor", "A monitor"
        PERSON = "person", "A person"

    model = models.ForeignKey("models_registry.Model", on_delete=models.PROTECT, related_name="incidents")
    version = models.ForeignKey(
        "models_registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=10000)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.OPEN)
    detected_by = models.CharField(max_length=10, choices=Detection.choices)
    monitor = models.ForeignKey(
        "monitoring.Monitor", null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    impact_pnl = models.DecimalField(
        "P&L impact",
        max_digits=20,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="In the reporting currency; losses < 0.",
    )
    impact_trades = models.PositiveIntegerField("trades affected", null=True, blank=True)
    impact_clients = models.PositiveIntegerField("clients affected", null=True, blank=True)
    root_cause = models.TextField(max_length=10000, blank=True)
    corrective_actions = models.TextField(max_length=10000, blank=True)
    post_incident_review = models.TextField(max_length=20000, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closure_signature = models.ForeignKey(
        "governance.Signature", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    results = models.ManyToManyField("monitoring.MonitorResult", blank=True, related_name="incidents")
    findings = models.ManyToManyField("risk.Finding", blank=True, related_name="incidents")

    class Meta:
        constraints = [
            # A breach adds to the open incident of its monitor: never two open at once, whatever the workers.
            models.UniqueConstraint(
                fields=["monitor"],
                condition=Q(monitor__isnull=False) & ~Q(status="closed"),
                name="incident_one_open_per_monitor",
            )
        ]
        indexes = [models.Index(fields=["model", "status"], name="incident_model_status")]
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return f"INC-{self.pk:05d}" if self.pk else "INC-new"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


class IncidentEntry(models.Model):
    """One line of an incident's timeline, with its author (none: Vigil itself) and time. Never edited."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        DETECTION = "detection", "Detected again"
        NOTE = "note", "Note"
        STATUS = "status", "Status changed"
        SEVERITY = "severity", "Severity changed"
        IMPACT = "impact", "Impact assessed"
        ANALYSIS = "analysis", "Root cause or actions recorded"
        POLICY = "policy", "Policy action"
        ACTION = "action", "Corrective action"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    text = models.TextField(max_length=10000)
    result = models.ForeignKey(
        "monitoring.MonitorResult", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
