"""Exports auditors and supervisors take away: each request is a job, its file hashed and kept until it expires
(the record stays for the audit trail); and the keys that sign packs, public halves kept for ever so an old pack
stays verifiable after a rotation."""

import datetime as dt

from django.conf import settings
from django.db import models


class Export(models.Model):
    AUDIT_TYPE = "exports.export"

    class Kind(models.TextChoices):
        EVIDENCE_PACK = "evidence_pack", "Evidence pack"
        INVENTORY = "inventory", "Inventory"
        AUDIT_LOG = "audit_log", "Audit log"
        MIFID_17_2 = "mifid_17_2", "MiFID II Art. 17(2) pack"
        RTS6_SELF_ASSESSMENT = "rts6_self_assessment", "RTS 6 Art. 9 self-assessment"
        MRM_REPORT = "mrm_report", "Model risk board pack"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    params = models.JSONField(default=dict, blank=True, help_text="The scope asked for, as checked.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    job = models.OneToOneField("governance.Job", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    file = models.CharField(max_length=300, blank=True, help_text="Where the file is kept (storage name).")
    file_name = models.CharField(max_length=200, blank=True, help_text="The name it downloads under.")
    content_type = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    rows = models.PositiveBigIntegerField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True, help_text="What the export found (e.g. the chain check).")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True, help_text="When the expired file was removed.")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["requested_by", "-id"], name="export_mine_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} export {self.pk}"

    @property
    def reference(self) -> str:
        return f"EXP-{self.pk:05d}"


class SigningKey(models.Model):
    """The public half of a key Vigil signs packs with; the private half is in settings, never in the database."""

    public_key = models.TextField(help_text="OpenSSH form: ssh-ed25519 AAAA... comment")
    fingerprint = models.CharField(max_length=80, unique=True)
    first_used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-first_used_at"]


class SelfAssessment(models.Model):
    """The RTS 6 Art. 9 annual self-assessment of a year: its figures frozen when compliance prepared it, the
    conclusion, and the two sign-offs it needs (compliance, then a senior manager; two different people)."""

    AUDIT_TYPE = "exports.selfassessment"

    year = models.PositiveIntegerField(unique=True)
    figures = models.JSONField(help_text="The year's facts as prepared (supervisor_packs.rts6_figures).")
    figures_sha256 = models.CharField(max_length=64)
    conclusion = models.TextField(max_length=20000)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField()
    compliance_signature = models.ForeignKey(
        "governance.Signature", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    senior_signature = models.ForeignKey(
        "governance.Signature", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-year"]

    def __str__(self) -> str:
        return f"RTS 6 self-assessment {self.year}"

    @property
    def prepared_before_year_end(self) -> bool:
        """Prepared while the year was still running: its figures stop at the preparation, not at 31 December."""
        return self.prepared_at is not None and self.prepared_at < dt.datetime(self.year + 1, 1, 1, tzinfo=dt.UTC)

    @property
    def signed_off(self) -> bool:
        return bool(self.compliance_signature_id and self.senior_signature_id)
