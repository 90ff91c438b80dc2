"""Governance core models: organisational reference data, user profiles and the audit trail."""

from django.conf import settings
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
