"""The model gate and the kill switch: what a trading system is told about a model, and the stops that block it.

- GateGeneration counts the changes to a model's decision inputs (and, under the key "all", the firm-wide
  ones), bumped inside the transaction of each change: a decision is cached under the counts it was computed
  from, so a change is never followed by a stale answer, whichever process serves the next request.
- GateDecision is the revision log: one row per distinct decision given for a model (a new revision when what
  the gate answers changes), kept forever.
- KillSwitch is one engagement (a model, a desk, or everything) with its signatures; KillSwitchSuspension the
  versions it suspended, so a release resumes exactly those; KillSwitchTest the periodic tests (RTS 6).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class GateGeneration(models.Model):
    """ "model:<id>" or "all": how many audited changes touched what the gate decides from."""

    key = models.CharField(max_length=40, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)


class GateDecision(models.Model):
    """One distinct decision for a model, as served (its body, and the ETag that is the hash of the body)."""

    model = models.ForeignKey("models_registry.Model", on_delete=models.PROTECT, related_name="gate_decisions")
    revision = models.PositiveIntegerField()
    allowed = models.BooleanField()
    body = models.JSONField(help_text="The decision as the API serves it.")
    etag = models.CharField(max_length=64, help_text="SHA-256 of the body's canonical JSON.")
    generation = models.CharField(max_length=60, help_text="The input counts it was computed from.")
    decided_at = models.DateTimeField()
    valid_until = models.DateTimeField(
        null=True, blank=True, help_text="A date it depends on (pilot end, validation due): recomputed after it."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "revision"], name="gate_decision_revision_once")]
        ordering = ["-revision"]

    def __str__(self) -> str:
        return f"{self.model_id} r{self.revision} {'allowed' if self.allowed else 'blocked'}"


class KillSwitch(models.Model):
    """One use of the kill switch: engaged with a signature, released with one (two for a firm-wide stop)."""

    AUDIT_TYPE = "gate.killswitch"

    class Scope(models.TextChoices):
        MODEL = "model", "One model"
        DESK = "desk", "Every model of a desk"
        ALL = "all", "Every model"

    scope = models.CharField(max_length=10, choices=Scope.choices)
    scope_key = models.CharField(max_length=160, help_text='"all", "desk:<code>" or "model:<key>".')
    model = models.ForeignKey(
        "models_registry.Model", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    desk = models.ForeignKey("governance.Desk", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(max_length=5000)
    engaged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    engaged_at = models.DateTimeField()
    engage_signature = models.ForeignKey(
        "governance.Signature",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Set in the transaction that engages it (the signature names the engagement).",
    )
    release_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    release_requested_at = models.DateTimeField(null=True, blank=True)
    release_request_signature = models.ForeignKey(
        "governance.Signature", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_signature = models.ForeignKey(
        "governance.Signature", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    release_reason = models.TextField(max_length=5000, blank=True)

    class Meta:
        constraints = [
            # One engagement of a scope at a time: a second press is refused with the first one's details.
            models.UniqueConstraint(
                fields=["scope_key"], condition=Q(released_at__isnull=True), name="gate_killswitch_one_active"
            )
        ]
        indexes = [models.Index(fields=["released_at", "scope_key"], name="gate_killswitch_active")]
        ordering = ["-engaged_at", "-id"]

    def __str__(self) -> str:
        return f"Kill switch {self.scope_label}"

    @property
    def active(self) -> bool:
        return self.released_at is None

    @property
    def scope_label(self) -> str:
        if self.scope == self.Scope.ALL:
            return "for every model"
        if self.scope == self.Scope.DESK:
            return f"for desk {self.desk.name if self.desk_id else self.scope_key}"
        return f"for model {self.model.key if self.model_id else self.scope_key}"


class KillSwitchSuspension(models.Model):
    """A version the engagement suspended (a lifecycle step), so its release resumes exactly those."""

    engagement = models.ForeignKey(KillSwitch, on_delete=models.PROTECT, related_name="suspensions")
    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    suspended_from = models.CharField(max_length=30)
    resumed = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["engagement", "version"], name="gate_killswitch_suspension_once")
        ]


class KillSwitchTest(models.Model):
    """A test of the kill functionality (RTS 6 Art. 12 expects it tested): the block is engaged for every model
    inside a transaction that is then rolled back, and each model's gate decision is read through the same code
    that answers trading systems. Kept as evidence."""

    AUDIT_TYPE = "gate.killswitchtest"

    run_at = models.DateTimeField()
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    models_checked = models.PositiveIntegerField()
    allowed_before = models.PositiveIntegerField(help_text="Models the gate allowed before the test block.")
    blocked_during = models.PositiveIntegerField(help_text="Of those, how many the gate blocked during it.")
    passed = models.BooleanField()
    duration_ms = models.FloatField(help_text="From engaging the block to the last decision read.")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-run_at", "-id"]

    def __str__(self) -> str:
        return f"Kill-switch test {self.run_at:%Y-%m-%d %H:%M} {'passed' if self.passed else 'FAILED'}"


class Acknowledgement(models.Model):
    """A person's signed acknowledgement of a model card (issue 24): the card's hash, the answers of the comprehension
    check they passed, and the signature over both. It counts at the gate while the card's hash is the current one
    of the model's live version (risk/gate/acknowledgements.py); a new card asks again and this one stops counting."""

    AUDIT_TYPE = "gate.acknowledgement"

    class As(models.TextChoices):
        TRADER = "traders", "Trader of the desk"
        DESK_HEAD = "desk_head", "Head of the desk"

    model = models.ForeignKey("models_registry.Model", on_delete=models.PROTECT, related_name="acknowledgements")
    version = models.ForeignKey("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    desk = models.ForeignKey("governance.Desk", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="acknowledgements")
    parts = models.JSONField(help_text='What they acknowledged as: ["traders"], ["desk_head"] or both.')
    card_hash = models.CharField(max_length=64)
    answers = models.JSONField(help_text="The comprehension check: each question, its answer and the card's.")
    acknowledged_at = models.DateTimeField()
    signature = models.ForeignKey("governance.Signature", null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "version", "card_hash"], name="gate_acknowledgement_once")
        ]
        indexes = [models.Index(fields=["model", "card_hash"], name="gate_ack_model_hash")]
        ordering = ["-acknowledged_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} acknowledged the card of {self.model_id} ({self.card_hash[:12]})"

    @property
    def parts_text(self) -> str:
        """ "Trader of the desk", "Head of the desk" or both: how pages say what they acknowledged as."""
        labels = dict(self.As.choices)
        return ", ".join(labels.get(part, part) for part in self.parts or [])
