"""Personas: one person per role, plus a second developer and an outsider (no role).

`world` builds a small firm in which every persona has objects in and out of scope:
- `mine`: developed by developer, owned by owner, validated by validator, on the trader's desk, in production;
- `theirs`: developed by developer2, owned by owner2, validated by validator2, on another desk, in production;
- `draft_on_desk`: on the trader's desk but still a draft (traders must not see it).
"""

from dataclasses import dataclass

import pytest

from tests.factories import DeskFactory, UserFactory, make_data_source, make_model, make_version
from tests.snapshots import snapshot


@dataclass
class World:
    developer: object
    developer2: object
    owner: object
    owner2: object
    validator: object
    validator2: object
    compliance: object
    auditor: object
    trader: object
    outsider: object
    admin: object
    desk: object
    other_desk: object
    mine: object
    theirs: object
    draft_on_desk: object
    mine_v1: object
    theirs_v1: object
    public_source: object
    restricted_source: object


def build_world() -> World:
    desk, other = DeskFactory(code="sys-eq", name="Systematic Equities"), DeskFactory(code="rates", name="Rates")
    u = {
        name: UserFactory(username=name, roles=[role])
        for name, role in [
            ("developer", "developer"),
            ("developer2", "developer"),
            ("owner", "owner"),
            ("owner2", "owner"),
            ("validator", "validator"),
            ("validator2", "validator"),
            ("compliance", "compliance"),
            ("auditor", "auditor"),
        ]
    }
    u["trader"] = UserFactory(username="trader", roles=["trader"], desk=desk)
    u["outsider"] = UserFactory(username="outsider")
    admin = UserFactory(username="admin")
    admin.is_superuser = admin.is_staff = True
    admin.save()
    c = u["compliance"]
    mine = make_model(c, key="mine", owner=u["owner"], developers=[u["developer"]], validator=u["validator"], desk=desk)
    theirs = make_model(
        c, key="theirs", owner=u["owner2"], developers=[u["developer2"]], validator=u["validator2"], desk=other
    )
    draft = make_model(c, key="draft-on-desk", owner=u["owner"], developers=[u["developer"]], desk=desk)
    mine_v1 = make_version(u["developer"], mine, label="1.0", status="production")
    theirs_v1 = make_version(u["developer2"], theirs, label="1.0", status="production")
    for model in (mine, theirs):
        model.refresh_from_db()  # its status followed its version's into production
    public = make_data_source(c, name="Public feed", owner=u["owner"])
    restricted = make_data_source(c, name="Card panel", classification="restricted", owner=u["owner2"])
    return World(
        **u,
        admin=admin,
        desk=desk,
        other_desk=other,
        mine=mine,
        theirs=theirs,
        draft_on_desk=draft,
        mine_v1=mine_v1,
        theirs_v1=theirs_v1,
        public_source=public,
        restricted_source=restricted,
    )


@pytest.fixture
def world(db, request) -> World:
    """The firm above: built by the first test that asks, its rows restored for every later one."""
    return snapshot("world", build_world, request)
