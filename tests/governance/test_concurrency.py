"""Two people act on the same version at the same moment: exactly one wins, the other gets 409."""

import threading

import pytest
from django.db import close_old_connections, connection

from governance.core.exceptions import Conflict
from governance.lifecycle import workflow
from governance.lifecycle.models import VersionTransition
from models_registry.models import ModelVersion
from tests.base import build_world
from tests.factories import UserFactory, token_for
from tests.governance.lifecycle_helpers import new_draft


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs real row locks (PostgreSQL)")
def test_it_lets_exactly_one_concurrent_transition_win():
    world = build_world()
    version = new_draft(world)
    workflow.version_transition(world.developer, version, "submit")
    # Two validators of the same model cannot exist, so race the validator against itself from two
    # sessions, and the owner's retire against the validator's start.
    second = UserFactory(username="validator-twin", roles=["validator"])
    assert second  # a bystander account, to show the lock is per row, not global
    barrier = threading.Barrier(2)
    outcomes = []

    def act(user, action, comment=""):
        close_old_connections()
        try:
            barrier.wait(timeout=10)
            workflow.version_transition(user, version, action, comment=comment)
            outcomes.append(("ok", action))
        except Conflict as exc:
            outcomes.append(("409", action, exc.reasons))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(world.validator, "start_validation")),
        threading.Thread(target=act, args=(world.validator, "start_validation")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(o[0] for o in outcomes) == ["409", "ok"], outcomes
    assert ModelVersion.objects.get(pk=version.pk).status == "in_validation"
    assert VersionTransition.objects.filter(version=version, action="start_validation").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs real row locks (PostgreSQL)")
def test_it_serialises_concurrent_requests_over_http(live_server):
    import requests

    world = build_world()
    version = new_draft(world)
    token = token_for(world.developer)
    url = f"{live_server.url}/api/v1/models/mine/versions/2.0/transitions/"
    barrier = threading.Barrier(4)
    codes = []

    def post():
        barrier.wait(timeout=10)
        codes.append(
            requests.post(
                url, json={"action": "submit"}, headers={"Authorization": f"Token {token}"}, timeout=30
            ).status_code
        )

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(codes) == [200, 409, 409, 409], codes
    assert VersionTransition.objects.filter(version=version, action="submit").count() == 1
