"""The audit trail is append-only and tamper-evident (ESIG-04)."""

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from governance.core.audit import audit_record, verify_chain
from governance.core.models import AuditEvent
from tests.factories import UserFactory


def tamper(sql, params):
    """Change audit rows behind the application's back, as a database superuser could (trigger disabled)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE refuses pending deferred FK checks
            cursor.execute("ALTER TABLE governance_auditevent DISABLE TRIGGER vigil_audit_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE governance_auditevent ENABLE TRIGGER vigil_audit_append_only")


def make_events(n=5):
    user = UserFactory(username="auditee")
    return [audit_record(user, "test.event", user, object_type="auth.user", changes={"i": [None, i]}) for i in range(n)]


@pytest.mark.django_db
def test_it_links_each_event_to_the_previous_one():
    events = make_events()
    assert events[0].prev_hash == "0" * 64
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    report = verify_chain()
    assert report.intact and report.checked == 5


@pytest.mark.django_db
def test_it_names_an_edited_event():
    events = make_events()
    tamper("UPDATE governance_auditevent SET reason = 'rewritten' WHERE id = %s", [events[2].id])
    report = verify_chain()
    assert not report.intact and report.first_broken_id == events[2].id


@pytest.mark.django_db
def test_it_notices_a_deleted_event():
    events = make_events()
    tamper("DELETE FROM governance_auditevent WHERE id = %s", [events[1].id])
    report = verify_chain()
    assert not report.intact and report.first_broken_id == events[2].id


@pytest.mark.django_db
def test_it_notices_events_cut_from_the_end():
    events = make_events()
    tamper("DELETE FROM governance_auditevent WHERE id = %s", [events[-1].id])
    report = verify_chain()
    assert not report.intact and "missing" in report.problem


@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the trigger exists on PostgreSQL only")
def test_it_refuses_update_and_delete_at_the_database():
    event = make_events(1)[0]
    for statement in (
        "UPDATE governance_auditevent SET reason = 'x' WHERE id = %s",
        "DELETE FROM governance_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement, [event.id])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="orm")
    assert verify_chain().intact


@pytest.mark.django_db
def test_it_reports_through_the_management_command(capsys):
    events = make_events(3)
    call_command("verify_audit_chain")
    assert "intact" in capsys.readouterr().out
    tamper("UPDATE governance_auditevent SET actor_username = 'mallory' WHERE id = %s", [events[1].id])
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit_chain")
    assert exit_info.value.code == 1
    assert f"event {events[1].id}" in capsys.readouterr().out


@pytest.mark.django_db
def test_it_records_logins_and_failed_logins(client):
    user = UserFactory(username="loginuser")
    assert client.post("/login/", {"username": "loginuser", "password": "wrong-password"}).status_code == 200
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.object_repr == "loginuser" and failed.object_id == str(user.pk) and failed.actor is None
    from tests.factories import PASSWORD

    assert client.post("/login/", {"username": "loginuser", "password": PASSWORD}).status_code == 302
    login = AuditEvent.objects.get(action="auth.login")
    assert login.actor == user and login.request_id and login.ip_address == "127.0.0.1"
