"""Skills kept current (issue 24): what each duty must have completed, and who completed what, when.

Compliance defines a `Requirement` per duty (trader, validator, kill-switch holder, compliance) and scope (any
model, a model type, one model): a training, a reading of the card or a certification, and how many months it
holds. A `Completion` records that a person completed one, on a day, with its evidence; compliance records it
(people never certify themselves). Both are governed records: never deleted (a requirement is retired), every
change audited. A completion holds from `completed_on` until `expires_on` (exclusive): on that day it has lapsed.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from models_registry.choices import ModelType


class Duty(models.TextChoices):
    TRADER = "trader", "Trader"
    VALIDATOR = "validator", "Validator"
    KILL_SWITCH = "kill_switch", "Kill-switch holder"
    COMPLIANCE = "compliance", "Compliance officer"


class Requirement(models.Model):
    AUDIT_TYPE = "skills.requirement"

    class Scope(models.TextChoices):
        ANY = "any", "Any model"
        MODEL_TYPE = "model_type", "A model type"
        MODEL = "model", "One model"

    class Kind(models.TextChoices):
        TRAINING = "training", "Training"
        CARD_READING = "card_reading", "Reading of the model card"
        CERTIFICATION = "certification", "Certification"

    duty = models.CharField(max_length=20, choices=Duty.choices)
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.ANY)
    model_type = models.CharField(max_length=30, choices=ModelType.choices, blank=True)
    model = models.ForeignKey(
        "models_registry.Model", null=True, blank=True, on_delete=models.PROTECT, related_name="skill_requirements"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    validity_months = models.PositiveSmallIntegerField(
        "valid for (months)", validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["duty", "title", "id"]
        constraints = [
            models.CheckConstraint(
                name="skills_requirement_scope_fits",
                condition=(Q(scope="any", model_type="", model__isnull=True))
                | (Q(scope="model_type", model__isnull=True) & ~Q(model_type=""))
                | Q(scope="model", model_type="", model__isnull=False),
            ),
            models.CheckConstraint(
                name="skills_requirement_validity_range", condition=Q(validity_months__gte=1, validity_months__lte=120)
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def scope_text(self) -> str:
        if self.scope == self.Scope.MODEL_TYPE:
            return f"{self.get_model_type_display()} models"
        if self.scope == self.Scope.MODEL:
            return self.model.key
        return "any model"


class Completion(models.Model):
    AUDIT_TYPE = "skills.completion"

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="skill_completions")
    requirement = models.ForeignKey(Requirement, on_delete=models.PROTECT, related_name="completions")
    completed_on = models.DateField()
    expires_on = models.DateField(help_text="The day it has lapsed: completed on + the requirement's validity.")
    evidence = models.CharField(
        "evidence reference or note", max_length=500, help_text="A certificate number, an attendance list, a note."
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_on", "-id"]
        indexes = [models.Index(fields=["person", "requirement", "expires_on"])]
        constraints = [
            models.CheckConstraint(
                name="skills_completion_expires_after", condition=Q(expires_on__gt=models.F("completed_on"))
            )
        ]

    def __str__(self) -> str:
        return f"{self.requirement.title}, completed {self.completed_on:%Y-%m-%d}"
