"""The model risk register: risks by kind with likelihood x impact before and after mitigation."""

from django.db import transaction
from django.db.models import Max

from governance.core import access as perms
from governance.core.audit import audit_record, diff, snapshot
from models_registry.models import ModelRisk

FIELDS = [
    "kind",
    "title",
    "description",
    "likelihood",
    "impact",
    "mitigations",
    "residual_likelihood",
    "residual_impact",
    "owner",
    "next_review",
]


@transaction.atomic
def risk_add(actor, model, **fields) -> ModelRisk:
    """The model's team or compliance records a risk; validated field by field (400), audited."""
    perms.require(actor, perms.CHANGE, model)
    risk = ModelRisk(model=model, **fields)
    risk.full_clean()
    risk.save()
    audit_record(actor, "risk.add", model, changes={f"risk:{risk.title}": [None, snapshot(risk, FIELDS)]})
    return risk


@transaction.atomic
def risk_update(actor, risk, **fields) -> ModelRisk:
    risk = ModelRisk.objects.select_for_update().select_related("model").get(pk=risk.pk)
    perms.require(actor, perms.CHANGE, risk.model)
    before = snapshot(risk, FIELDS)
    for name, value in fields.items():
        if name in FIELDS:
            setattr(risk, name, value)
    risk.full_clean()
    risk.save()
    audit_record(
        actor,
        "risk.update",
        risk.model,
        changes={f"risk:{risk.title}": [before, snapshot(risk, FIELDS)]}
        if diff(before, snapshot(risk, FIELDS))
        else {},
    )
    return risk


def risk_summary(model) -> dict:
    """A model's inherent and residual risk: the worst likelihood x impact in its register."""
    risks = list(ModelRisk.objects.filter(model=model).select_related("owner"))
    return {
        "risks": risks,
        "inherent": max((r.inherent_score for r in risks), default=None),
        "residual": max((r.residual_score for r in risks), default=None),
        "next_review": ModelRisk.objects.filter(model=model).aggregate(d=Max("next_review"))["d"],
    }
