import pytest

from tests.client.fake_vigil import FakeVigil
from vigil_client import VigilClient


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
