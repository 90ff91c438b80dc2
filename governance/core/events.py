"""The outbox: effects that leave a transaction are written as events inside it and delivered after commit.

Hand-written (rather than a library) because it is a dozen lines over one table and must share the caller's
transaction and the database's row locks; Celery only carries the "deliver event N" nudge.

- emit(kind, payload) writes an Event row in the caller's transaction and, once it commits, asks a worker
  to deliver it. A rolled-back action leaves no event and notifies nobody.
- deliver(event_id) locks the event, runs every handler subscribed to its kind, each in its own savepoint, and
  marks it delivered, all in one transaction: a worker that dies mid-delivery leaves it pending, and a handler
  that raises leaves it pending for the next sweep (failed after MAX_ATTEMPTS) without undoing the others.
- deliver_pending() is the sweep (Celery beat, every minute): whatever a lost worker or a broker that was
  down at commit left behind is delivered then.
Handlers are idempotent or deliver at least once (an e-mail may be sent twice after a crash, never lost).
"""

import contextlib
import contextvars
import logging
from collections.abc import Callable

from celery import current_app
from django.db import transaction
from django.utils import timezone

from governance.core.audit import jsonable
from governance.core.error_text import bounded
from governance.core.models import Event

logger = logging.getLogger(__name__)
DELIVER_TASK = "governance.deliver_event"
MAX_ATTEMPTS = 5

_handlers: dict[str, list[Callable[[Event], None]]] = {}
_delivered_here = contextvars.ContextVar("vigil_events_delivered_here", default=False)


def subscribe(kind: str, handler: Callable[[Event], None]) -> None:
    """Run `handler(event)` for every event of `kind` (apps subscribe in their AppConfig.ready())."""
    handlers = _handlers.setdefault(kind, [])
    if handler not in handlers:
        handlers.append(handler)


def emit(kind: str, payload: dict) -> Event:
    """Record an event in the current transaction; a worker delivers it after commit (within `delivered_here()`,
    its caller does)."""
    event = Event.objects.create(kind=kind, payload=jsonable(payload))
    if not _delivered_here.get():
        transaction.on_commit(lambda: _nudge(event.pk))
    return event


@contextlib.contextmanager
def delivered_here():
    """Within it, emit() hands nothing to a worker: the caller delivers what it emits itself (deliver_pending), and
    the sweep would catch anything it left. For seed_demo, which delivers each step's events as it goes: without
    it the seed left ~1,900 nudges in the broker for events already delivered, and `make run`'s first worker spent
    minutes on them while what a person did (a mention, an incident's alert) waited behind them."""
    token = _delivered_here.set(True)
    try:
        yield
    finally:
        _delivered_here.reset(token)


def _nudge(event_id: int) -> None:
    try:
        current_app.tasks[DELIVER_TASK].delay(event_id)
    except Exception:  # noqa: BLE001 - a broker that is down must not fail a committed action
        logger.warning("event %s not handed to a worker now; the periodic sweep will deliver it", event_id)


def deliver(event_id: int) -> str:
    """Deliver one event if it is still pending; safe to call twice and from several workers at once."""
    with transaction.atomic():
        event = Event.objects.select_for_update(skip_locked=True).filter(pk=event_id).first()
        if event is None or event.status != Event.Status.PENDING:
            return event.status if event else "locked or missing"
        event.attempts += 1
        errors = []
        for handler in _handlers.get(event.kind, []):
            # Each handler in its own savepoint: a failing one rolls back its own writes only, and never keeps
            # another from acting (an alerting bug must not stop a breach from opening its incident). The
            # event is retried as a whole, so the handlers that succeeded run again: they are idempotent.
            try:
                with transaction.atomic():
                    handler(event)
            except Exception as exc:  # noqa: BLE001 - recorded on the event and retried by the sweep
                logger.exception("event %s (%s) failed on attempt %s", event.pk, event.kind, event.attempts)
                errors.append(f"{getattr(handler, '__qualname__', handler)}: {type(exc).__name__}: {exc}")
        if errors:
            event.last_error = bounded("; ".join(errors), where=f"event {event.pk}")
            if event.attempts >= MAX_ATTEMPTS:
                event.status = Event.Status.FAILED
            event.save(update_fields=["attempts", "last_error", "status"])
            return event.status
        event.status, event.delivered_at = Event.Status.DELIVERED, timezone.now()
        event.save(update_fields=["attempts", "status", "delivered_at"])
        return event.status


def deliver_pending(limit: int = 1000) -> int:
    """Deliver pending events, oldest first; returns how many were delivered now."""
    delivered = 0
    for event_id in Event.objects.filter(status=Event.Status.PENDING).values_list("pk", flat=True)[:limit]:
        delivered += deliver(event_id) == Event.Status.DELIVERED
    return delivered
