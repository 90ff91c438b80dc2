"""Object grants follow the model's people automatically, and compliance can grant and revoke by hand."""

import pytest

from governance.core import access as perms
from governance.core.models import AuditEvent
from models_registry import services
from models_registry.models import ModelAccessGrant, ModelUserObjectPermission
from tests.outbox import deliver


def visible_keys(user):
    from models_registry.models import Model

    return set(perms.restrict(Model.objects.all(), user).values_list("key", flat=True))


@pytest.mark.django_db
def test_it_moves_grants_when_developers_and_validator_change(world):
    assert "mine" not in visible_keys(world.developer2)
    services.model_update(world.compliance, world.mine, developers=[world.developer2], validator=world.validator2)
    assert "mine" in visible_keys(world.developer2) and "mine" not in visible_keys(world.developer)
    assert "mine" in visible_keys(world.validator2) and "mine" not in visible_keys(world.validator)
    assert perms.can(world.validator2, perms.VALIDATE, world.mine)
    assert not perms.can(world.validator, perms.VALIDATE, world.mine)
    event = AuditEvent.objects.filter(action="model.update").latest("id")
    assert event.changes["developers"] == [["developer"], ["developer2"]]
    from governance.core.models import Notification

    deliver()
    assert Notification.objects.filter(user=world.validator2, kind="assignment", message__contains="mine").exists()
    assert event.changes["validator"] == ["validator", "validator2"]


@pytest.mark.django_db
def test_it_writes_grants_in_bulk_without_duplicates(world):
    before = ModelUserObjectPermission.objects.filter(content_object=world.mine).count()
    services.model_update(world.compliance, world.mine, name="Same people")
    assert ModelUserObjectPermission.objects.filter(content_object=world.mine).count() == before
    # owner 3 + developer 3 + validator 2
    assert before == 8


@pytest.mark.django_db
def test_it_grants_and_revokes_access_by_hand_and_keeps_history(world):
    assert "theirs" not in visible_keys(world.trader)
    grant = services.model_grant_access(world.compliance, world.theirs, world.trader, "Consumes its rates signal.")
    assert "theirs" in visible_keys(world.trader)
    assert not perms.can(world.trader, perms.CHANGE, world.theirs)
    services.model_revoke_access(world.compliance, grant, "No longer on the desk.")
    assert "theirs" not in visible_keys(world.trader)
    grant.refresh_from_db()
    assert grant.revoked_by == world.compliance and ModelAccessGrant.objects.filter(pk=grant.pk).exists()
    actions = list(
        AuditEvent.objects.filter(object_id=str(world.theirs.pk), action__startswith="model.access").values_list(
            "action", flat=True
        )
    )
    assert actions == ["model.access_granted", "model.access_revoked"]


@pytest.mark.django_db
def test_it_keeps_hand_grants_when_roles_change(world):
    services.model_grant_access(world.compliance, world.mine, world.developer2, "Peer review.")
    services.model_update(world.compliance, world.mine, developers=[world.developer2])
    services.model_update(world.compliance, world.mine, developers=[world.developer])
    assert "mine" in visible_keys(world.developer2)
    assert not perms.can(world.developer2, perms.CHANGE, world.mine)


@pytest.mark.django_db
def test_it_lets_only_compliance_grant_by_hand(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.model_grant_access(world.owner, world.mine, world.developer2, "Please")
    with pytest.raises(PermissionDenied):
        services.model_grant_access(world.auditor, world.mine, world.developer2, "Please")


@pytest.mark.django_db
def test_it_refuses_a_second_active_grant_with_conflict(world):
    from governance.core.exceptions import Conflict

    services.model_grant_access(world.compliance, world.mine, world.developer2, "Peer review.")
    with pytest.raises(Conflict):
        services.model_grant_access(world.compliance, world.mine, world.developer2, "Again.")


@pytest.mark.django_db
def test_it_grants_restricted_data_sources_by_hand_but_never_to_traders(world, api):
    from django.core.exceptions import ValidationError

    url = f"/api/v1/data-sources/{world.restricted_source.pk}/"
    assert api.as_user(world.developer).get(url).status_code == 404
    services.data_source_grant_access(world.compliance, world.restricted_source, world.developer, "eq-card-spend")
    assert api.as_user(world.developer).get(url).status_code == 200
    with pytest.raises(ValidationError):
        services.data_source_grant_access(world.compliance, world.restricted_source, world.trader, "curious")


@pytest.mark.django_db
def test_it_manages_grants_from_the_model_page(world, browser_client):
    client = browser_client.as_user(world.compliance)
    page = client.get("/models/theirs/?section=lineage")
    assert b"Access granted by hand" in page.content
    response = client.post("/models/theirs/access/", {"user": world.trader.pk, "reason": "Reads its output."})
    assert response.status_code == 302 and response["Location"] == "/models/theirs/?section=lineage"
    assert "theirs" in visible_keys(world.trader)
    grant = ModelAccessGrant.objects.get(model=world.theirs, user=world.trader)
    client.post(f"/models/theirs/access/{grant.pk}/revoke/", {"reason": "done"})
    assert "theirs" not in visible_keys(world.trader)
    developer = browser_client.as_user(world.developer)
    assert developer.post("/models/mine/access/", {"user": world.trader.pk, "reason": "x"}).status_code == 403
    assert developer.post("/models/theirs/access/", {"user": world.trader.pk, "reason": "x"}).status_code == 404


@pytest.mark.django_db
def test_it_honours_object_grants_held_by_a_group(world):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from models_registry.models import DataSourceGroupObjectPermission, ModelGroupObjectPermission

    analysts = Group.objects.create(name="desk-analysts")
    member = get_user_model().objects.get(pk=world.developer2.pk)
    assert "mine" not in visible_keys(member)
    member.groups.add(analysts)
    ModelGroupObjectPermission.objects.create(
        group=analysts, permission_id=perms.permission_id(type(world.mine), "view_model"), content_object=world.mine
    )
    source = world.restricted_source
    DataSourceGroupObjectPermission.objects.create(
        group=analysts, permission_id=perms.permission_id(type(source), "view_datasource"), content_object=source
    )
    member = get_user_model().objects.get(pk=world.developer2.pk)  # roles and grant flags are cached per user
    assert "mine" in visible_keys(member) and perms.can(member, perms.VIEW, world.mine)
    assert perms.restrict(type(source).objects.all(), member).filter(pk=source.pk).exists()
    outsider = get_user_model().objects.get(pk=world.developer.pk)
    assert "theirs" not in visible_keys(outsider)  # the group clause only ever widens for its members
