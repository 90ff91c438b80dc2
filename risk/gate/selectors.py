"""Reads for the gate's pages and API, each scoped by the access rules (gate/access.py)."""

from governance.core import access
from governance.core.models import Desk
from models_registry import selectors as registry
from models_registry.models import Model, ModelVersion
from risk.gate import acknowledgements as acks
from risk.gate import decisions
from risk.gate.access import desks_acknowledged_by
from risk.gate.models import Acknowledgement, GateDecision, KillSwitch, KillSwitchTest


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


def card_acknowledgements(user, version) -> dict:
    """A visible version's card as the acknowledgement asks it: whether it is the current one, its hash now, the
    comprehension check (with the card's answers: the caller shows only the questions), who acknowledged it (through
    the access rules) and, when current, who the policy still asks."""
    model = version.model
    limitations, hash_ = acks.current_card(version)
    in_use = acks.version_in_use(model)
    current = in_use is not None and in_use.pk == version.pk
    given = access.restrict(Acknowledgement.objects.all(), user).filter(version=version, card_hash=hash_)
    return {
        "current": current,
        "card_hash": hash_,
        "questions": acks.questions(version, limitations, hash_),
        "acknowledgements": list(given.select_related("user")),
        "missing": acks.missing(model, version, hash_) if current else [],
    }


def cards_to_acknowledge(user) -> list[dict]:
    """The cards the gate waits for `user` to acknowledge, read from the gate's decisions (cached): each model of their
    desks they see whose `not_acknowledged` reason names them."""
    desks = desks_acknowledged_by(user)
    if not desks:
        return []
    models = list(access.restrict(Model.objects.filter(desk_id__in=desks), user).select_related("desk").order_by("key"))
    served = decisions.decisions_for(models)
    rows = []
    for model in models:
        for reason in served[model.pk].body["reasons"]:
            if reason["code"] == "not_acknowledged" and any(
                p["username"] == user.get_username() for p in reason["missing"]
            ):
                rows.append({"model": model, "version": reason["card_version"], "card_hash": reason["card_hash"]})
    return rows
