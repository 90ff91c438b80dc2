"""Vigil behind a real reverse proxy (Debian's nginx, started by the test in front of the live server): the client's
address is the one the proxy saw, never what the client wrote into X-Forwarded-For; a lockout stops the guesser's
address only; the audit trail records the same address django-axes counts.

Clients at different addresses are real connections from different loopback source addresses (127.0.0.2, ...):
Linux routes all of 127.0.0.0/8 to the loopback interface, so nginx sees each as a different peer."""

import os
import shutil
import socket
import subprocess
import time

import pytest
import requests
from axes.models import AccessAttempt
from django.test import RequestFactory
from requests.adapters import HTTPAdapter

from governance.core.client_address import client_ip
from governance.core.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ATTACKER, PERSON = "127.0.0.2", "127.0.0.3"


# --- The rule -----------------------------------------------------------------------------------------------


def _request(remote="10.0.0.1", forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_without_trusted_proxies_only_the_connection_counts(settings):
    settings.VIGIL_TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(forwarded="203.0.113.9")) == "10.0.0.1"


@pytest.mark.parametrize(
    "count,forwarded,expected",
    [
        (1, "203.0.113.9, 198.51.100.7", "198.51.100.7"),  # the leftmost is the client's own writing
        (2, "203.0.113.9, 198.51.100.7, 192.0.2.1", "198.51.100.7"),  # load balancer then nginx
        (1, "2001:db8::1", "2001:db8::1"),
        (2, "198.51.100.7", "10.0.0.1"),  # fewer entries than proxies: it did not come through them all
        (1, "", "10.0.0.1"),
        (1, "203.0.113.9, not-an-address", "10.0.0.1"),  # a proxy writes addresses; never record garbage
    ],
)
def test_behind_trusted_proxies_the_client_is_the_nth_entry_from_the_right(settings, count, forwarded, expected):
    settings.VIGIL_TRUSTED_PROXY_COUNT = count
    assert client_ip(_request(forwarded=forwarded)) == expected


# --- Through nginx --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NGINX_CONF = """
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass {upstream};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


@pytest.fixture
def nginx(live_server, tmp_path):
    """nginx in front of the live server, as the README's deployment puts it, in one process run as this user."""
    if not shutil.which(NGINX):
        if os.environ.get("CI"):
            pytest.fail("nginx not found: install Debian's nginx-light (.ci/run does)")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    port = _free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=tmp_path, port=port, upstream=live_server.url))
    proc = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {proc.stderr.read().decode()}")
                time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class _From(HTTPAdapter):
    """Connections from one source address."""

    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def _browser(address: str, spoofed: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", _From(address))
    session.headers["X-Forwarded-For"] = spoofed  # what any client may write; nginx appends the real peer
    return session


def _login(session, base, username, password) -> requests.Response:
    session.get(f"{base}/login/")
    token = session.cookies["csrftoken"]
    return session.post(
        f"{base}/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        allow_redirects=False,
    )


@pytest.mark.django_db(transaction=True)
def test_a_lockout_behind_the_proxy_stops_the_guesser_only_and_the_audit_trail_names_each(nginx, settings):
    # About 2 s: a live server, nginx and a dozen logins through both (each one a page and a post).
    settings.VIGIL_TRUSTED_PROXY_COUNT = 1
    UserFactory(username="compliance-officer")
    attacker = _browser(ATTACKER, spoofed="198.51.100.7")
    answers = [
        _login(attacker, nginx, "compliance-officer", "guess-guess-guess") for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert [a.status_code for a in answers] == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]  # the last locks
    assert _login(attacker, nginx, "compliance-officer", PASSWORD).status_code == 429
    # Writing another address into X-Forwarded-For does not get the guesser out of it.
    attacker.headers["X-Forwarded-For"] = PERSON
    assert _login(attacker, nginx, "compliance-officer", PASSWORD).status_code == 429

    # The compliance officer, at another address (and claiming to be the attacker), signs in.
    person = _browser(PERSON, spoofed=ATTACKER)
    answer = _login(person, nginx, "compliance-officer", PASSWORD)
    assert answer.status_code == 302 and "sessionid" in person.cookies

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    failed = AuditEvent.objects.filter(action="auth.login_failed", object_repr="compliance-officer")
    assert failed.count() == settings.AXES_FAILURE_LIMIT + 2  # the guesses, and the two tries while locked out
    assert set(failed.values_list("ip_address", flat=True)) == {ATTACKER}
    assert list(AuditEvent.objects.filter(action="auth.login").values_list("ip_address", flat=True)) == [PERSON]
