import pytest

from tests.client.fake_vigil import FakeGate, FakeVigil
from vigil_client import Gate, VigilClient


@pytest.fixture
def fake():
    server = FakeVigil()
    yield server
    server.close()


@pytest.fixture
def sleeps():
    """The client's backoff delays, recorded instead of slept (tests stay fast)."""
    return []


@pytest.fixture
def make_client(fake, sleeps):
    """A client of the fake server that sends only when flushed (or when a queue fills), never sleeping."""
    clients = []

    def make(**options):
        settings = {"flush_interval": 60, "timeout": 5, "sleep": sleeps.append} | options
        client = VigilClient(fake.url, "secret-token", "eq-momentum", **settings)
        clients.append(client)
        return client

    yield make
    fake.release.set()  # let a hanging request end so each client closes promptly
    for client in clients:
        client.close(timeout=1)


class Clock:
    """The gate cache's time source, moved by hand: ages and staleness without sleeping."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_gate():
    server = FakeGate()
    yield server
    server.close()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make_gate(fake_gate, clock):
    """A gate of the fake server whose cache ages follow `clock`; the deadline is real (2 s unless given)."""

    def make(**options):
        return Gate(fake_gate.url, "secret-token", **({"deadline": 2.0, "clock": clock} | options))

    return make
