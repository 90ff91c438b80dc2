"""Webhook delivery: one alert to one receiver, signed, retried with exponential backoff, every attempt kept.

The receiver checks `X-Vigil-Signature` (v1=HMAC-SHA256 of "<X-Vigil-Timestamp>.<body>" with its secret; after a
rotation, for a grace period, a second v1= signed with the previous secret) and drops a replay older than a few
minutes. Delivery is at least once: a worker lost after the receiver answered but before Vigil recorded it sends
again, with the same `X-Vigil-Delivery` id for the receiver to recognise.

Hand-written (rather than a library): the claim, the lease and the attempt log are rows in Vigil's own database,
which is what an auditor reads. The HTTP call is governance.core.outbound's, as every request Vigil sends: it
refuses addresses inside Vigil's network (checked again at connect time), follows no redirect, keeps to the
timeout and tells the attempt log the outcome in Vigil's words, never what the receiver answered beyond its status.
Deliveries run on their own Celery queue (`QUEUE`, CELERY_TASK_ROUTES): a slow receiver holds only a delivery worker.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import time

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance.core import outbound
from risk.alerts.models import Alert, WebhookAttempt, WebhookDelivery

logger = logging.getLogger(__name__)
SEND_TASK = "alerts.send_webhook"
QUEUE = "webhooks"  # settings.CELERY_TASK_ROUTES sends SEND_TASK there
D, A = WebhookDelivery.Status, WebhookAttempt.Outcome
LEASE_MARGIN = dt.timedelta(seconds=5)


def timeout() -> float:
    return settings.VIGIL_WEBHOOK_TIMEOUT_SECONDS


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next try after `attempts` failed ones: base x 2^(attempts-1), at most an hour."""
    seconds = settings.VIGIL_WEBHOOK_RETRY_SECONDS * 2 ** max(0, attempts - 1)
    return dt.timedelta(seconds=min(seconds, 3600))


def body(alert: Alert, delivery_id: int) -> bytes:
    """What a receiver gets: the alert, and enough of the model to act on it without calling back."""
    payload = {
        "delivery": delivery_id,
        "alert": {
            "id": alert.pk,
            "kind": alert.kind,
            "severity": alert.severity,
            "title": alert.title,
            "message": alert.message,
            "url": _absolute(alert.url),
            "model": alert.model.key if alert.model_id else None,
            "version": alert.version.version if alert.version_id else None,
            "desk": _desk_code(alert),
            "occurred_at": alert.occurred_at.isoformat(),
        },
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def _desk_code(alert: Alert) -> str | None:
    if alert.desk_id:
        return alert.desk.code
    return alert.model.desk.code if alert.model_id else None


def _absolute(url: str) -> str:
    base = settings.VIGIL_BASE_URL.rstrip("/")
    return f"{base}{url}" if url.startswith("/") and base else url


def signature(secret: str, timestamp: str, content: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + content, hashlib.sha256).hexdigest()


def signature_header(endpoint, timestamp: str, content: bytes, now=None) -> str:
    """v1=<current>, and during the grace period after a rotation also v1=<previous>."""
    parts = [f"v1={signature(endpoint.secret, timestamp, content)}"]
    grace = dt.timedelta(hours=settings.VIGIL_WEBHOOK_ROTATION_GRACE_HOURS)
    now = now or timezone.now()
    if endpoint.previous_secret and endpoint.secret_rotated_at and now - endpoint.secret_rotated_at < grace:
        parts.append(f"v1={signature(endpoint.previous_secret, timestamp, content)}")
    return ",".join(parts)


def schedule(delivery_id: int, at=None) -> None:
    """Hand a delivery to a worker (now, or at its next try); the sweep catches one the broker never took."""
    try:
        task = current_app.tasks[SEND_TASK]
        if at is None:
            task.delay(delivery_id)
        else:
            task.apply_async((delivery_id,), countdown=max(0.0, (at - timezone.now()).total_seconds()))
    except Exception:  # noqa: BLE001 - a broker that is down must not fail the caller; the sweep sends it
        logger.warning("webhook delivery %s not handed to a worker now; the sweep will send it", delivery_id)


def send(delivery_id: int) -> str:
    """Make one attempt at a due delivery; returns the delivery's status (or why nothing was sent).

    Claimed under a row lock with a lease: of two workers handed the same delivery, one sends; a delivery whose
    worker died mid-attempt (lease expired) is taken over, its open attempt recorded as interrupted."""
    claimed = _claim(delivery_id)
    if isinstance(claimed, str):
        return claimed
    delivery, attempt = claimed
    content = body(delivery.alert, delivery.pk)
    return _settle(delivery.pk, attempt.pk, post(delivery, attempt.number, content))


@transaction.atomic
def _claim(delivery_id: int):
    now = timezone.now()
    delivery = (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("endpoint", "alert__model__desk", "alert__version", "alert__desk")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        return "locked or missing"
    if delivery.status in (D.DELIVERED, D.FAILED):
        return delivery.status
    if delivery.status == D.SENDING and delivery.lease_until > now:
        transaction.on_commit(lambda: schedule(delivery_id, delivery.lease_until))
        return "being sent"
    if delivery.status == D.PENDING and delivery.next_attempt_at > now:
        transaction.on_commit(lambda: schedule(delivery_id, delivery.next_attempt_at))
        return "not due"
    if delivery.status == D.SENDING:
        delivery.attempt_log.filter(outcome=A.SENDING).update(
            outcome=A.INTERRUPTED, finished_at=now, error="The worker sending it was lost before it recorded an answer."
        )
    if not delivery.endpoint.active:
        delivery.status, delivery.last_error = D.FAILED, "The receiver was disabled."
        delivery.save(update_fields=["status", "last_error"])
        return delivery.status
    delivery.attempts += 1
    delivery.status, delivery.lease_until = D.SENDING, now + dt.timedelta(seconds=timeout()) + LEASE_MARGIN
    delivery.save(update_fields=["attempts", "status", "lease_until"])
    attempt = WebhookAttempt.objects.create(delivery=delivery, number=delivery.attempts, started_at=now)
    return delivery, attempt


def post(delivery, number: int, content: bytes) -> outbound.Outcome:
    """POST the body through the outbound guard (no redirect followed, no address inside Vigil's network)."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Vigil-Webhooks/1",
        "X-Vigil-Delivery": str(delivery.pk),
        "X-Vigil-Attempt": str(number),
        "X-Vigil-Event": delivery.alert.kind,
        "X-Vigil-Timestamp": timestamp,
        "X-Vigil-Signature": signature_header(delivery.endpoint, timestamp, content),
    }
    return outbound.post(delivery.endpoint.url, content, headers, timeout=timeout())


@transaction.atomic
def _settle(delivery_id: int, attempt_id: int, result: outbound.Outcome) -> str:
    now = timezone.now()
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_id)
    attempt = WebhookAttempt.objects.select_for_update().get(pk=attempt_id)
    if attempt.outcome != A.SENDING:
        return delivery.status  # another worker took it over meanwhile (this one was too slow): theirs counts
    ok, code, error = result.delivered, result.status, result.error[:500]
    attempt.outcome = _outcome(result)
    attempt.status_code, attempt.error, attempt.finished_at = code, error, now
    attempt.save(update_fields=["outcome", "status_code", "error", "finished_at"])
    delivery.lease_until = None
    if ok:
        delivery.status, delivery.delivered_at, delivery.last_error = D.DELIVERED, now, ""
    elif delivery.attempts >= settings.VIGIL_WEBHOOK_MAX_ATTEMPTS:
        delivery.status, delivery.last_error = D.FAILED, error or f"HTTP {code}"
    else:
        delivery.status, delivery.last_error = D.PENDING, error or f"HTTP {code}"
        delivery.next_attempt_at = now + backoff(delivery.attempts)
        at = delivery.next_attempt_at
        transaction.on_commit(lambda: schedule(delivery_id, at))
    delivery.save(update_fields=["status", "delivered_at", "last_error", "lease_until", "next_attempt_at"])
    return delivery.status


def _outcome(result: outbound.Outcome) -> str:
    if result.delivered:
        return A.DELIVERED
    if result.refused:
        return A.NOT_ALLOWED
    if result.timed_out:
        return A.TIMED_OUT
    return A.UNREACHABLE if result.status is None else A.REFUSED


def sweep(limit: int = 500) -> int:
    """Beat: hand over every delivery that is due and not in a worker's hands (a retry whose message was lost,
    a broker that was down, a worker that died mid-attempt). Returns how many were handed over."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(
        Q(status=D.PENDING, next_attempt_at__lte=now) | Q(status=D.SENDING, lease_until__lt=now)
    ).values_list("pk", flat=True)[:limit]
    ids = list(due)
    for pk in ids:
        schedule(pk)
    return len(ids)
