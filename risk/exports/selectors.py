"""Reads for the export pages: the models and versions a person may pick, through the access registry (a model out
of their scope is never offered, exactly as it is never exported)."""

from governance.core import access
from models_registry.choices import LifecycleStatus
from models_registry.models import ModelVersion
from models_registry.selectors import model_list
from risk.exports.supervisor_packs import ALGORITHMIC

# The pickers list at most this many entries (a browser's list, not a search): beyond it the key is still typed.
PICKER_LIMIT = 2000


def model_choices(user, *, algorithmic: bool = False) -> list[tuple[str, str]]:
    """(key, "name · desk") of the models `user` may see, by key; with `algorithmic`, trading models only."""
    models = model_list(user)
    if algorithmic:
        models = models.filter(purpose__in=ALGORITHMIC)
    rows = models.order_by("key").values_list("key", "name", "desk__name")[:PICKER_LIMIT]
    return [(key, f"{name} · {desk}") for key, name, desk in rows]


def version_choices(user) -> list[tuple[str, str]]:
    """(label, "model key label · status") of the versions `user` may see, by model key and newest first."""
    versions = access.restrict(ModelVersion.objects.filter(model__in=model_list(user)), user)
    rows = versions.order_by("model__key", "-created_at").values_list("version", "model__key", "status")
    return [(label, f"{key} {label} · {LifecycleStatus(status).label}") for label, key, status in rows[:PICKER_LIMIT]]
