"""Alerts: what Vigil tells people and trading-floor systems when a live model misbehaves or is stopped.

- Alert is one thing that happened (a monitor's warning or breach, an incident opened or escalated, a suspension,
  a kill-switch action), recorded once per source event, with who was told (in-app notifications) and the
  webhook deliveries it caused.
- AlertMute is a person's choice not to hear a kind (never a critical one, never a breach on their own model).
- WebhookEndpoint is a receiver (a desk's or the firm's incident tooling) with its signing secret; each
  WebhookDelivery is one alert to one receiver, and each WebhookAttempt one try at it, kept as evidence
  (MiFID II RTS 6 Art. 16 asks for real-time alerts; the attempts show when each one left).
"""

from django.conf import settings
from django.db import models

from governance.core import outbound


class Kind(models.TextChoices):
    MONITOR_WARN = "monitor_warn", "Monitor warning"
    MONITOR_BREACH = "monitor_breach", "Monitor breach"
    INCIDENT_OPENED = "incident_opened", "Incident opened"
    INCIDENT_ESCALATED = "incident_escalated", "Incident escalated"
    INCIDENT_CLOSED = "incident_closed", "Incident closed"
    MODEL_SUSPENDED = "model_suspended", "Model suspended"
    MODEL_ROLLED_BACK = "model_rolled_back", "Model rolled back"
    KILL_SWITCH_ENGAGED = "kill_switch_engaged", "Kill switch engaged"
    KILL_SWITCH_RELEASE_REQUESTED = "kill_switch_release_requested", "Kill-switch release requested"
    KILL_SWITCH_RELEASED = "kill_switch_released", "Kill switch released"
    KILL_SWITCH_TESTED = "kill_switch_tested", "Kill-switch test"
    SIGNING_LOCKED = "signing_locked", "Signing locked after wrong passwords"
    RISK_INDICATOR = "risk_indicator", "Key risk indicator changed status"
    CARD_ACKNOWLEDGEMENT = "card_acknowledgement", "Model card to acknowledge"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Alert(models.Model):
    AUDIT_TYPE = "alerts.alert"

    kind = models.CharField(max_length=40, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    title = models.CharField(max_length=300)
    message = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    model = models.ForeignKey(
        "models_registry.Model", null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    version = models.ForeignKey(
        "models_registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    desk = models.ForeignKey("governance.Desk", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=60, unique=True, help_text="The event it came from: recorded once.")
    subject = models.CharField(
        max_length=60, blank=True, help_text="What it is about (a monitor): repeats of the same kind are grouped."
    )
    occurred_at = models.DateTimeField(help_text="When the cause was recorded (the breach, the stop).")
    created_at = models.DateTimeField(auto_now_add=True)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["model", "-occurred_at"], name="alert_model_idx"),
            models.Index(fields=["-occurred_at", "-id"], name="alert_recent_idx"),
            models.Index(fields=["subject", "kind", "-occurred_at"], name="alert_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"

    @property
    def reference(self) -> str:
        return f"AL-{self.pk}"


class AlertMute(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_mutes")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="alert_mute_once")]


class WebhookEndpoint(models.Model):
    AUDIT_TYPE = "alerts.webhookendpoint"

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, help_text="Signs every delivery (HMAC-SHA256); shown once.")
    previous_secret = models.CharField(max_length=100, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    desk = models.ForeignKey(
        "governance.Desk",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Only alerts about this desk's models (and firm-wide ones); empty: every alert.",
    )
    kinds = models.JSONField(default=list, blank=True, help_text="The kinds it receives; empty: every kind.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    disabled_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    @property
    def display_url(self) -> str:
        """The URL as anyone is shown it (pages, API, audit trail): credentials and query values hidden."""
        return outbound.display_url(self.url)


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    alert = models.ForeignKey(Alert, on_delete=models.PROTECT, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A worker is sending it until then.")
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["alert", "endpoint"], name="webhook_delivery_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due_idx")]


class WebhookAttempt(models.Model):
    class Outcome(models.TextChoices):
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        REFUSED = "refused", "Refused"
        UNREACHABLE = "unreachable", "Unreachable"
        TIMED_OUT = "timed_out", "Timed out"
        NOT_ALLOWED = "not_allowed", "Not sent"
        INTERRUPTED = "interrupted", "Interrupted (worker lost)"

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.PROTECT, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.SENDING)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_once")]

    @property
    def duration_ms(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds() * 1000
