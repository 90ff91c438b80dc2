"""Tests run inside a transaction that never commits, so nothing hands outbox events to a worker: a test that
checks what people were told delivers the pending events itself, exactly as the worker's sweep would."""

from governance.core import events


def deliver() -> int:
    return events.deliver_pending()
