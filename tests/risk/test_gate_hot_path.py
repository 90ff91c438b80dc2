"""The gate's hot path (risk/gate/hot_path.py): a cached answer costs one query after authentication, and every
change to who may read a model is refused from the very next request, never served from what was remembered.

Each change test first asks twice (the second answer comes from the remembered check), then changes one thing the
way the product or an administrator does, and asks again.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.http import Http404
from django.utils import timezone
from rest_framework.test import APIClient

from governance.core import access, api_tokens
from governance.core.models import ApiToken
from governance.core.roles import user_roles
from governance.lifecycle import workflow
from models_registry import service_accounts
from models_registry.models import ModelGroupObjectPermission, ModelUserObjectPermission
from models_registry.services import model_grant_access, model_revoke_access, model_update
from risk.gate import hot_path
from tests.factories import make_model, make_version, token_for

GATE = "/api/v1/gate/{}/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return client


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def status(client, key: str = "mine", **headers) -> int:
    return client.get(GATE.format(key), **headers).status_code


def remembered(user, key: str = "mine") -> bool:
    return cache.get(hot_path._cache_key(user.pk, key)) is not None


def warm(client, user, key: str = "mine") -> None:
    """Two answers, the second from what the first remembered."""
    assert status(client, key) == 200
    assert remembered(user, key)
    assert status(client, key) == 200


def desk_account(world, desk):
    account, token = service_accounts.service_account_create(
        world.compliance, name=f"{desk.code} trading system", desk=desk
    )
    return account, client_with(token)


# --- What a cached answer costs ---------------------------------------------------------------------------------


def _not_authentication(captured) -> list[str]:
    """The statements the gate ran itself: authentication reads the token (and the reader's roles)."""
    return [q["sql"] for q in captured if "governance_apitoken" not in q["sql"] and "auth_group" not in q["sql"]]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["service_account", "trader", "compliance", "developer"])
@pytest.mark.parametrize("etag", [False, True])
def test_a_cached_answer_costs_one_query_after_authentication(world, django_assert_max_num_queries, persona, etag):
    if persona == "service_account":
        client = desk_account(world, world.desk)[1]
    else:
        client = client_for(getattr(world, persona))
    first = client.get(GATE.format("mine"))
    headers = {"HTTP_IF_NONE_MATCH": first["ETag"]} if etag else {}
    client.get(GATE.format("mine"), **headers)
    with django_assert_max_num_queries(3) as captured:  # the token, the reader's roles, the gate's counts
        response = client.get(GATE.format("mine"), **headers)
    assert response.status_code == (304 if etag else 200)
    assert response["ETag"] == first["ETag"]
    own = _not_authentication(captured)
    assert len(own) == 1 and "gate_gategeneration" in own[0], own


@pytest.mark.django_db
def test_the_hot_path_itself_is_one_query_and_answers_as_the_full_check(world, django_assert_num_queries):
    trader = world.trader
    first = hot_path.serve(trader, "mine")  # the full check, remembered
    access.is_active(trader)  # what authentication already read on a real request
    with django_assert_num_queries(1):
        again = hot_path.serve(trader, "mine")
    assert again.body == first.body and again.etag == first.etag


@pytest.mark.django_db
def test_the_full_check_reads_the_reader_afresh_after_the_counts(world):
    """Authentication read the reader's roles before the gate read its counts: a role removed in between is
    refused, and nothing is remembered under the new counts."""
    trader = world.trader
    assert access.is_active(trader) and "trader" in user_roles(trader)  # loaded, as authentication does
    Group.objects.get(name="trader").user_set.remove(trader.pk)  # committed by another process, say
    with pytest.raises(Http404):
        hot_path.serve(trader, "mine")
    assert not remembered(trader)


# --- Every change is seen by the next request ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_revoked_hand_grant_is_refused_on_the_next_request(world):
    grant = model_grant_access(world.compliance, world.mine, world.outsider, "Risk reads its output.")
    client = client_for(world.outsider)
    warm(client, world.outsider)
    model_revoke_access(world.compliance, grant, "No longer needed.")
    assert status(client) == 404


@pytest.mark.django_db
def test_an_object_grant_deleted_by_hand_is_refused_on_the_next_request(world):
    """No service and no audit event: only the grant table's own signal can tell."""
    model_grant_access(world.compliance, world.mine, world.outsider, "Risk reads its output.")
    client = client_for(world.outsider)
    warm(client, world.outsider)
    ModelUserObjectPermission.objects.filter(user=world.outsider, content_object=world.mine).delete()
    assert status(client) == 404


def _group_reading_mine(world) -> Group:
    group = Group.objects.create(name="eq-readers")
    view = Permission.objects.get(codename="view_model", content_type__app_label="models_registry")
    ModelGroupObjectPermission.objects.create(group=group, permission=view, content_object=world.mine)
    group.user_set.add(world.outsider)
    return group


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        lambda world, group: world.outsider.groups.remove(group),
        lambda world, group: group.user_set.remove(world.outsider),
        lambda world, group: group.user_set.clear(),
        lambda world, group: ModelGroupObjectPermission.objects.filter(group=group).delete(),
        lambda world, group: group.delete(),
    ],
    ids=["left-the-group", "removed-from-the-group", "group-emptied", "group-grant-deleted", "group-deleted"],
)
def test_a_group_grant_that_no_longer_applies_is_refused_on_the_next_request(world, change):
    group = _group_reading_mine(world)
    client = client_for(world.outsider)
    warm(client, world.outsider)
    change(world, group)
    assert status(client) == 404


def _expire(token: str) -> None:
    ApiToken.objects.filter(digest=api_tokens.digest(token)).update(expires_at=timezone.now())


def _revoke(token: str) -> None:
    row = ApiToken.objects.get(digest=api_tokens.digest(token))
    api_tokens.token_revoke(row.user, row.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("end", [_expire, _revoke], ids=["expired", "revoked"])
def test_an_ended_token_is_refused_on_the_next_request(world, end):
    token = token_for(world.trader)
    client = client_with(token)
    warm(client, world.trader)
    end(token)
    assert status(client) == 401


@pytest.mark.django_db
@pytest.mark.parametrize("end", [_expire, _revoke], ids=["expired", "revoked"])
def test_an_ended_service_account_token_is_refused_on_the_next_request(world, end):
    token = service_accounts.service_account_create(world.compliance, name="EQ OMS", desk=world.desk)[1]
    client = client_with(token)
    assert status(client) == 200 and status(client) == 200
    end(token)
    assert status(client) == 401


@pytest.mark.django_db
def test_a_trader_who_loses_the_role_is_refused_on_the_next_request(world):
    client = client_for(world.trader)
    warm(client, world.trader)
    world.trader.groups.remove(Group.objects.get(name="trader"))
    assert status(client) == 404


@pytest.mark.django_db
def test_a_trader_moved_to_another_desk_is_refused_on_the_next_request(world):
    client = client_for(world.trader)
    warm(client, world.trader)
    profile = world.trader.profile
    profile.desk = world.other_desk
    profile.save()  # as the admin's profile page does (not audited)
    assert status(client) == 404
    assert status(client, "theirs") == 200


@pytest.mark.django_db
def test_a_deactivated_user_is_refused_on_the_next_request(world):
    client = client_for(world.developer)
    warm(client, world.developer)
    type(world.developer).objects.filter(pk=world.developer.pk).update(is_active=False)  # no signal at all
    assert status(client) == 401


@pytest.mark.django_db
def test_a_deactivated_person_signed_in_through_the_session_is_refused_on_the_next_request(world, client):
    client.force_login(world.developer)
    warm(client, world.developer)
    world.developer.is_active = False
    world.developer.save()
    assert status(client) in (401, 403)


@pytest.mark.django_db
def test_a_superuser_flag_removed_by_a_bare_update_is_seen_on_the_next_request(world):
    """No signal sees a queryset update: the remembered superuser flag is compared with the one just read."""
    client = client_for(world.admin)
    warm(client, world.admin, "theirs")
    type(world.admin).objects.filter(pk=world.admin.pk).update(is_superuser=False)
    assert status(client, "theirs") == 404


@pytest.mark.django_db
def test_a_revoked_service_account_is_refused_on_the_next_request(world):
    account, client = desk_account(world, world.desk)
    warm(client, account.user)
    service_accounts.service_account_revoke(world.compliance, account, reason="System decommissioned.")
    assert status(client) == 401


@pytest.mark.django_db
def test_a_model_moved_off_a_desk_is_refused_to_the_desks_readers_on_the_next_request(world):
    account, system = desk_account(world, world.desk)
    trader = client_for(world.trader)
    warm(system, account.user)
    warm(trader, world.trader)
    model_update(world.compliance, world.mine, desk=world.other_desk, reason="The rates desk runs it now.")
    assert status(system) == 404
    assert status(trader) == 404


@pytest.mark.django_db
def test_a_model_moved_by_a_bare_save_is_refused_on_the_next_request(world):
    """No service and no audit event: only the model's own save signal can tell."""
    account, system = desk_account(world, world.desk)
    warm(system, account.user)
    world.mine.desk = world.other_desk
    world.mine.save()
    assert status(system) == 404


@pytest.mark.django_db
def test_a_developer_taken_off_a_model_is_refused_on_the_next_request(world):
    client = client_for(world.developer)
    warm(client, world.developer)
    model_update(world.compliance, world.mine, developers=[world.developer2], reason="Handed over.")
    assert status(client) == 404


@pytest.mark.django_db
def test_a_retired_model_leaves_the_traders_scope_on_the_next_request(world):
    client = client_for(world.trader)
    warm(client, world.trader)
    workflow.version_transition(world.owner, world.mine_v1, "retire", comment="Replaced by a new model.")
    assert status(client) == 404
    assert status(client_for(world.owner)) == 200  # its owner still sees it, and is told it is retired


@pytest.mark.django_db
def test_a_new_model_in_scope_is_answered_at_once(world):
    """Only a "may read" is remembered: an earlier 404 never hides a model that appears."""
    client = client_for(world.trader)
    assert status(client, "fresh") == 404
    fresh = make_model(
        world.compliance,
        key="fresh",
        owner=world.owner,
        developers=[world.developer],
        validator=world.validator,
        desk=world.desk,
    )
    assert status(client, "fresh") == 404  # a draft: not for traders
    make_version(world.developer, fresh, label="1.0", status="production")
    assert status(client, "fresh") == 200


# --- The cache can only cost time ----------------------------------------------------------------------------


class BrokenCache:
    def get(self, *args, **kwargs):
        raise ConnectionError("cache down")

    set = get


@pytest.mark.django_db
def test_a_failing_cache_falls_back_to_the_full_check(world, monkeypatch):
    monkeypatch.setattr(hot_path, "cache", BrokenCache())
    assert status(client_for(world.trader)) == 200
    assert status(client_for(world.outsider)) == 404
    assert status(client_for(world.trader), "theirs") == 404


@pytest.mark.django_db
def test_an_entry_of_other_counts_or_of_another_shape_is_never_used(world):
    client = client_for(world.outsider)
    mine = world.mine.pk
    for entry in [(mine, False, "0.0.0.0.0"), "yes", (mine, False)]:
        cache.set(hot_path._cache_key(world.outsider.pk, "mine"), entry)
        assert status(client) == 404
