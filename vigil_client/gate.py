"""Gate: ask Vigil whether a model may be used now, within a hard deadline, from a local cache when it can.

    gate = Gate("https://vigil.example", token)
    answer = gate.check("eq-momentum")  # never takes longer than the deadline, never raises because of Vigil
    if not answer.allowed:
        stop_trading(answer.reasons)

Vigil answers `GET /api/v1/gate/{key}/` with a strong ETag and `Cache-Control: private, max-age=N`. The gate keeps
each key's last answer with its ETag: while the answer is younger than max-age it is returned without a request;
after that the request carries If-None-Match and a 304 confirms the cached answer (and restarts its age).

Every call has a hard deadline: connecting, sending and reading (a server that accepts and never answers, or
trickles bytes) all fit inside it. The request runs in a short-lived worker thread the caller waits for at most
the time left; when the deadline passes, the caller shuts the worker's socket down, so the worker ends at once
too. A worker that cannot be woken (stuck in a DNS lookup) is counted, and past MAX_HANGING such workers the gate
stops starting new ones and answers an error, so threads never pile up.

Fail-closed: any error (timeout, connection refused or reset, a 5xx, a 4xx such as 404, an answer that is not
the gate's JSON) answers allowed=False, with a reason naming the error, UNLESS Vigil confirmed an answer for this
key less than `max_staleness` seconds ago: then that answer stands (source "cache", the error in `.error`). A
brief network blip does not stop trading; past the staleness window the model is blocked. An error is never
cached: the next call asks Vigil again. An authentication error (401: the token is revoked or wrong; 403: it may
not read the gate) is no blip: it blocks at once, whatever is cached and even with fail_open, and every cached
answer is forgotten (they were given to a token Vigil no longer accepts).
"""

from __future__ import annotations

import base64
import copy
import http.client
import json
import logging
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from vigil_client.client import USER_AGENT

log = logging.getLogger("vigil_client")

DEFAULT_DEADLINE = 2.0
DEFAULT_MAX_STALENESS = 30.0
MAX_AGE_CAP = 60.0  # a max-age of a day (a misconfigured proxy) would hide a kill switch: not obeyed
MAX_BODY_BYTES = 1_000_000  # a gate answer weighs a few hundred bytes
MAX_HANGING = 4  # workers past their deadline still alive; beyond it no new request starts
SOURCES = ("server", "not_modified", "cache", "error")
# A revoked or wrong token (401) or one without the gate capability (403): blocked at once, nothing cached stands.
AUTHENTICATION_ERRORS = (401, 403)


@dataclass(frozen=True)
class GateAnswer:
    """What the gate says about one model.

    allowed: may the model be used now. source: "server" (a fresh 200), "not_modified" (a 304 confirmed the
    cached answer), "cache" (the cached answer, within max-age, or after an error within max_staleness: then
    `error` says what failed) or "error" (no usable answer: blocked, unless fail_open). age: seconds since Vigil
    last gave or confirmed this answer (None for source "error"). The other fields are Vigil's: the version to
    use, its status, every reason it is blocked (dicts with "code" and "message"), the pilot's limits
    (max_notional, currency, instruments, venues, end_date) when the version is in pilot, the validator's
    conditions of use, the decision's revision and when it was decided (ISO 8601, UTC).
    """

    allowed: bool
    key: str
    source: str
    version: str | None = None
    status: str | None = None
    reasons: list = field(default_factory=list)
    limits: dict | None = None
    conditions: str = ""
    revision: int | None = None
    decided_at: str | None = None
    error: str = ""
    age: float | None = None


@dataclass(frozen=True)
class _Entry:
    etag: str | None
    body: dict
    fetched: float  # the clock when the request that got or confirmed the answer was sent
    max_age: float


class _Failure(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _max_age(headers) -> float:
    """Cache-Control's max-age in seconds (0 when absent, unreadable, no-cache or no-store), capped."""
    directives = {}
    for part in (headers.get("Cache-Control") or "").split(","):
        name, _, value = part.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-cache" in directives or "no-store" in directives:
        return 0.0
    try:
        return float(min(max(int(directives.get("max-age", "0")), 0), MAX_AGE_CAP))
    except ValueError:
        return 0.0


def _decision(payload: bytes, key: str) -> dict:
    """The gate's JSON answer, checked enough that a proxy's page or another model's answer is never taken."""
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        shown = payload[:200].decode("utf-8", "replace")
        raise _Failure("bad_answer", f"Vigil's gate answered something that is not JSON: {shown!r}") from None
    if not isinstance(body, dict) or not isinstance(body.get("allowed"), bool):
        raise _Failure("bad_answer", "Vigil's gate answered JSON without a true/false 'allowed'.")
    if not isinstance(body.get("reasons"), list):
        raise _Failure("bad_answer", "Vigil's gate answered JSON without a 'reasons' list.")
    if body.get("model", key) != key:
        raise _Failure("bad_answer", f"Vigil's gate answered for model {body.get('model')!r}, not {key!r}.")
    return body


def _detail(payload: bytes) -> str:
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return payload[:200].decode("utf-8", "replace")
    return str(body.get("detail", body) if isinstance(body, dict) else body)[:200]


class _Request:
    """One GET in a worker thread; `abandon()` (from the caller, at the deadline) shuts its socket down."""

    def __init__(self, gate: Gate, target: str, headers: dict, deadline_at: float):
        self._gate, self._target, self._headers, self._deadline_at = gate, target, headers, deadline_at
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._abandoned = False
        self.result: tuple[int, object, bytes] | None = None
        self.failure: _Failure | None = None

    def _left(self) -> float:
        left = self._deadline_at - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left

    def run(self) -> None:
        conn = None
        try:
            conn = self._gate._connection(self._left())
            conn.connect()  # the socket's timeout (the time left) bounds the connection and the TLS handshake
            with self._lock:
                if self._abandoned:
                    return
                self._conn = conn
            conn.request("GET", self._target, headers=self._headers)
            conn.sock.settimeout(self._left())  # each read waits at most the time left; abandon() ends a trickle
            with conn.getresponse() as response:
                payload = response.read(MAX_BODY_BYTES + 1)
                if len(payload) > MAX_BODY_BYTES:
                    raise _Failure("bad_answer", f"Vigil's gate answered more than {MAX_BODY_BYTES:,} bytes.")
                self.result = (response.status, response.headers, payload)
        except _Failure as failure:
            self.failure = failure
        except (TimeoutError, socket.timeout) as exc:  # noqa: UP041 - two classes before Python 3.10
            self.failure = _Failure("timeout", f"Vigil's gate timed out: {exc}")
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, dropped, TLS, DNS
            self.failure = _Failure("unreachable", f"Vigil's gate is unreachable: {type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug must answer an error (blocked), never an exception in the trading loop
            self.failure = _Failure("error", f"Vigil's gate request failed: {type(exc).__name__}: {exc}")
        finally:
            if conn is not None:
                conn.close()

    def abandon(self) -> None:
        with self._lock:
            self._abandoned = True
            conn = self._conn
        sock = conn.sock if conn is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the worker's blocked read at once
            except (OSError, ValueError):
                pass  # already closed by the worker


class Gate:
    """Asks Vigil's gate whether a model may be used now: `check(key)` never takes longer than `deadline`
    seconds and never raises because of Vigil.

    Fail-closed: on any error the model is blocked (allowed=False, source "error", a reason naming the error),
    except that an answer Vigil gave or confirmed less than `max_staleness` seconds ago still stands (source
    "cache", with the error in `.error`): a brief network blip does not stop trading, but past the staleness
    window the model is blocked. An error is never cached. Set max_staleness=0 to block on every error.
    A 401 or 403 (the token is refused) blocks at once and forgets every cached answer, fail_open or not.

    fail_open=True (not recommended: an outage then lets a stopped model trade) flips the default on error:
    the last answer Vigil gave for the key stands however old it is (so a model Vigil blocked stays blocked),
    and a key Vigil never answered is allowed (source "error", the error still in `reasons` and `error`).

    `clock` (for tests) is the time source of the cache's ages; the deadline always uses time.monotonic.
    The gate honours HTTP_PROXY/HTTPS_PROXY/NO_PROXY as read when it is created. Safe to share between threads.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        deadline: float = DEFAULT_DEADLINE,
        max_staleness: float = DEFAULT_MAX_STALENESS,
        fail_open: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        clock=None,
    ):
        if not deadline > 0:
            raise ValueError("deadline must be more than 0 seconds.")
        if not max_staleness >= 0:
            raise ValueError("max_staleness must be 0 seconds or more.")
        parts = urllib.parse.urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http:// or https:// URL, e.g. https://vigil.example.com")
        self.base_url = base_url.rstrip("/")
        self.deadline, self.max_staleness, self.fail_open = float(deadline), float(max_staleness), fail_open
        self._token = token
        self._scheme, self._host = parts.scheme, parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._netloc, self._prefix = parts.netloc.rpartition("@")[2], parts.path
        self._ssl_context = ssl_context
        self._proxy = self._proxy_from_environment()
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._cache: dict[str, _Entry] = {}
        self._hanging: list[threading.Thread] = []  # workers left behind at their deadline, until they end
        self._failing: set[str] = set()  # keys whose last request failed (warned once per episode)

    # ----- the question -----

    def check(self, key: str) -> GateAnswer:
        """May the model `key` be used now? Answers within `deadline` seconds, whatever state Vigil is in."""
        if not isinstance(key, str) or not key:
            raise ValueError("key must be a model's key, e.g. 'eq-momentum'.")
        deadline_at = time.monotonic() + self.deadline
        with self._lock:
            entry = self._cache.get(key)
            sent_at = self._clock()
            if entry is not None and sent_at - entry.fetched < entry.max_age:
                return self._answer(key, entry, "cache", sent_at)
        try:
            status, headers, payload = self._get(key, entry.etag if entry else None, deadline_at)
            if status == 304 and entry is not None and entry.etag is not None:
                etag, body, source = entry.etag, entry.body, "not_modified"
            elif status == 200:
                etag, body, source = headers.get("ETag"), _decision(payload, key), "server"
            elif status in AUTHENTICATION_ERRORS:
                raise _Failure("unauthorized", f"Vigil's gate refused the token with HTTP {status}: {_detail(payload)}")
            elif 400 <= status < 500:  # 404 a model it cannot see
                raise _Failure("refused", f"Vigil's gate refused the request with HTTP {status}: {_detail(payload)}")
            elif status >= 500:
                raise _Failure("server_error", f"Vigil's gate answered HTTP {status}: {_detail(payload)}")
            else:
                raise _Failure("bad_answer", f"Vigil's gate answered HTTP {status}: {_detail(payload)}")
        except _Failure as failure:
            return self._on_error(key, failure)
        fresh = _Entry(etag, body, sent_at, _max_age(headers))
        with self._lock:
            current = self._cache.get(key)
            if current is None or current.fetched <= fresh.fetched:  # a slower, older request must not win
                self._cache[key] = fresh
            recovered = key in self._failing
            self._failing.discard(key)
            now = self._clock()
        if recovered:
            log.info("Vigil gate: %s answered again (%s)", key, "allowed" if body["allowed"] else "blocked")
        return self._answer(key, fresh, source, now)

    def clear(self) -> None:
        """Forget every cached answer (the next check of each key asks Vigil without If-None-Match)."""
        with self._lock:
            self._cache.clear()

    def _on_error(self, key: str, failure: _Failure) -> GateAnswer:
        unauthorized = failure.code == "unauthorized"
        with self._lock:
            if unauthorized:
                self._cache.clear()  # answers given to a token Vigil now refuses are not Vigil's answers any more
            entry = self._cache.get(key)  # an error is never stored: the cache holds Vigil's answers only
            now = self._clock()
            first = key not in self._failing
            self._failing.add(key)
        usable = entry is not None and (self.fail_open or now - entry.fetched <= self.max_staleness)
        allowed = self.fail_open and not unauthorized
        if first:
            then = "the cached answer stands" if usable else ("allowed (fail_open)" if allowed else "blocked")
            log.warning("Vigil gate: %s: %s (answering: %s)", key, failure.message, then)
        if usable:
            return self._answer(key, entry, "cache", now, error=failure.message)
        reasons = [{"code": failure.code, "message": failure.message}]
        return GateAnswer(allowed=allowed, key=key, source="error", reasons=reasons, error=failure.message)

    @staticmethod
    def _answer(key: str, entry: _Entry, source: str, now: float, error: str = "") -> GateAnswer:
        body = entry.body
        return GateAnswer(
            allowed=body["allowed"],
            key=key,
            source=source,
            version=body.get("version"),
            status=body.get("status"),
            reasons=copy.deepcopy(body["reasons"]),  # a caller's edit must not change the cached answer
            limits=copy.deepcopy(body.get("pilot")),
            conditions=body.get("conditions") or "",
            revision=body.get("revision"),
            decided_at=body.get("decided_at"),
            error=error,
            age=max(0.0, now - entry.fetched),
        )

    # ----- the request -----

    def _get(self, key: str, etag: str | None, deadline_at: float):
        """(status, headers, payload) of one GET, or _Failure; returns or raises by `deadline_at`."""
        path = f"{self._prefix}/api/v1/gate/{urllib.parse.quote(key, safe='')}/"
        headers = {"Authorization": f"Token {self._token}", "Accept": "application/json", "User-Agent": USER_AGENT}
        if etag:
            headers["If-None-Match"] = etag
        target = path
        if self._proxy is not None and self._scheme == "http":  # a plain proxy takes the absolute URL
            target = f"http://{self._netloc}{path}"
            headers.update(self._proxy[2])
        with self._lock:
            self._hanging = [thread for thread in self._hanging if thread.is_alive()]
            if len(self._hanging) >= MAX_HANGING:
                raise _Failure(
                    "timeout", f"{len(self._hanging)} earlier requests to Vigil's gate are still hanging (timed out)."
                )
        request = _Request(self, target, headers, deadline_at)
        worker = threading.Thread(target=request.run, name="vigil-gate-request", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline_at - time.monotonic()))
        if worker.is_alive():
            request.abandon()
            with self._lock:
                self._hanging.append(worker)
            message = f"Vigil's gate did not answer within the {self.deadline:g} s deadline (timed out)."
            raise _Failure("timeout", message)
        if request.failure is not None or request.result is None:
            raise request.failure or _Failure("error", "Vigil's gate request ended without an answer.")
        return request.result

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._proxy is None:
            host, port = self._host, self._port
        else:
            host, port = self._proxy[0], self._proxy[1]
        if self._scheme == "http":
            return http.client.HTTPConnection(host, port, timeout=timeout)
        context = self._ssl_context or ssl.create_default_context()
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        if self._proxy is not None:
            conn.set_tunnel(self._host, self._port, headers=self._proxy[2])
        return conn

    def _proxy_from_environment(self):
        """(host, port, headers) of the proxy to go through, as urllib would choose it, or None."""
        url = urllib.request.getproxies().get(self._scheme)
        if not url or urllib.request.proxy_bypass(self._host):
            return None
        parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
        if not parts.hostname:
            return None
        headers = {}
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            secret = urllib.parse.unquote(parts.password or "")
            credentials = base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")
            headers["Proxy-Authorization"] = f"Basic {credentials}"
        return parts.hostname, parts.port or 80, headers
