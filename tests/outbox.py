"""Tests run inside a transaction that never commits, so nothing hands outbox events to a worker: a test that
checks what people were told delivers the pending events itself, exactly as the worker's sweep would, including
the events those deliveries emit (a breach's incident raises its own alert)."""

from governance.core import events


def deliver() -> int:
    total = 0
    for _round in range(10):
        delivered = events.deliver_pending()
        total += delivered
        if not delivered:
            break
    return total
