"""Every HTTP request Vigil sends to another system goes through here (webhooks now; the registry intake and the
identity provider later), so no feature can be turned into a port scanner of the network Vigil runs in.

- Where: the host is resolved and every address it resolves to is checked. Loopback, link-local, private,
  shared, reserved, multicast and unspecified addresses are refused unless the deployment allows their network
  (`VIGIL_OUTBOUND_ALLOWED_NETWORKS`, CIDRs: receivers inside a bank's network are normal); cloud metadata
  addresses are refused whatever it allows. Addresses are read by `ipaddress` from what the system resolver
  answers, so hex, decimal, octal and short forms (0x7f000001, 2130706433, 0177.1, 127.1) and IPv4 inside IPv6
  (::ffff:127.0.0.1, 6to4, NAT64, Teredo) are judged by the address they reach.
- When: at creation (`check_url`: a receiver that would be refused is never saved) and again at connect time.
  The connection is opened to the address that was just checked (the name is resolved once, then the socket
  connects to that IP literal), so a name that resolves elsewhere between the check and the connect (DNS
  rebinding) changes nothing; the Host header, TLS SNI and certificate check use the name.
- How: no redirect is followed (a 3xx is an answer, not delivered), no proxy is used, the resolution and the
  connection are bounded by `VIGIL_OUTBOUND_CONNECT_TIMEOUT_SECONDS` and the whole request by its `timeout` (a
  watchdog shuts the socket at the deadline, so a receiver trickling its answer byte by byte is cut off too).
  Only the status line and headers are read (http.client caps them); no body is read.
- What is kept: an `Outcome` of Vigil's own words (delivered, HTTP status, refused and why, timed out,
  unreachable) and the time taken; never the receiver's body, headers or reason phrase, so the attempt log
  auditors read cannot show what an internal service answered.

`display_url` is how a receiver's URL is shown anywhere (pages, API, audit trail): its user:password and the
values of its query string are replaced by "***".
"""

import base64
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SETTING = "VIGIL_OUTBOUND_ALLOWED_NETWORKS"
USER_AGENT = "Vigil/1"
HIDDEN = "***"

# Cloud instance metadata and host services: credentials live there. Refused even inside an allowed network.
METADATA_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.169.254/32",  # AWS, GCP, Azure, OpenStack, Oracle, DigitalOcean
        "169.254.170.2/32",  # AWS ECS task metadata and credentials
        "169.254.170.23/32",  # AWS EKS pod identity
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "fd00:ec2::23/128",  # AWS EKS pod identity over IPv6
        "100.100.100.200/32",  # Alibaba Cloud
        "168.63.129.16/32",  # Azure host (wire server)
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Refused(Exception):
    """An address Vigil will not send to; the message is safe to show (it names the address's kind)."""


@dataclass(frozen=True)
class Outcome:
    """What one request came to, in Vigil's words. delivered: a 2xx. status: the HTTP status when the receiver
    answered. error: why it was not delivered ("" when it was). elapsed_ms: from the start to the answer."""

    delivered: bool
    status: int | None
    error: str
    elapsed_ms: float
    refused: bool = False  # Vigil refused to send (the address), as opposed to the receiver failing
    timed_out: bool = False


# --- Which addresses ---------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _parse_networks(values: tuple) -> tuple:
    networks = []
    for value in values:
        try:
            network = ipaddress.ip_network(str(value).strip(), strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{SETTING}: {value!r} is not a network (e.g. 10.20.0.0/16).") from None
        if any(network.subnet_of(m) for m in METADATA_NETWORKS if m.version == network.version):
            raise ImproperlyConfigured(f"{SETTING}: {value!r} is a cloud metadata address; it is never allowed.")
        networks.append(network)
    return tuple(networks)


def allowed_networks() -> tuple:
    """The networks the deployment allows besides public addresses (ImproperlyConfigured when one is not a
    network or is a metadata address: checked at start-up by the core's ready())."""
    return _parse_networks(tuple(getattr(settings, SETTING, ()) or ()))


def _embedded_ipv4(address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo's client, NAT64), if any."""
    if address.version != 6:
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address) -> str | None:
    """Why Vigil will not connect to `address` (an ipaddress address or its text), or None when it may."""
    address = ipaddress.ip_address(address)
    inner = _embedded_ipv4(address)
    judged = inner or address
    if any(judged in network for network in METADATA_NETWORKS):
        kind = "a cloud metadata address, never allowed"
    elif any(judged in network for network in allowed_networks()):
        return None
    else:
        kind = next((name for name, test in _KINDS if test(judged)), None)
        if kind is None:
            return None
        kind = f"{kind} address, outside {SETTING}"
    shown = f"{address} (that is {inner})" if inner else str(address)
    return f"{shown} is {kind}"


_KINDS = (
    ("a loopback", lambda a: a.is_loopback),
    ("a link-local", lambda a: a.is_link_local),
    ("an unspecified", lambda a: a.is_unspecified),
    ("a multicast", lambda a: a.is_multicast),
    ("a private", lambda a: a.is_private),
    ("a non-public", lambda a: not a.is_global),
)


def resolve(host: str, port: int, timeout: float) -> list:
    """Every address `host` resolves to (tests replace this to play a rebinding DNS). The system resolver has
    no timeout of its own: it runs in a daemon thread waited for at most `timeout` seconds."""
    found: list = []
    failure: list = []

    def lookup():
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, ValueError) as exc:  # UnicodeError: a name IDNA cannot encode
            failure.append(exc if isinstance(exc, OSError) else OSError(f"{host} is not a valid name"))

    worker = threading.Thread(target=lookup, name="vigil-outbound-resolve", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError("the name did not resolve in time")
    if failure:
        raise failure[0]
    addresses = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
        if address not in addresses:
            addresses.append(address)
    return addresses


def checked_addresses(host: str, port: int, timeout: float) -> list:
    """The addresses of `host`, all of them allowed, or Refused naming the first that is not (one refused address
    refuses the name: which one a connection would take is the resolver's choice)."""
    literal = _literal(host)
    addresses = [literal] if literal is not None else resolve(host, port, timeout)
    for address in addresses:
        reason = refusal(address)
        if reason is not None:
            raise Refused(reason if host == str(address) else f"{host}: {reason}")
    if not addresses:
        raise OSError(f"{host} resolves to no address")
    return addresses


def _literal(host: str):
    """The address `host` spells in standard notation (an IPv6 zone dropped), else None (a name, or a short or
    hex form the resolver reads)."""
    try:
        return ipaddress.ip_address(unquote(host).split("%", 1)[0])
    except ValueError:
        return None


# --- URLs --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with its query string
    authorization: str | None  # Basic credentials from the URL's user:password


def parse(url: str) -> Target:
    """An http(s) URL with a host; ValueError (a sentence) otherwise."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError("Give a valid http:// or https:// address.") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("Give an http:// or https:// address: Vigil POSTs to it.")
    if not host:
        raise ValueError("Name the receiver's host, e.g. https://alerts.example.com/vigil.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    authorization = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = f"Basic {base64.b64encode(pair).decode('ascii')}"
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path, authorization)


def check_url(url: str) -> None:
    """At creation: ValueError for a URL that is not http(s), Refused for one whose host is (or resolves to) an
    address Vigil will not send to. A name that does not resolve now is accepted: each delivery checks again."""
    target = parse(url)
    try:
        checked_addresses(target.host, target.port, connect_timeout())
    except (OSError, TimeoutError):
        return


def display_url(url: str) -> str:
    """The URL as anyone is shown it: user:password and query-string values replaced by ***, the fragment
    dropped; the scheme, host, port, path and parameter names kept so people can tell receivers apart."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        return HIDDEN
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    if parts.username is not None or parts.password is not None:
        netloc = f"{HIDDEN}@{netloc}"
    query = "&".join(
        f"{name}={HIDDEN}" if sep else name
        for name, sep, _value in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


# --- Sending -----------------------------------------------------------------------------------------------


def connect_timeout() -> float:
    return settings.VIGIL_OUTBOUND_CONNECT_TIMEOUT_SECONDS


def _open_socket(host: str, port: int, timeout: float, deadline: float) -> socket.socket:
    """Resolve once, check every address, connect to a checked one (the next if it does not answer, while time is
    left); the connected peer is checked again."""
    last_error: OSError | None = None
    for address in checked_addresses(host, port, timeout):
        if time.monotonic() >= deadline:
            raise TimeoutError("no time left to connect")
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(max(0.001, min(timeout, deadline - time.monotonic())))
            sock.connect((str(address), port))
            peer = ipaddress.ip_address(sock.getpeername()[0].split("%", 1)[0])
            if peer != address or refusal(peer) is not None:  # belt and braces: what we reached, not what we asked
                raise Refused(f"address not allowed: connected to {peer}")
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
        except Refused:
            sock.close()
            raise
    raise last_error or OSError(f"{host} could not be reached")


class _Connection(http.client.HTTPConnection):
    deadline = float("inf")

    def connect(self):
        self.sock = _open_socket(self.host, self.port, self.timeout, self.deadline)


class _TLSConnection(http.client.HTTPSConnection):
    deadline = float("inf")

    def connect(self):
        sock = _open_socket(self.host, self.port, self.timeout, self.deadline)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # SNI and certificate: the name


def post(url: str, body: bytes, headers: dict, *, timeout: float) -> Outcome:
    """POST `body` to `url` within `timeout` seconds (connecting within the connect timeout); never raises."""
    started = time.monotonic()
    deadline = started + timeout

    def outcome(status=None, error="", refused=False, timed_out=False) -> Outcome:
        delivered = status is not None and 200 <= status < 300
        elapsed = (time.monotonic() - started) * 1000
        return Outcome(delivered, status, error, round(elapsed, 1), refused=refused, timed_out=timed_out)

    try:
        target = parse(url)
    except ValueError as exc:
        return outcome(error=f"address not allowed: {exc}", refused=True)
    connection_class = _TLSConnection if target.scheme == "https" else _Connection
    conn = connection_class(target.host, target.port, timeout=min(connect_timeout(), timeout))
    conn.deadline = deadline
    cut = threading.Event()  # set by the watchdog: whatever was read after it is not an answer
    watchdog = threading.Timer(timeout, _shut, args=(conn, cut))
    watchdog.daemon = True
    watchdog.start()
    connected = False
    try:
        conn.connect()
        connected = True
        conn.sock.settimeout(max(0.001, deadline - time.monotonic()))
        sent_headers = {"User-Agent": USER_AGENT, **headers, "Connection": "close"}
        if target.authorization:
            sent_headers["Authorization"] = target.authorization
        conn.request("POST", target.path, body=body, headers=sent_headers)
        response = conn.getresponse()  # the status line and headers only: the body is never read
        status = None if cut.is_set() else response.status
    except Refused as exc:
        return outcome(error=f"address not allowed: {exc}", refused=True)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if not (cut.is_set() or isinstance(exc, TimeoutError)):
            return outcome(error=_network_error(exc))
        status = None
    finally:
        watchdog.cancel()
        conn.close()
    if status is None:
        if not connected:
            return outcome(error=f"not connected within {min(connect_timeout(), timeout):g} s", timed_out=True)
        return outcome(error=f"no answer within {timeout:g} s", timed_out=True)
    if 300 <= status < 400:
        return outcome(status, f"HTTP {status}: redirects are not followed")
    return outcome(status, "" if 200 <= status < 300 else f"HTTP {status}")


def _shut(conn, cut: threading.Event) -> None:
    cut.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked read or write at once
        except (OSError, ValueError):
            pass


def _network_error(exc: BaseException) -> str:
    """Vigil's words for a failure to reach the receiver (never text the receiver sent)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "the name does not resolve"
    if isinstance(exc, ConnectionError | http.client.RemoteDisconnected):
        return "the connection was closed without an answer"
    if isinstance(exc, http.client.HTTPException | ValueError):
        return "the answer was not HTTP"
    return f"network error ({type(exc).__name__})"
