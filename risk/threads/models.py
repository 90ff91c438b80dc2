"""Review threads: a discussion on one governed record (a version, a validation run, a finding, an incident, a
monitor), its comments in Markdown, its mentions, resolved and reopened.

A thread is a governed record: never deleted, every comment and every change audited. A comment is never edited
once someone other than its author has read the thread after it was written (ThreadRead keeps when each person
last read it); a correction is a new comment. The record a thread is about is named by its kind and id (the
target registry in targets.py says how each kind is fetched and who sees it), with its model kept for scope,
lists and the challenge figures.
"""

from django.conf import settings
from django.db import models


class Thread(models.Model):
    AUDIT_TYPE = "threads.thread"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    target_kind = models.CharField(max_length=20)
    target_id = models.PositiveBigIntegerField()
    model = models.ForeignKey("models_registry.Model", on_delete=models.PROTECT, related_name="threads")
    version = models.ForeignKey(
        "models_registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="threads"
    )
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    challenge = models.BooleanField(
        default=False, help_text="Opened by a validator: only a validator (its opener or the model's) resolves it."
    )
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.PROTECT, related_name="raised_from_threads"
    )
    finding = models.ForeignKey(
        "risk.Finding", null=True, blank=True, on_delete=models.PROTECT, related_name="raised_from_threads"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["target_kind", "target_id"], name="thread_target_idx"),
            models.Index(fields=["model", "opened_at"], name="thread_model_idx"),
        ]

    def __str__(self) -> str:
        # No names of people or models: the audit trail keeps this text, and it is shown to readers of the trail.
        return f"{self.reference} on {self.target_kind.replace('_', ' ')} #{self.target_id}"

    @property
    def reference(self) -> str:
        return f"TH-{self.pk:05d}" if self.pk else "TH-new"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class Comment(models.Model):
    """One entry of a thread: a comment (Markdown), or its resolution or reopening (with an optional note)."""

    AUDIT_TYPE = "threads.comment"

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        RAISED = "raised", "Raised"  # written by Vigil when an incident or a finding is raised: never edited

    thread = models.ForeignKey(Thread, on_delete=models.PROTECT, related_name="comments")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COMMENT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=10000, blank=True)
    reply_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies")
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment #{self.pk} in TH-{self.thread_id:05d}"


class ThreadRead(models.Model):
    """When a person last read a thread: a comment is locked once another person has read it."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="thread_read_once_per_person")]
