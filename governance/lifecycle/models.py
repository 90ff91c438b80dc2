"""Lifecycle records: each step of a version's life, its pilot limits, and the yearly attestations."""

from django.conf import settings
from django.db import models

from governance.core.models import GovernancePolicy, Signature


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
        db_table = "governance_versiontransition"  # created by the governance app before the layers were split
        ordering = ["at", "id"]
        # A version's first step into a status (submission to production's lookups, two per version on the
        # overview) is one probe of this index instead of a sort of all the version's steps.
        indexes = [models.Index(fields=["version", "to_status", "at", "id"], name="transition_version_to_at_idx")]

    def __str__(self) -> str:
        return f"{self.version}: {self.action} {self.from_status} -> {self.to_status}"


class StageStay(models.Model):
    """A stay of a version in a lifecycle stage, ended by the transition out of it (its `id`): read-only, a database
    view over the transitions (migration 0002), so it is right however a transition was written or edited.

    The stay began at the latest earlier transition into the stage that changed the version's status (`entered_at`;
    None for the stage a version was registered in). The view finds it from each transition's predecessor in one
    window over each version's transitions, not one lookup per transition: the time-in-stage widget's cost (issue
    22)."""

    version = models.ForeignKey(
        "models_registry.ModelVersion", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    from_status = models.CharField(max_length=30)
    to_status = models.CharField(max_length=30)
    at = models.DateTimeField()
    entered_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "lifecycle_stagestay"

    def __str__(self) -> str:
        return f"{self.version}: {self.from_status} until {self.at:%Y-%m-%d}"


class PilotPlan(models.Model):
    """The limits of a phased deployment (the model gate enforces them in a later issue)."""

    version = models.OneToOneField("models_registry.ModelVersion", on_delete=models.PROTECT, related_name="pilot")
    max_notional = models.DecimalField(max_digits=20, decimal_places=2)
    instruments = models.JSONField(default=list, blank=True)
    venues = models.JSONField(default=list, blank=True)
    end_date = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "governance_pilotplan"  # created by the governance app before the layers were split

    def __str__(self) -> str:
        return f"Pilot of {self.version} until {self.end_date}"


class Attestation(models.Model):
    """The yearly attestation a production model's owner signs (MiFID II RTS 6 Art. 9 style self-assessment)."""

    # The name the audit trail and signatures have always used for it (auditors filter on it).
    AUDIT_TYPE = "governance.attestation"

    model = models.ForeignKey("models_registry.Model", on_delete=models.PROTECT, related_name="attestations")
    year = models.PositiveIntegerField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attestations")
    opened_at = models.DateTimeField(auto_now_add=True)
    due_date = models.DateField()
    statement = models.TextField(max_length=10000, blank=True)
    signature = models.ForeignKey(Signature, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "governance_attestation"  # created by the governance app before the layers were split
        ordering = ["-year", "model_id"]
        constraints = [models.UniqueConstraint(fields=["model", "year"], name="one_attestation_per_model_year")]

    def __str__(self) -> str:
        return f"{self.year} attestation of {self.model}"
