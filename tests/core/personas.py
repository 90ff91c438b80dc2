"""Personas beyond `world`'s, for the generated permission matrix (tests/core/test_permission_matrix.py).

- `validator_granted`: holds the validator role and sees `mine` through a hand grant from compliance, but is
  not its assigned validator (that is `validator`);
- `owner_other`: owns another model only; `world.owner2` already is that person, so it is an alias;
- `trader_other_desk`: a trader on `world.other_desk` (rates), where `theirs` trades and `mine` does not.

`build_personas(world)` answers every persona by name, `world`'s included.
"""

from models_registry import services
from tests.factories import UserFactory

WORLD_PERSONAS = (
    "developer",
    "developer2",
    "owner",
    "owner2",
    "validator",
    "validator2",
    "compliance",
    "auditor",
    "trader",
    "outsider",
    "admin",
)
EXTRA_PERSONAS = ("validator_granted", "trader_other_desk")
ALIASES = {"owner_other": "owner2"}


def build_personas(world) -> dict:
    validator_granted = UserFactory(username="validator_granted", roles=["validator"])
    services.model_grant_access(
        world.compliance, world.mine, validator_granted, reason="Peer review of the validation approach."
    )
    trader_other_desk = UserFactory(username="trader_other_desk", roles=["trader"], desk=world.other_desk)
    people = {name: getattr(world, name) for name in WORLD_PERSONAS}
    people.update(validator_granted=validator_granted, trader_other_desk=trader_other_desk)
    people.update({alias: people[name] for alias, name in ALIASES.items()})
    return people
