"""The outbox: effects that leave a transaction are events written inside it and delivered after commit."""

import pytest
from django.core import mail
from django.db import transaction

from governance.core import events
from governance.core.models import Event, Notification
from governance.core.notifications import notify
from governance.lifecycle import workflow
from tests.governance.lifecycle_helpers import new_draft
from tests.outbox import deliver


@pytest.fixture
def world(world):
    """The shared world, with what building it told people already delivered and forgotten."""
    deliver()
    deliver()
    Notification.objects.all().delete()
    mail.outbox.clear()
    return world


@pytest.mark.django_db
def test_it_writes_a_notification_as_one_event_and_delivers_it_to_people_and_roles(world):
    notify([world.developer], "decision", "Something happened.", "/models/mine/", roles=["compliance"])
    assert Event.objects.filter(kind="notification", status="pending").count() == 1
    assert not Notification.objects.exists()  # nothing reaches anyone before delivery
    deliver()
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert told == {"developer", "compliance"}
    deliver()  # the e-mail events the delivery queued
    assert sorted(m.to[0] for m in mail.outbox) == ["compliance@vigil.example", "developer@vigil.example"]
    assert not Event.objects.filter(status="pending").exists()


@pytest.mark.django_db
def test_a_rolled_back_action_notifies_nobody(world):
    version = new_draft(world)
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.version_transition(world.developer, version, "submit")
        raise RuntimeError("the caller failed after the transition")
    version.refresh_from_db()
    assert version.status == "draft"
    assert not Event.objects.filter(status="pending").exists()
    deliver()
    assert not Notification.objects.filter(user=world.validator).exists()


@pytest.mark.django_db
def test_a_delivered_event_is_not_delivered_twice(world):
    event = events.emit(
        "notification",
        {
            "user_ids": [world.owner.pk],
            "roles": [],
            "kind": "decision",
            "message": "Once.",
            "url": "",
            "dedupe_key": "",
        },
    )
    assert events.deliver(event.pk) == "delivered"
    assert events.deliver(event.pk) == "delivered"  # a second worker handed the same event changes nothing
    assert Notification.objects.filter(user=world.owner, message="Once.").count() == 1


@pytest.mark.django_db
def test_a_failing_handler_leaves_the_event_pending_then_failed_and_keeps_its_writes_out(world, monkeypatch):
    calls = []

    def flaky(event):
        Notification.objects.create(user=world.owner, kind="x", message="half-written")
        calls.append(event.pk)
        raise ConnectionError("mail server down")

    monkeypatch.setitem(events._handlers, "test.flaky", [flaky])
    event = events.emit("test.flaky", {})
    for attempt in range(1, events.MAX_ATTEMPTS + 1):
        status = events.deliver(event.pk)
        event.refresh_from_db()
        assert event.attempts == attempt and "mail server down" in event.last_error
        assert status == ("failed" if attempt == events.MAX_ATTEMPTS else "pending")
    assert not Notification.objects.filter(message="half-written").exists()  # each attempt rolled back its writes
    assert len(calls) == events.MAX_ATTEMPTS


@pytest.mark.django_db
def test_a_failing_handler_does_not_keep_the_others_of_the_same_event_from_acting(world, monkeypatch):
    def broken(event):
        Notification.objects.create(user=world.owner, kind="x", message="from the broken one")
        raise RuntimeError("a bug in one subscriber")

    def working(event):
        if not Notification.objects.filter(message="from the working one").exists():  # idempotent, as required
            Notification.objects.create(user=world.owner, kind="x", message="from the working one")

    monkeypatch.setitem(events._handlers, "test.mixed", [broken, working])
    event = events.emit("test.mixed", {})
    assert events.deliver(event.pk) == "pending"
    assert events.deliver(event.pk) == "pending"  # retried whole: the working one runs again, harmlessly
    assert Notification.objects.filter(message="from the working one").count() == 1
    assert not Notification.objects.filter(message="from the broken one").exists()
    event.refresh_from_db()
    assert "broken" in event.last_error and "a bug in one subscriber" in event.last_error


@pytest.mark.django_db
def test_it_does_not_tell_anyone_twice_about_the_same_thing(world):
    assert notify([world.owner], "finding_overdue", "Late.", dedupe_key="late:1")
    assert not notify([world.owner], "finding_overdue", "Late.", dedupe_key="late:1")  # still in the outbox
    deliver()
    assert not notify([world.owner], "finding_overdue", "Late.", dedupe_key="late:1")  # already told
    assert Notification.objects.filter(user=world.owner, dedupe_key="late:1").count() == 1


@pytest.mark.django_db
def test_it_leaves_out_the_people_it_is_asked_to(world):
    from tests.factories import UserFactory

    second = UserFactory(username="compliance2", roles=["compliance"])
    notify(
        kind="signature_request", message="Second approval needed.", roles=["compliance"], exclude=[world.compliance]
    )
    deliver()
    assert list(Notification.objects.values_list("user", flat=True)) == [second.pk]


@pytest.mark.django_db
def test_within_delivered_here_no_worker_is_nudged_and_the_caller_delivers(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    """seed_demo delivers its own events: a nudge per event would leave the workers a backlog of done work ahead of
    what people do once Vigil runs (seen on a fresh `make run`: mentions waited minutes behind 1,900 nudges)."""
    nudged = []
    monkeypatch.setattr(events, "_nudge", nudged.append)
    with django_capture_on_commit_callbacks(execute=True):
        with events.delivered_here():
            notify([world.developer], "decision", "Seeded.", "/models/mine/")
    assert nudged == [] and Event.objects.filter(status="pending").count() == 1
    assert events.deliver_pending() == 1 and Notification.objects.filter(user=world.developer).exists()
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.owner], "decision", "Live.", "/models/mine/")
    assert len(nudged) == 1  # outside it, every event is handed to a worker after commit
