"""Reads for the gate's pages and API, each scoped by the access rules (gate/access.py)."""

from governance.core import access
from governance.core.models import Desk
from models_registry import selectors as registry
from models_registry.models import Model, ModelVersion
from risk.gate.models import GateDecision, KillSwitch, KillSwitchTest


def desk_models(user, desk: Desk):
    """The desk's models the reader sees, in key order (one query; the desk is joined for the decision)."""
    return access.restrict(Model.objects.filter(desk=desk), user).select_related("desk").order_by("key")


def revisions(model, limit: int = 10) -> list[GateDecision]:
    return list(GateDecision.objects.filter(model=model).order_by("-revision")[:limit])


def engagement_list(user):
    return access.restrict(KillSwitch.objects.all(), user).select_related(
        "model", "desk", "engaged_by", "release_requested_by", "released_by"
    )


def engagement_get_for_user(user, pk) -> KillSwitch:
    return access.get_for_user(engagement_list(user), user, pk=pk)


def test_list(user):
    return access.restrict(KillSwitchTest.objects.all(), user).select_related("run_by")


def test_get_for_user(user, pk) -> KillSwitchTest:
    return access.get_for_user(test_list(user), user, pk=pk)


def version_for_card(user, model_key: str, label: str) -> ModelVersion:
    """A version the reader may see, with its model, desk and people (one query after the scope's): 404 otherwise,
    as for an absent one. A trader sees the tradeable versions of their desk's models."""
    model = registry.model_get_for_user(user, model_key)
    versions = ModelVersion.objects.filter(model=model).select_related(
        "model__desk", "model__owner", "model__validator"
    )
    return access.get_for_user(versions, user, version=label)
