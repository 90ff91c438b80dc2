"""The outbound guard (governance/core/outbound.py): which addresses Vigil sends to, checked at creation and again
at connect time; no redirect, bounded times, and outcomes in Vigil's words."""

import ipaddress
import socket
import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from governance.core import outbound
from tests.risk.webhook_receiver import Receiver

HOSTILE = [
    "http://127.0.0.1:5432/",
    "http://localhost:6379/",
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://[::1]:8000/",
    "http://0x7f000001/",  # hex
    "http://2130706433/",  # decimal
    "http://0177.0.0.1/",  # octal
    "http://017700000001/",
    "http://127.1/",  # short form
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://[::ffff:a9fe:a9fe]/",  # the metadata address, mapped
    "http://[64:ff9b::a9fe:a9fe]/",  # ... through NAT64
    "http://[2002:7f00:1::]/",  # 6to4 of loopback
    "http://0.0.0.0:8000/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://[fd00:ec2::254]/",  # AWS metadata over IPv6
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
]


@pytest.fixture
def post_nowhere(monkeypatch):
    """Fail the test if anything connects: a refusal must come before any socket is opened."""

    def connect(*args, **kwargs):
        raise AssertionError("a refused address was connected to")

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.mark.parametrize("url", HOSTILE)
def test_it_refuses_every_form_of_an_internal_address_before_connecting(url, settings, post_nowhere):
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = []
    with pytest.raises(outbound.Refused) as refused:
        outbound.check_url(url)
    assert "address" in str(refused.value)
    result = outbound.post(url, b"{}", {}, timeout=1)
    assert (result.delivered, result.refused, result.status) == (False, True, None)
    assert result.error.startswith("address not allowed: ")


def test_an_allowed_network_is_reached_but_never_the_metadata_address_inside_it(settings):
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = ["10.20.0.0/16", "169.254.0.0/16"]
    assert outbound.refusal("10.20.3.4") is None
    assert outbound.refusal("169.254.10.1") is None
    assert "never allowed" in outbound.refusal("169.254.169.254")
    assert "never allowed" in outbound.refusal("::ffff:169.254.169.254")
    assert "private" in outbound.refusal("10.21.0.1")
    assert outbound.refusal("93.184.216.34") is None  # public


@pytest.mark.parametrize(
    ("value", "named"),
    [("169.254.169.254/32", "metadata"), ("not-a-network", "not a network"), ("fd00:ec2::254", "metadata")],
)
def test_a_setting_that_names_a_metadata_address_or_no_network_stops_start_up(settings, value, named):
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = [value]
    with pytest.raises(ImproperlyConfigured, match=named):
        outbound.allowed_networks()


def test_a_name_that_resolves_to_loopback_at_delivery_is_refused_there_dns_rebinding(settings, monkeypatch):
    """Public when the receiver was created, loopback when it is delivered to: refused at connect time."""
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = []
    answers = iter([[ipaddress.ip_address("93.184.216.34")], [ipaddress.ip_address("127.0.0.1")]])
    monkeypatch.setattr(outbound, "resolve", lambda host, port, timeout: next(answers))
    with Receiver() as receiver:
        url = receiver.url.replace("127.0.0.1", "rebind.example.com")
        outbound.check_url(url)  # public now: accepted
        result = outbound.post(url, b"{}", {}, timeout=2)
        assert receiver.requests == []
    assert result.refused and not result.delivered
    assert result.error == (
        "address not allowed: rebind.example.com: 127.0.0.1 is a loopback address, outside "
        "VIGIL_OUTBOUND_ALLOWED_NETWORKS"
    )


def test_it_connects_to_the_address_it_checked_with_the_name_in_the_host_header(settings, monkeypatch):
    """The name is resolved once (by the guard) and the socket connects to that address: the system resolver
    never sees `receiver.internal`, which does not exist."""
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    calls = []
    monkeypatch.setattr(
        outbound, "resolve", lambda host, port, timeout: calls.append(host) or [ipaddress.ip_address("127.0.0.1")]
    )
    with Receiver(body=b'{"internal": "secret"}', headers={"X-Internal": "secret"}) as receiver:
        url = receiver.url.replace("127.0.0.1", "receiver.internal")
        result = outbound.post(url, b'{"a": 1}', {"Content-Type": "application/json"}, timeout=2)
        request = receiver.wait_for(1)[0]
    assert (result.delivered, result.status, result.error) == (True, 200, "")
    assert calls == ["receiver.internal"]
    assert request["headers"]["Host"] == f"receiver.internal:{url.split(':')[2].split('/')[0]}"
    assert request["body"] == b'{"a": 1}'
    assert "secret" not in repr(result)  # the receiver's body and headers are never kept


def test_credentials_in_the_url_are_sent_as_basic_authentication(settings):
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with Receiver() as receiver:
        url = receiver.url.replace("http://", "http://bot:s%40cret@")
        assert outbound.post(url, b"{}", {}, timeout=2).delivered
        request = receiver.wait_for(1)[0]
    assert request["headers"]["Authorization"] == "Basic Ym90OnNAY3JldA=="  # bot:s@cret


def test_a_redirect_is_an_answer_not_followed(settings):
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with Receiver() as target, Receiver(answers=[302], headers={"Location": ""}) as redirecting:
        redirecting.answer_headers["Location"] = target.url
        result = outbound.post(redirecting.url, b"{}", {}, timeout=2)
        redirecting.wait_for(1)
        assert target.requests == []
    assert (result.delivered, result.status, result.error) == (False, 302, "HTTP 302: redirects are not followed")


def test_a_receiver_that_never_answers_times_out_within_the_bound(settings):
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with Receiver(hang=30) as receiver:
        started = time.monotonic()
        result = outbound.post(receiver.url, b"{}", {}, timeout=0.3)
        took = time.monotonic() - started
    assert result.timed_out and not result.delivered and result.error == "no answer within 0.3 s"
    assert 0.3 <= took < 2


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_deadline(settings):
    """Each byte comes before a per-read timeout would fire: only the deadline's watchdog ends it."""
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle():
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.wait(0.05):
            try:
                conn.sendall(b"X")
            except OSError:
                break
        conn.close()

    threading.Thread(target=trickle, daemon=True).start()
    try:
        started = time.monotonic()
        result = outbound.post(f"http://127.0.0.1:{server.getsockname()[1]}/", b"{}", {}, timeout=0.4)
        took = time.monotonic() - started
    finally:
        stop.set()
        server.close()
    assert result.timed_out and not result.delivered
    assert took < 2


def test_an_unreachable_receiver_is_told_in_vigils_words(settings):
    settings.VIGIL_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    result = outbound.post(f"http://127.0.0.1:{port}/", b"{}", {}, timeout=1)
    assert (result.delivered, result.status, result.error) == (False, None, "connection refused")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://bot:hunter2@hooks.example.com/x", "https://***@hooks.example.com/x"),
        ("https://hooks.example.com:8443/x?token=abc&v=2#frag", "https://hooks.example.com:8443/x?token=***&v=***"),
        ("https://:tok@hooks.example.com/", "https://***@hooks.example.com/"),
        ("https://hooks.example.com/services/a", "https://hooks.example.com/services/a"),
        ("http://[::1]:8080/?k=v", "http://[::1]:8080/?k=***"),
    ],
)
def test_a_url_is_shown_without_its_credentials_or_query_values(url, shown):
    assert outbound.display_url(url) == shown
