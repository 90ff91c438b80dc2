"""The Django admin: who may do what is changed there only with an audit event; governed records are read-only.

A superuser logs in through the admin's login page and posts the admin's own forms, as a person would.
"""

import datetime as dt
import json

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.forms import CheckboxInput, MultiWidget, SelectMultiple
from django.forms.models import model_to_dict
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance.core import api_tokens
from governance.core.admin_site import AuditedAdmin, ReadOnlyAdmin
from governance.core.audit import verify_chain
from governance.core.models import AuditEvent, Desk, UserProfile
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-fresh-passphrase-for-2027"


@pytest.fixture
def admin_client(client, world):
    response = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302, "the superuser signs in through the admin's login page"
    return client


def _form_data(form, **changes) -> dict:
    """What a browser posts for an admin form as it was shown, with `changes` made."""
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = changes[name] if name in changes else form[name].value()
        widget = field.widget
        widget = getattr(widget, "widget", widget)  # the admin's related-object wrapper
        if isinstance(widget, CheckboxInput):
            if value:
                data[name] = "on"
        elif isinstance(widget, MultiWidget):
            parts = value if isinstance(value, list) else widget.decompress(value)
            for i, (part, subwidget) in enumerate(zip(parts, widget.widgets, strict=True)):
                data[f"{name}_{i}"] = subwidget.format_value(part) or ""  # as the page shows it
        elif isinstance(widget, SelectMultiple):
            data[name] = [str(getattr(v, "pk", v)) for v in (value or [])]
        else:
            data[name] = "" if value is None else str(getattr(value, "pk", value))
    return data


def _post_change_form(client, url, **changes):
    form = client.get(url).context["adminform"].form
    return client.post(url, _form_data(form, **changes))


def _events_since(mark):
    return list(AuditEvent.objects.filter(id__gt=mark).order_by("id"))


def _mark() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _assert_recorded(events, world, action, object_type, object_id, changes):
    matching = [e for e in events if (e.action, e.object_type, e.object_id) == (action, object_type, str(object_id))]
    assert len(matching) == 1, [(e.action, e.object_type, e.changes) for e in events]
    event = matching[0]
    assert event.changes == changes
    assert (event.actor_id, event.actor_username) == (world.admin.pk, "admin")
    assert event.ip_address == "127.0.0.1" and event.request_id  # the request's context, as every event has
    assert verify_chain().intact
    return event


# --- Who may do what: each change through the admin is an audit event -----------------------------------------


def _user_url(user):
    return f"/admin/auth/user/{user.pk}/change/"


def _profile_url(user):
    return f"/admin/governance/userprofile/{user.profile.pk}/change/"


def _window(world):
    return (dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC), dt.datetime(2027, 3, 31, 17, tzinfo=dt.UTC))


USER_CHANGES = {
    # what is changed: (whose page, field changes, expected action, {field: [before, after]})
    "superuser": ("developer", {"is_superuser": True}, "admin.change", {"is_superuser": [False, True]}),
    "staff": ("developer", {"is_staff": True}, "admin.change", {"is_staff": [False, True]}),
    "deactivated": ("validator", {"is_active": False}, "admin.change", {"is_active": [True, False]}),
}


@pytest.mark.parametrize("case", USER_CHANGES)
def test_it_audits_a_change_to_a_persons_flags_in_the_admin(admin_client, world, case):
    username, fields, action, changes = USER_CHANGES[case]
    person = getattr(world, username)
    mark = _mark()
    response = _post_change_form(admin_client, _user_url(person), **fields)
    assert response.status_code == 302
    _assert_recorded(_events_since(mark), world, action, "auth.user", person.pk, changes)


@pytest.mark.parametrize(
    "change, recorded",
    [
        ("add", {"roles": [None, ["compliance"]]}),
        ("remove", {"roles": [["developer"], None]}),
    ],
)
def test_it_audits_role_membership_changed_in_the_admin(admin_client, world, change, recorded):
    developer, compliance = Group.objects.get(name="developer"), Group.objects.get(name="compliance")
    groups = [developer, compliance] if change == "add" else []
    mark = _mark()
    response = _post_change_form(admin_client, _user_url(world.developer), groups=groups)
    assert response.status_code == 302
    events = _events_since(mark)
    _assert_recorded(events, world, "user.roles_changed", "auth.user", world.developer.pk, recorded)
    assert not [e for e in events if e.action == "admin.change"], "the roles are recorded once, by the signal"


def test_it_audits_a_password_reset_in_the_admin_without_the_hash(admin_client, world):
    old_hash = world.developer.password
    mark = _mark()
    response = admin_client.post(
        f"/admin/auth/user/{world.developer.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    world.developer.refresh_from_db()
    assert world.developer.check_password(NEW_PASSWORD)
    event = _assert_recorded(
        _events_since(mark),
        world,
        "admin.password_change",
        "auth.user",
        world.developer.pk,
        {"password": ["set", "changed"]},
    )
    recorded = json.dumps(event.changes)
    assert old_hash not in recorded and world.developer.password not in recorded and NEW_PASSWORD not in recorded


def test_it_audits_password_authentication_disabled_in_the_admin(admin_client, world):
    mark = _mark()
    response = admin_client.post(
        f"/admin/auth/user/{world.developer.pk}/password/", {"usable_password": "false", "unset-password": "1"}
    )
    assert response.status_code == 302
    world.developer.refresh_from_db()
    assert not world.developer.has_usable_password()
    changes = {"password": ["set", "disabled"]}
    _assert_recorded(_events_since(mark), world, "admin.password_change", "auth.user", world.developer.pk, changes)


def test_it_refuses_a_mismatched_password_and_records_nothing(admin_client, world):
    old_hash, mark = world.developer.password, _mark()
    response = admin_client.post(
        f"/admin/auth/user/{world.developer.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x", "usable_password": "true"},
    )
    assert response.status_code == 200 and response.context["form"].errors["password2"]
    world.developer.refresh_from_db()
    assert world.developer.password == old_hash and _events_since(mark) == []


def test_it_audits_a_superusers_own_password_change(admin_client, world):
    mark = _mark()
    response = admin_client.post(
        "/admin/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    changes = {"password": ["set", "changed"]}
    _assert_recorded(_events_since(mark), world, "admin.password_change", "auth.user", world.admin.pk, changes)


PROFILE_CHANGES = {
    "senior manager": ("compliance", lambda w: {"senior_manager": True}, {"senior_manager": [False, True]}),
    "desk": ("trader", lambda w: {"desk": w.other_desk}, {"desk": ["Systematic Equities", "Rates"]}),
    "access window": (
        "auditor",
        lambda w: {"access_from": _window(w)[0], "access_until": _window(w)[1]},
        {
            "access_from": [None, "2027-01-04T09:00:00+00:00"],
            "access_until": [None, "2027-03-31T17:00:00+00:00"],
        },
    ),
}


@pytest.mark.parametrize("case", PROFILE_CHANGES)
def test_it_audits_a_change_to_a_profile_in_the_admin(admin_client, world, case):
    username, fields, changes = PROFILE_CHANGES[case]
    person = getattr(world, username)
    mark = _mark()
    response = _post_change_form(admin_client, _profile_url(person), **fields(world))
    assert response.status_code == 302
    _assert_recorded(_events_since(mark), world, "admin.change", "governance.userprofile", person.profile.pk, changes)


def test_it_refuses_an_access_window_for_someone_who_is_not_an_auditor(admin_client, world):
    before, mark = model_to_dict(world.developer.profile), _mark()
    start, end = _window(world)
    response = _post_change_form(admin_client, _profile_url(world.developer), access_from=start, access_until=end)
    assert response.status_code == 200
    assert "not an auditor" in str(response.context["adminform"].form.non_field_errors())
    world.developer.profile.refresh_from_db()
    assert model_to_dict(world.developer.profile) == before and _events_since(mark) == []


def test_it_refuses_an_access_window_that_ends_before_it_starts(admin_client, world):
    before, mark = model_to_dict(world.auditor.profile), _mark()
    start, end = _window(world)
    response = _post_change_form(admin_client, _profile_url(world.auditor), access_from=end, access_until=start)
    assert response.status_code == 200 and response.context["adminform"].form.errors["access_until"]
    world.auditor.profile.refresh_from_db()
    assert model_to_dict(world.auditor.profile) == before and _events_since(mark) == []


def test_it_audits_desks_added_renamed_and_deleted_in_the_admin(admin_client, world):
    mark = _mark()
    form = admin_client.get("/admin/governance/desk/add/").context["adminform"].form
    response = admin_client.post("/admin/governance/desk/add/", _form_data(form, code="fx", name="FX Options"))
    assert response.status_code == 302
    desk = Desk.objects.get(code="fx")
    _assert_recorded(
        _events_since(mark),
        world,
        "admin.add",
        "governance.desk",
        desk.pk,
        {"code": [None, "fx"], "name": [None, "FX Options"]},
    )
    mark = _mark()
    _post_change_form(admin_client, f"/admin/governance/desk/{desk.pk}/change/", name="FX Exotics")
    _assert_recorded(
        _events_since(mark), world, "admin.change", "governance.desk", desk.pk, {"name": ["FX Options", "FX Exotics"]}
    )
    mark = _mark()
    assert admin_client.post(f"/admin/governance/desk/{desk.pk}/delete/", {"post": "yes"}).status_code == 302
    _assert_recorded(
        _events_since(mark),
        world,
        "admin.delete",
        "governance.desk",
        desk.pk,
        {"code": ["fx", None], "name": ["FX Exotics", None]},
    )


def test_it_audits_a_totp_device_added_and_deleted_in_the_admin_without_its_key(admin_client, world):
    form = admin_client.get("/admin/otp_totp/totpdevice/add/").context["adminform"].form
    data = _form_data(form, user=world.compliance.pk, name="Phone", confirmed=True)
    mark = _mark()
    assert admin_client.post("/admin/otp_totp/totpdevice/add/", data).status_code == 302
    device = TOTPDevice.objects.get(user=world.compliance)
    added = next(e for e in _events_since(mark) if e.action == "admin.add")
    assert added.changes["key"] == [None, "set"] and added.changes["user"] == [None, "compliance"]
    assert added.changes["confirmed"] == [None, True] and added.changes["name"] == [None, "Phone"]
    assert (added.object_type, added.object_id, added.actor_id) == (
        "otp_totp.totpdevice",
        str(device.pk),
        world.admin.pk,
    )
    assert device.key not in json.dumps(added.changes)
    mark = _mark()
    assert admin_client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    deleted = _events_since(mark)[0]
    assert (deleted.action, deleted.object_id, deleted.actor_id) == ("admin.delete", str(device.pk), world.admin.pk)
    assert deleted.changes["key"] == ["set", None] and deleted.changes["user"] == ["compliance", None]
    assert device.key not in json.dumps(deleted.changes) and verify_chain().intact


def test_it_never_shows_a_totp_devices_secret_once_it_exists(admin_client, world):
    device = TOTPDevice.objects.create(user=world.compliance, name="Phone")
    page = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert device.key not in page.content.decode()
    assert admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403


def test_it_audits_a_lockout_reset_in_the_admin(admin_client, world):
    attempt = AccessAttempt.objects.create(
        username="trader",
        ip_address="10.0.0.9",
        user_agent="x",
        path_info="/login/",
        failures_since_start=5,
        post_data="secret",
    )
    mark = _mark()
    response = admin_client.post(
        "/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"}
    )
    assert response.status_code == 302 and not AccessAttempt.objects.exists()
    event = _events_since(mark)[0]
    assert (event.action, event.object_type, event.actor_id) == ("admin.delete", "axes.accessattempt", world.admin.pk)
    assert event.changes["username"] == ["trader", None] and event.changes["failures_since_start"] == [5, None]
    assert "post_data" not in event.changes and verify_chain().intact


def test_it_audits_role_membership_changed_from_the_groups_side_by_the_system(world):
    auditor = Group.objects.get(name="auditor")
    mark = _mark()
    auditor.user_set.add(world.developer, world.trader)
    events = _events_since(mark)
    assert sorted((e.object_repr, e.actor_username, e.changes["roles"][1][0]) for e in events) == [
        ("developer", "system", "auditor"),
        ("trader", "system", "auditor"),
    ]
    mark = _mark()
    auditor.user_set.clear()
    cleared = sorted((e.object_repr, json.dumps(e.changes)) for e in _events_since(mark))
    assert [repr_ for repr_, _ in cleared] == ["auditor", "developer", "trader"]
    assert all(changes == '{"roles": [["auditor"], null]}' for _, changes in cleared)


def test_it_audits_a_roles_permissions_changed_in_the_admin(admin_client, world):
    group = Group.objects.get(name="auditor")
    permission = group.permissions.model.objects.get(codename="view_auditevent")
    mark = _mark()
    response = _post_change_form(admin_client, f"/admin/auth/group/{group.pk}/change/", permissions=[permission])
    assert response.status_code == 302
    changes = {"permissions": [None, ["governance.view_auditevent"]]}
    _assert_recorded(_events_since(mark), world, "group.permissions_changed", "auth.group", group.pk, changes)


def test_it_keeps_role_groups_names_and_existence(admin_client, world):
    role = Group.objects.get(name="compliance")
    _post_change_form(admin_client, f"/admin/auth/group/{role.pk}/change/", name="compliance-old")
    assert admin_client.post(f"/admin/auth/group/{role.pk}/delete/", {"post": "yes"}).status_code == 403
    role.refresh_from_db()
    assert role.name == "compliance"


def test_it_refuses_to_delete_a_person_or_a_profile(admin_client, world):
    assert admin_client.post(f"/admin/auth/user/{world.outsider.pk}/delete/", {"post": "yes"}).status_code == 403
    assert (
        admin_client.post(
            f"/admin/governance/userprofile/{world.outsider.profile.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert UserProfile.objects.filter(user=world.outsider).exists()


# --- Governed records: the admin refuses every write --------------------------------------------------------------


GOVERNED = {
    "model": lambda w: w.mine,
    "model version": lambda w: w.mine_v1,
    "data source": lambda w: w.public_source,
    "audit event": lambda w: AuditEvent.objects.order_by("id").first(),
    "periodic task": lambda w: PeriodicTask.objects.order_by("id").first(),
    "crontab schedule": lambda w: CrontabSchedule.objects.order_by("id").first(),
    "interval schedule": lambda w: IntervalSchedule.objects.order_by("id").first(),
    "login log": lambda w: AccessLog.objects.create(username="trader", ip_address="10.0.0.9", user_agent="x"),
    "api token": lambda w: api_tokens.person_token_issue(w.developer)[0],
}


def _admin_url(obj, view=""):
    opts = obj._meta
    base = f"/admin/{opts.app_label}/{opts.model_name}/"
    return f"{base}{obj.pk}/{view}/" if view else base


def _row(obj):
    return type(obj).objects.filter(pk=obj.pk).values().get()


@pytest.mark.parametrize("governed", GOVERNED)
def test_it_refuses_to_add_change_or_delete_governed_records_in_the_admin(admin_client, world, governed):
    obj = GOVERNED[governed](world)
    before, mark = _row(obj), _mark()
    assert admin_client.get(_admin_url(obj, "change")).status_code == 200, "shown, read-only"
    assert admin_client.post(_admin_url(obj) + "add/", {}).status_code == 403
    assert admin_client.post(_admin_url(obj, "change"), {}).status_code == 403
    assert admin_client.post(_admin_url(obj, "delete"), {"post": "yes"}).status_code == 403
    actions = ["delete_selected", "enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks"]
    for action in actions:
        admin_client.post(_admin_url(obj), {"action": action, "_selected_action": [obj.pk], "post": "yes"})
    assert _row(obj) == before
    assert [e.action for e in _events_since(mark)] == []


def test_every_admin_is_audited_or_read_only():
    """A model registered in the admin later must choose: its writes are audited, or it is read-only."""
    loose = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, (AuditedAdmin, ReadOnlyAdmin))
    ]
    assert loose == []
