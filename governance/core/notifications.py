"""In-app notifications, and the same message by e-mail once the transaction commits."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from governance.core.models import Notification


def notify(users, kind: str, message: str, url: str = "", dedupe_key: str = "") -> list[Notification]:
    """Queue a notification for each distinct active user; with a dedupe_key, never twice for the same thing."""
    created = []
    for user in {u.pk: u for u in users if u is not None and u.is_active}.values():
        if dedupe_key and Notification.objects.filter(user=user, dedupe_key=dedupe_key).exists():
            continue
        created.append(
            Notification.objects.create(user=user, kind=kind, message=message[:500], url=url, dedupe_key=dedupe_key)
        )
    emails = [(n.user.email, n.message, n.url) for n in created if n.user.email]

    def send():
        for address, text, link in emails:
            send_mail(
                f"[Vigil] {text[:120]}", f"{text}\n\n{link}", settings.DEFAULT_FROM_EMAIL, [address], fail_silently=True
            )

    transaction.on_commit(send)
    return created
