"""Notifications: in-app messages and the same message by e-mail, delivered through the outbox.

A service calls notify() inside its transaction; that writes one event (cheap, and gone if the action rolls
back). A worker delivers it after commit: it resolves the recipients (people, and everyone holding a role),
writes their in-app notifications, and queues one e-mail event per address. Apps register the kinds of
notification they send (a label for each), so the core knows no feature's vocabulary.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils import timezone

from governance.core import events
from governance.core.models import Event, Notification

NOTIFICATION_EVENT = "notification"
EMAIL_EVENT = "email"
ALERT_EVENT = "alert"

_kinds: dict[str, str] = {}


def register_kind(kind: str, label: str) -> None:
    """A kind of notification an app sends (shown as its label on the queue page)."""
    _kinds[kind] = label


def kind_label(kind: str) -> str:
    return _kinds.get(kind, kind.replace("_", " ").capitalize())


def notify(
    users=(), kind: str = "", message: str = "", url: str = "", dedupe_key: str = "", roles=(), exclude=()
) -> bool:
    """Ask for `message` to reach `users` (people or ids) and everyone holding one of `roles`.

    `exclude` (people or ids) are left out, e.g. the officer who just gave the first of two approvals.
    With a dedupe_key, nobody is told twice about the same thing. Returns whether anything was queued.
    """
    user_ids = sorted({getattr(u, "pk", u) for u in users if u is not None})
    if not user_ids and not roles:
        return False
    if dedupe_key and _already_told(dedupe_key, user_ids, roles):
        return False
    events.emit(
        NOTIFICATION_EVENT,
        {
            "user_ids": user_ids,
            "roles": sorted(roles),
            "kind": kind,
            "message": message[:500],
            "url": url,
            "dedupe_key": dedupe_key,
            "exclude_ids": sorted({getattr(u, "pk", u) for u in exclude if u is not None}),
        },
    )
    return True


def raise_alert(
    kind: str, *, severity: str, title: str, message: str = "", url: str = "", model=None, version=None, desk=None
) -> None:
    """Raise an alert from inside the transaction of what caused it (an incident opened, a kill switch engaged).

    The alerts app (above every feature) decides who hears it and delivers it after commit: in-app, e-mail and
    webhooks. Features below it only say what happened, so none of them knows the routing or the channels."""
    events.emit(
        ALERT_EVENT,
        {
            "kind": kind,
            "severity": severity,
            "title": title[:300],
            "message": message[:2000],
            "url": url,
            "model": getattr(model, "pk", model),
            "version": getattr(version, "pk", version),
            "desk": getattr(desk, "pk", desk),
        },
    )


def notifications_mark_read(user) -> int:
    """Mark every unread notification of `user` read; returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def _already_told(dedupe_key: str, user_ids, roles) -> bool:
    """The same thing was already asked for (still in the outbox) or delivered to every one of these people."""
    pending = Event.objects.filter(
        kind=NOTIFICATION_EVENT, status=Event.Status.PENDING, payload__dedupe_key=dedupe_key
    ).exists()
    if pending:
        return True
    if roles or not user_ids:
        return False
    told = Notification.objects.filter(dedupe_key=dedupe_key, user_id__in=user_ids).values_list("user_id", flat=True)
    return set(told) >= set(user_ids)


def _recipients(payload):
    users = get_user_model().objects.filter(is_active=True)
    by_id = set(users.filter(pk__in=payload["user_ids"]).values_list("pk", flat=True))
    by_role = (
        set(users.filter(groups__name__in=payload["roles"]).values_list("pk", flat=True)) if payload["roles"] else set()
    )
    return users.filter(pk__in=(by_id | by_role) - set(payload.get("exclude_ids", []))).order_by("pk")


def deliver_notification(event) -> None:
    """Handler of notification events: one in-app notification per recipient, and an e-mail event each."""
    p = event.payload
    for user in _recipients(p):
        if p["dedupe_key"] and Notification.objects.filter(user=user, dedupe_key=p["dedupe_key"]).exists():
            continue
        Notification.objects.create(
            user=user, kind=p["kind"], message=p["message"], url=p["url"], dedupe_key=p["dedupe_key"]
        )
        if user.email:
            events.emit(
                EMAIL_EVENT,
                {"to": user.email, "subject": f"[Vigil] {p['message'][:120]}", "body": f"{p['message']}\n\n{p['url']}"},
            )


def send_email(event) -> None:
    """Handler of e-mail events. A failure raises, so the event stays pending and is retried."""
    p = event.payload
    send_mail(p["subject"], p["body"], settings.DEFAULT_FROM_EMAIL, [p["to"]], fail_silently=False)


def register() -> None:
    events.subscribe(NOTIFICATION_EVENT, deliver_notification)
    events.subscribe(EMAIL_EVENT, send_email)
