"""Reads of the model inventory, always filtered to what the user may see (governance.permissions)."""

from collections import deque

from django.db.models import Prefetch, QuerySet

from governance.core import access as perms
from models_registry.choices import DataUsage
from models_registry.models import DataSource, Model, ModelAccessGrant, ModelDependency, ModelVersion, VersionDataSource


def model_list(user) -> QuerySet:
    """Visible models with what a list row shows: one query for the count and one for the page."""
    return perms.restrict(Model.objects.all(), user).select_related("desk", "owner", "validator")


def model_get_for_user(user, key: str) -> Model:
    return perms.get_for_user(Model.objects.select_related("desk", "owner", "validator", "created_by"), user, key=key)


def version_list(user, model: Model) -> QuerySet:
    return perms.restrict(ModelVersion.objects.filter(model=model), user).select_related("created_by", "model")


def version_get_for_user(user, model: Model, version: str) -> ModelVersion:
    qs = (
        ModelVersion.objects.filter(model=model)
        .select_related("model", "created_by")
        .prefetch_related(Prefetch("data_links", queryset=VersionDataSource.objects.select_related("data_source")))
    )
    return perms.get_for_user(qs, user, version=version)


def version_sources(user, version: ModelVersion) -> dict[str, list]:
    """Data sources of a version by usage: those the user may see, and a placeholder (never the name) for each
    they may not, so the page does not pretend the version uses none."""
    visible = set(perms.restrict(DataSource.objects.all(), user).values_list("pk", flat=True))
    links = (
        VersionDataSource.objects.filter(version=version).select_related("data_source").order_by("data_source__name")
    )
    out = {DataUsage.TRAINING: [], DataUsage.INFERENCE: [], "hidden_training": 0, "hidden_inference": 0}
    for link in links:
        if link.data_source_id in visible:
            out[link.usage].append(link.data_source)
        else:
            out[f"hidden_{link.usage}"] += 1
    return out


def upstream_models(user, model: Model) -> QuerySet:
    return perms.restrict(Model.objects.filter(downstream_links__downstream=model), user).select_related("desk")


def downstream_models(user, model: Model) -> QuerySet:
    return perms.restrict(Model.objects.filter(upstream_links__upstream=model), user).select_related("desk")


def impact_of_model(user, model: Model, limit: int = 500) -> list[Model]:
    """Every model that depends on `model` directly or transitively: what breaks if it fails.

    Breadth-first, one query per level; only models the user may see are returned, but the walk goes
    through all of them so that a hidden intermediate model does not hide a visible consumer.
    """
    seen: set[int] = {model.pk}
    frontier = deque([model.pk])
    order: list[int] = []
    while frontier and len(order) < limit:
        level = list(frontier)
        frontier.clear()
        for pk in ModelDependency.objects.filter(upstream_id__in=level).values_list("downstream_id", flat=True):
            if pk not in seen:
                seen.add(pk)
                order.append(pk)
                frontier.append(pk)
    visible = {m.pk: m for m in perms.restrict(Model.objects.filter(pk__in=order), user).select_related("desk")}
    return [visible[pk] for pk in order if pk in visible]


def model_access_grants(model: Model) -> QuerySet:
    return ModelAccessGrant.objects.filter(model=model).select_related("user", "granted_by", "revoked_by")


def data_source_list(user) -> QuerySet:
    return perms.restrict(DataSource.objects.all(), user).select_related("owner")


def data_source_get_for_user(user, pk: int) -> DataSource:
    return perms.get_for_user(DataSource.objects.select_related("owner", "created_by"), user, pk=pk)


def models_using_data_source(user, source: DataSource) -> QuerySet:
    """Visible models with a version that reads this source: what breaks if the feed fails."""
    return (
        perms.restrict(Model.objects.all(), user)
        .filter(versions__data_links__data_source=source)
        .distinct()
        .select_related("desk")
    )
