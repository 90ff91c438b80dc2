"""An auditor's access window: outside it they sign in to nothing, an open session ends, tokens are refused and
their exports do not run; inside it everything works. Compliance sets it (audited); bad input changes nothing."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from governance.core import access_window, jobs
from governance.core.models import AuditEvent, UserProfile
from risk.exports.models import Export
from tests.factories import PASSWORD

NOW = timezone.now()
HOUR = dt.timedelta(hours=1)


def close_window(world, start=None, end=None):
    access_window.set_window(world.compliance, world.auditor, start, end)


@pytest.mark.django_db
def test_compliance_sets_a_window_and_it_is_audited(world):
    close_window(world, NOW - HOUR, NOW + HOUR)
    profile = UserProfile.objects.get(user=world.auditor)
    assert (profile.access_from, profile.access_until) == (NOW - HOUR, NOW + HOUR)
    event = AuditEvent.objects.filter(action="access_window.set").latest("id")
    assert event.actor_username == "compliance" and event.object_repr == "auditor"
    assert event.changes["access_until"] == [None, (NOW + HOUR).isoformat()]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who, whom, start, end, error",
    [
        ("validator", "auditor", None, None, PermissionDenied),
        ("compliance", "validator", NOW, None, ValidationError),
        ("compliance", "auditor", NOW, NOW - HOUR, ValidationError),
    ],
)
def test_a_window_set_by_the_wrong_person_or_badly_changes_nothing(world, who, whom, start, end, error):
    before = AuditEvent.objects.count()
    with pytest.raises(error):
        access_window.set_window(getattr(world, who), getattr(world, whom), start, end)
    assert AuditEvent.objects.count() == before
    assert not UserProfile.objects.filter(user=getattr(world, whom), access_from__isnull=False).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("start, end, inside", [(-2, -1, False), (1, 2, False), (-1, 1, True), (None, None, True)])
def test_signing_in_outside_the_window_is_refused_with_the_reason(world, client, start, end, inside):
    close_window(world, start and NOW + start * HOUR, end and NOW + end * HOUR)
    answer = client.post(reverse("login"), {"username": "auditor", "password": PASSWORD})
    if inside:
        assert answer.status_code == 302
        assert client.get("/models/").status_code == 200
    else:
        assert answer.status_code == 200
        assert "auditor access" in answer.content.decode()
        assert AuditEvent.objects.filter(action="login.refused", actor_username="auditor").exists()
        assert client.get("/models/").status_code == 302, "not signed in"


@pytest.mark.django_db
def test_an_open_session_ends_when_the_window_closes(world, browser_client):
    browser_client.as_user(world.auditor)
    assert browser_client.get("/models/").status_code == 200
    close_window(world, NOW - 2 * HOUR, NOW - HOUR)
    page = browser_client.get("/models/", follow=True)
    assert page.redirect_chain[0][0].startswith(reverse("login"))
    assert "ended on" in page.content.decode()
    assert browser_client.get("/models/").status_code == 302, "the session is over"
    ended = AuditEvent.objects.get(action="session.ended")
    assert ended.actor_username == "auditor" and "ended on" in ended.reason

    browser_client.as_user(world.auditor)
    answer = browser_client.get("/api/v1/models/")
    assert answer.status_code == 401 and "ended on" in answer.json()["detail"]


@pytest.mark.django_db
def test_tokens_are_refused_outside_the_window_and_work_inside(world, api):
    assert api.as_user(world.auditor).get("/api/v1/models/").status_code == 200
    close_window(world, NOW + HOUR, None)
    answer = api.as_user(world.auditor).get("/api/v1/models/")
    assert answer.status_code == 401 and "opens on" in answer.json()["detail"]
    api.credentials()  # a fresh client asking for a token with the password
    answer = api.post("/api/v1/auth/token/", {"username": "auditor", "password": PASSWORD}, format="json")
    assert answer.status_code == 400 and "opens on" in str(answer.json()) and "token" not in answer.json()
    close_window(world, NOW - HOUR, NOW + HOUR)
    assert api.as_user(world.auditor).get("/api/v1/models/").status_code == 200
    # Other people are never limited, whatever their profile holds.
    UserProfile.objects.filter(user=world.validator).update(access_until=NOW - HOUR)
    assert api.as_user(world.validator).get("/api/v1/models/").status_code == 200


@pytest.mark.django_db
def test_an_export_asked_inside_the_window_does_not_run_after_it(world, api):
    answer = api.as_user(world.auditor).post("/api/v1/exports/", {"kind": "inventory"}, format="json")
    export = Export.objects.get(pk=answer.json()["id"])
    close_window(world, NOW - 2 * HOUR, NOW - HOUR)
    assert jobs.execute(export.job_id) == "failed"
    assert "can no longer sign in" in Export.objects.get(pk=export.pk).job.error


@pytest.mark.django_db
def test_the_auditor_access_page(world, browser_client):
    url = reverse("governance:auditor-access")
    assert browser_client.as_user(world.trader).get(url).status_code == 404
    page = browser_client.as_user(world.auditor).get(url)
    assert page.status_code == 200 and "window-form" not in page.content.decode()
    assert browser_client.post(url, {"user": world.auditor.pk, "access_until": "2030-01-01T00:00"}).status_code == 403

    browser_client.as_user(world.compliance)
    bad = browser_client.post(
        url, {"user": world.auditor.pk, "access_from": "2030-01-02T00:00", "access_until": "2030-01-01T00:00"}
    )
    assert bad.status_code == 400 and "end after the start" in bad.content.decode()
    assert not UserProfile.objects.filter(user=world.auditor, access_until__isnull=False).exists()
    assert browser_client.post(url, {"user": world.validator.pk, "access_until": "2030-01-01T00:00"}).status_code == 404
    saved = browser_client.post(url, {"user": world.auditor.pk, "access_until": "2030-01-01T00:00"}, follow=True)
    assert "saved" in saved.content.decode()
    assert UserProfile.objects.get(user=world.auditor).access_until == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    row = saved.content.decode().split('data-testid="auditor-auditor"')[1]
    assert "2030-01-01 00:00" in row and ">open<" in row
