"""Core models: reference data (desks), user profiles, the audit trail, the policy, signatures, notifications."""

from django.conf import settings
from django.db import models


class Desk(models.Model):
    """A trading desk or business line. Models belong to one; traders see models of their own desk."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120, unique=True)
    business_line = models.CharField(max_length=120, blank=True)
    # Whose acknowledgement of a model card the governance policy may ask besides the desk's traders
    # (risk/gate/acknowledgements.py); changed through the audited admin.
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="desks_headed",
        help_text="The desk's head, asked to acknowledge model cards when the policy says so.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserProfile(models.Model):
    """What Vigil needs to know about a person beyond Django's user: their desk and printed name."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="profile")
    desk = models.ForeignKey(Desk, null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    title = models.CharField(max_length=120, blank=True)
    # An auditor's access window (governance/core/access_window.py): outside it they sign in to nothing and
    # their tokens are refused. Empty ends mean no limit on that side.
    access_from = models.DateTimeField(null=True, blank=True)
    access_until = models.DateTimeField(null=True, blank=True)
    senior_manager = models.BooleanField(
        default=False,
        help_text="Holds a senior management function: signs the RTS 6 annual self-assessment with compliance.",
    )

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
        indexes = [
            models.Index(fields=["object_type", "object_id", "id"], name="audit_object_idx"),
            # What changed after a moment, by type: a dashboard of a past day (governance/core/history.py).
            models.Index(fields=["object_type", "timestamp"], name="audit_type_time_idx"),
        ]

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


def default_incident_response() -> dict:
    """What incidents set off by themselves, by tier: tier 1 models stop on a high incident, others on critical."""
    return {
        "suspend": {"1": ["critical", "high"], "2": ["critical"], "3": ["critical"]},
        "revalidation": {"1": ["critical", "high"], "2": ["critical", "high"], "3": ["critical"]},
    }


def default_acknowledgement_required() -> dict:
    """Whose acknowledgement of a model's card the gate waits for, by tier: "traders" (each trader of the model's
    desk) and/or "desk_head". Vigil's defaults ask nobody."""
    return {"1": [], "2": [], "3": []}


def default_ongoing_validation_months() -> dict:
    """Months between scheduled re-runs of a live version's signed validation plan on production data, by tier
    (0: none)."""
    return {"1": 1, "2": 3, "3": 0}


def default_ongoing_regression_revalidation() -> dict:
    """By tier, whether a test that passed at sign-off and fails on production data raises "revalidation
    required"."""
    return {"1": True, "2": True, "3": False}


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
    incident_response = models.JSONField(
        default=default_incident_response,
        help_text='By tier, the incident severities that suspend a live version automatically ("suspend") and that '
        'raise "revalidation required" ("revalidation").',
    )
    second_factor_required = models.JSONField(
        default=list,
        blank=True,
        help_text="The roles whose holders must have an authenticator (a confirmed TOTP device) to sign, e.g. "
        '["compliance", "validator"]; they are asked to enrol at login.',
    )
    risk_indicators = models.JSONField(
        default=dict,
        blank=True,
        help_text='Thresholds of the key risk indicators, e.g. {"tier1-overdue": {"amber": 1, "red": 2}}; an '
        "indicator it does not name keeps Vigil's default.",
    )
    ongoing_validation_months = models.JSONField(
        default=default_ongoing_validation_months,
        help_text="Months between scheduled validations of a live version on production data, by tier (0: none), "
        'e.g. {"1": 1, "2": 3, "3": 0}.',
    )
    ongoing_regression_revalidation = models.JSONField(
        default=default_ongoing_regression_revalidation,
        help_text="By tier, whether a test that passed at sign-off and fails on production data raises "
        '"revalidation required", e.g. {"1": true, "2": true, "3": false}.',
    )
    acknowledgement_required = models.JSONField(
        default=default_acknowledgement_required,
        help_text='By tier, who must acknowledge a model\'s card before the gate allows it: "traders" (each trader of '
        'the desk) and/or "desk_head", e.g. {"1": ["traders", "desk_head"], "2": ["traders"], "3": []}.',
    )
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

    def ongoing_months_for(self, tier: int) -> int:
        return int(self.ongoing_validation_months.get(str(tier), 0))

    def regression_requires_revalidation(self, tier: int) -> bool:
        return bool(self.ongoing_regression_revalidation.get(str(tier), False))

    def incident_suspends(self, tier: int, severity: str) -> bool:
        return severity in self.incident_response.get("suspend", {}).get(str(tier), [])

    def incident_requires_revalidation(self, tier: int, severity: str) -> bool:
        return severity in self.incident_response.get("revalidation", {}).get(str(tier), [])

    def acknowledgements_for(self, tier: int) -> list[str]:
        return list((self.acknowledgement_required or {}).get(str(tier), []))

    def evidence_for(self, action: str) -> list[str]:
        return list(self.required_evidence.get(action, []))

    def second_factor_roles(self, roles) -> list[str]:
        """Those of `roles` whose holders must sign with a second factor under this policy."""
        return sorted(set(roles) & set(self.second_factor_required or []))


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
        APPROVED_FOR_PRODUCTION = "approved_for_production", "Approved for production"
        RISK_ACCEPTED = "risk_accepted", "Risk accepted"
        ATTESTED = "attested", "Annual attestation"
        KILL_SWITCH_ENGAGED = "kill_switch_engaged", "Kill switch engaged"
        KILL_SWITCH_RELEASE_REQUESTED = "kill_switch_release_requested", "Kill switch release requested"
        KILL_SWITCH_RELEASED = "kill_switch_released", "Kill switch released"
        INCIDENT_CLOSED = "incident_closed", "Incident closed"
        SUSPENDED_BY_POLICY = "suspended_by_policy", "Suspended by the incident policy"
        RESUMED = "resumed", "Resumed after suspension"
        CARD_ACKNOWLEDGED = "card_acknowledged", "Model card acknowledged"
        SELF_ASSESSMENT_COMPLIANCE = "self_assessment_compliance", "RTS 6 self-assessment: compliance sign-off"
        SELF_ASSESSMENT_SENIOR = "self_assessment_senior_manager", "RTS 6 self-assessment: senior management sign-off"

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


class SigningThrottle(models.Model):
    """Wrong answers at signing, per person (governance/core/signing_lock.py): the failures counted in the current
    window and, once they reach the limit, the time until which every signature of theirs is refused. A row in
    the database, not a cache entry, so every web process and worker refuses alike."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.PROTECT, related_name="signing_throttle"
    )
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Signing throttle of {self.user_id}"


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


class Event(models.Model):
    """The outbox: an effect that leaves the transaction (a notification, an e-mail, later a webhook).

    Written in the same transaction as the change that causes it, so a rolled-back action leaves no event;
    delivered after commit by a worker (governance.core.events), so a crashed worker or a broker that was
    down at commit loses nothing: the periodic sweep delivers what is still pending.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "id"], name="event_pending_idx")]

    def __str__(self) -> str:
        return f"{self.kind} event {self.pk} ({self.status})"


class Job(models.Model):
    """One piece of background work of any kind (a validation run, later a monitor run, an alert delivery, an
    export): who asked, on what, its status and progress, its attempts, its error, its timings.

    Claimed by a conditional UPDATE (governance.core.jobs), so of two workers handed the same job one runs it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=60)
    subject_type = models.CharField(max_length=60, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # While running: until when its worker holds it. The worker renews it; once it passes, the worker is taken
    # for lost and beat's recovery queues the job again (governance.core.jobs.recover_lost).
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["kind", "status"], name="job_kind_status_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="job_subject_idx"),
            models.Index(fields=["status", "lease_expires_at"], name="job_lease_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"


class ApiToken(models.Model):
    """An API token of a person or a service account (governance/core/api_tokens.py). Only the SHA-256 of the
    secret is kept: the secret is shown once, when issued. A person's token expires (VIGIL_API_TOKEN_LIFETIME_HOURS);
    a service account's lives until compliance rotates or revokes it. Revoked tokens stay, with why, for the record."""

    class Revocation(models.TextChoices):
        REVOKED = "revoked", "Revoked by its holder"
        SIGNED_OUT = "signed_out", "Signed out everywhere"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        DEACTIVATED = "deactivated", "Account deactivated"
        ROTATED = "rotated", "Replaced by a new token"
        ACCOUNT_REVOKED = "account_revoked", "Service account revoked"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the secret, in hexadecimal.")
    prefix = models.CharField(max_length=12, help_text="The secret's first characters: how its holder recognises it.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until revoked (service accounts).")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, choices=Revocation.choices, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="api_token_user_live_idx")]

    def __str__(self) -> str:
        return f"API token {self.prefix}… of {self.user}"


class WebSession(models.Model):
    """A signed-in browser session of a person, so that "sign out everywhere" can end each one whatever the session
    backend (recorded on login, forgotten on logout)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="web_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Web session of {self.user} since {self.started_at:%Y-%m-%d %H:%M}"
