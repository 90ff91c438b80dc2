"""VigilClient: push monitoring rows from a trading system or a pipeline without ever waiting on Vigil.

push_* only appends to a bounded in-memory queue per kind; a background thread sends the queues in batches.
Each batch gets an Idempotency-Key that it keeps across all its retries, so a batch whose answer was lost
is stored once. Retryable failures (connection errors, timeouts, 408, 429, 5xx) are retried with exponential
backoff and full jitter; any other answer (400, 401, 403, 404, 409...) would be the same next time, so the
batch is recorded as refused and the thread moves on.
"""

from __future__ import annotations

import collections
import email.utils
import http.client
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from vigil_client import rows as build
from vigil_client.errors import VigilRefused, VigilUnavailable

log = logging.getLogger("vigil_client")

# The order of a flush cycle: outcomes go last because the server refuses an outcome whose prediction it has
# not stored yet.
KINDS = ("points", "trades", "predictions", "outcomes")
SERVER_MAX_BATCH = 10_000  # VIGIL_MONITORING_MAX_BATCH's default
# Vigil refuses a body over 10 MiB (Django's DATA_UPLOAD_MAX_MEMORY_SIZE) with a plain 400, so the sender splits
# larger batches first: 1,000 predictions of 400 features weigh about 11 MB.
MAX_BODY_BYTES = 8_000_000
RETRY_AFTER_CAP = 300.0  # a Retry-After of a day (a misconfigured proxy) is not obeyed
MAX_ERRORS_KEPT = 50
USER_AGENT = "vigil-client/0.1"
STOP_GRACE = 0.1  # seconds of close()'s timeout kept for the sender thread to stop


def _retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Surface a redirect as an answer: urllib would follow a 301/302 as a GET and lose the batch."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _parse(payload: bytes):
    try:
        return json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return payload.decode("utf-8", "replace")[:2000]  # a proxy's HTML page, say


def _retry_after(headers) -> float | None:
    """Retry-After in seconds (delta-seconds or an HTTP date), or None when absent or unreadable."""
    value = (headers.get("Retry-After") or "").strip() if headers is not None else ""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


class VigilClient:
    """Sends a model's monitoring data to Vigil in the background.

    push_point / push_prediction / push_outcome / push_trade never block and never raise because Vigil is slow
    or down (they raise ValueError/TypeError for a row Vigil would refuse). Call close() (or use the client as
    a context manager) so the last rows are sent.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        model_key: str,
        *,
        version: str | None = None,
        batch_size: int = 1000,
        max_queue: int = 100_000,
        flush_interval: float = 1.0,
        max_retries: int = 8,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        timeout: float = 10.0,
        max_body_bytes: int = MAX_BODY_BYTES,
        rng: random.Random | None = None,
        sleep=None,
    ):
        if not 1 <= batch_size <= SERVER_MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {SERVER_MAX_BATCH:,} (the server's limit).")
        if max_queue < 1 or max_retries < 0:
            raise ValueError("max_queue must be at least 1 and max_retries at least 0.")
        quoted = urllib.parse.quote(model_key, safe="")
        self._root_url = base_url.rstrip("/")
        self._gate = None
        self.base_url = f"{base_url.rstrip('/')}/api/v1/models/{quoted}/monitoring"
        self.model_key, self.version = model_key, version
        self.batch_size, self.max_queue, self.flush_interval = batch_size, max_queue, flush_interval
        self.max_retries, self.backoff_base, self.backoff_max = max_retries, backoff_base, backoff_max
        self.timeout, self.max_body_bytes = timeout, max_body_bytes
        self._token = token
        self._rng = rng or random.Random()
        self._stopping = threading.Event()
        # The default sleep wakes up when close() gives up, so a backoff never holds the program's exit.
        self._sleep = sleep or self._stopping.wait
        self._opener = urllib.request.build_opener(_NoRedirect)

        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified whenever a batch is settled
        self._wake = threading.Event()  # a full queue, a flush or close: send now rather than at the interval
        self._queues = {kind: collections.deque() for kind in KINDS}
        # The batch being sent, per kind: (idempotency key, rows). It keeps its key until Vigil accepts or
        # refuses it, even across flush cycles while Vigil is down.
        self._held: dict[str, tuple[str, list] | None] = dict.fromkeys(KINDS)
        self._dropping: set[str] = set()  # kinds in a drop episode (warned once per episode)
        # Ids of predictions that never reached Vigil (dropped or refused): their outcomes would refuse a whole
        # outcomes batch ("no prediction p-1"), so they are left out. Bounded like the queues.
        self._lost_ids: collections.deque = collections.deque(maxlen=max_queue)
        self._lost_id_set: set[str] = set()
        self._counts = dict.fromkeys(("sent", "refused", "dropped", "orphaned", "retried"), 0)
        self._errors: collections.deque = collections.deque(maxlen=MAX_ERRORS_KEPT)
        self._losses_at_flush = (0, 0, 0)  # refused, dropped, orphaned when flush() last answered
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="vigil-client-sender", daemon=True)
        self._thread.start()

    # ----- pushing: append and return -----

    def push_point(self, metric: str, value, timestamp=None) -> None:
        self._push("points", build.point(metric, value, timestamp))

    def push_prediction(self, id, features: dict, prediction, score=None, timestamp=None) -> None:
        self._push("predictions", build.prediction(id, features, prediction, score, timestamp))

    def push_outcome(self, id, outcome) -> None:
        self._push("outcomes", build.outcome(id, outcome))

    def push_trade(
        self,
        id,
        instrument: str,
        side: str,
        quantity,
        price,
        pnl,
        timestamp=None,
        expected_slippage=None,
        realised_slippage=None,
    ) -> None:
        row = build.trade(id, instrument, side, quantity, price, pnl, timestamp, expected_slippage, realised_slippage)
        self._push("trades", row)

    def _push(self, kind: str, row: dict) -> None:
        warn = full = False
        with self._lock:
            if self._closed:
                self._counts["dropped"] += 1
                return
            queue = self._queues[kind]
            if len(queue) >= self.max_queue:
                self._drop_locked(kind, queue.popleft())
                if kind not in self._dropping:
                    self._dropping.add(kind)
                    warn = True
            queue.append(row)
            full = len(queue) >= self.batch_size
        if warn:  # logged outside the lock: a slow log handler must not hold up other pushes
            log.warning("Vigil client: the %s queue is full (%d rows); dropping the oldest rows", kind, self.max_queue)
        if full:
            self._wake.set()

    def _drop_locked(self, kind: str, row: dict) -> None:
        self._counts["dropped"] += 1
        if kind == "predictions":
            self._forget_locked(row["id"])

    def _forget_locked(self, prediction_id: str) -> None:
        if len(self._lost_ids) == self._lost_ids.maxlen:
            self._lost_id_set.discard(self._lost_ids[0])
        self._lost_ids.append(prediction_id)
        self._lost_id_set.add(prediction_id)

    # ----- the gate -----

    @property
    def gate(self):
        """A Gate (vigil_client.gate) on the same Vigil with the same token, created on first use with the default
        deadline and staleness: `client.gate.check(client.model_key)`. Build a Gate yourself for other options."""
        with self._lock:
            if self._gate is None:
                from vigil_client.gate import Gate  # here: gate.py imports this module

                self._gate = Gate(self._root_url, self._token)
            return self._gate

    # ----- state -----

    def stats(self) -> dict:
        """Row counts: sent (accepted by Vigil), refused, dropped (queue full or unsent at close), orphaned
        (outcomes of predictions that never reached Vigil), pending (queued or being sent); retried counts
        retry attempts."""
        with self._lock:
            return {**self._counts, "pending": self._pending_locked()}

    @property
    def last_errors(self) -> list[dict]:
        """The latest refused batches (at most 50): kind, status, body (the server's answer), rows, key, at."""
        with self._lock:
            return list(self._errors)

    def _pending_locked(self) -> int:
        held = sum(len(batch[1]) for batch in self._held.values() if batch)
        return held + sum(len(queue) for queue in self._queues.values())

    # ----- flushing and closing -----

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued row is settled. True when every row pushed since the previous flush reached
        Vigil; False when some were refused, dropped or orphaned, or when the timeout passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._wake.set()
        with self._changed:
            while self._pending_locked():
                remaining = None if deadline is None else deadline - time.monotonic()
                if self._closed or (remaining is not None and remaining <= 0):
                    return False
                self._changed.wait(remaining)
            losses = (self._counts["refused"], self._counts["dropped"], self._counts["orphaned"])
            clean, self._losses_at_flush = losses == self._losses_at_flush, losses
            return clean

    def close(self, timeout: float | None = 30.0) -> bool:
        """Flush, then stop the sender, all within `timeout` seconds. Rows still unsent are counted as dropped, as
        are rows pushed after close. Returns flush()'s answer (False when already closed).

        A request still in flight when the time is up is abandoned (the sender is a daemon thread and ends when
        that request does): its rows are counted as dropped even if Vigil stores them (once, by their key)."""
        if self._closed:
            return False
        deadline = None if timeout is None else time.monotonic() + timeout
        # Up to a tenth of a second (a third of a short timeout) is kept for the sender to stop (a backoff wakes).
        sent = self.flush(None if timeout is None else max(0.0, timeout - min(STOP_GRACE, timeout / 3)))
        self._stopping.set()
        self._wake.set()
        # The sender may be inside one request: wait for it only as long as the caller allowed.
        self._thread.join(self.timeout + 1 if deadline is None else max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._closed = True
            unsent = self._pending_locked()
            self._counts["dropped"] += unsent
            for queue in self._queues.values():
                queue.clear()
            self._held = dict.fromkeys(KINDS)
            self._changed.notify_all()
        if unsent:
            log.warning("Vigil client closed with %d rows unsent; they are lost", unsent)
        return sent

    def __enter__(self) -> VigilClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----- sending -----

    def send_batch(self, kind: str, rows: list, idempotency_key: str | None = None) -> dict:
        """POST one batch and return Vigil's answer ({"stored", "rows", "batch", "version", "duplicate"}).

        Retries connection errors, timeouts, 408, 429 and 5xx with the same Idempotency-Key, then raises
        VigilUnavailable; raises VigilRefused at once for any other answer. Rows are sent as given (use the
        rows.* builders or the API's field names). Safe to call from several threads.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}.")
        key = idempotency_key or str(uuid.uuid4())
        body: dict = {kind: list(rows)}
        if self.version is not None:
            body["version"] = self.version
        data = json.dumps(body, allow_nan=False, separators=(",", ":")).encode("utf-8")
        request = urllib.request.Request(f"{self.base_url}/{kind}/", data=data, method="POST")
        for name, value in (
            ("Authorization", f"Token {self._token}"),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("Idempotency-Key", key),
            ("User-Agent", USER_AGENT),
        ):
            request.add_header(name, value)

        for attempt in range(self.max_retries + 1):
            retry_after = None
            try:
                status, headers, payload = self._post(request)
            except (OSError, http.client.HTTPException) as exc:  # refused, reset, dropped, timed out
                reason = f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= status < 300:
                    return _parse(payload)
                if not _retryable(status):
                    raise VigilRefused(status, _parse(payload), kind=kind, idempotency_key=key)
                reason = f"HTTP {status}"
                if status in (429, 503):
                    retry_after = _retry_after(headers)
            if attempt == self.max_retries or self._stopping.is_set():
                raise VigilUnavailable(reason, attempts=attempt + 1, kind=kind, idempotency_key=key)
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            with self._lock:
                self._counts["retried"] += 1
            log.info("Vigil client: %s batch %s failed (%s); retrying in %.2fs", kind, key, reason, delay)
            if self._sleep(delay) or self._stopping.is_set():
                raise VigilUnavailable(
                    f"{reason}; client closing", attempts=attempt + 1, kind=kind, idempotency_key=key
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def _post(self, request):
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:  # any non-2xx answer
            with error:
                return error.code, error.headers, error.read()

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform between 0 and the exponential cap, so clients that failed together spread out."""
        return self._rng.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))

    # ----- the sender thread -----

    def _run(self) -> None:
        wait = self.flush_interval
        while not self._stopping.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                delivered = self._send_all()
            except Exception:  # a bug must not kill the thread and silently stop monitoring
                log.exception("Vigil client: unexpected error in the sender")
                delivered = False
            # Vigil stayed down through a batch's retries: rest before the next cycle (a flush() wakes us).
            wait = self.flush_interval if delivered else max(self.flush_interval, self.backoff_max)

    def _send_all(self) -> bool:
        """One cycle: every kind in order, batch after batch, until the queues are empty. False when Vigil
        stayed unreachable; the batch keeps its key and later kinds wait (outcomes after predictions)."""
        for kind in KINDS:
            while not self._stopping.is_set() and (batch := self._take(kind)) is not None:
                key, rows = batch
                try:
                    if len(rows) > 1 and len(json.dumps(rows, separators=(",", ":"))) > self.max_body_bytes:
                        self._split(kind)  # not sent yet: halve it until it fits
                        continue
                    answer = self.send_batch(kind, rows, key)
                except VigilUnavailable as exc:
                    log.warning("Vigil client: %s; will try again", exc)
                    return False
                except VigilRefused as refused:
                    if refused.status == 413 and len(rows) > 1:
                        self._split(kind)  # too large for a proxy: send it in halves
                        continue
                    self._settle(kind, refused=refused)
                except Exception as exc:  # e.g. a row that cannot be written as JSON: refuse it, do not loop on it
                    self._settle(kind, refused=VigilRefused(0, repr(exc), kind=kind, idempotency_key=key))
                else:
                    self._settle(kind, answer=answer)
        return not self._stopping.is_set()

    def _take(self, kind: str) -> tuple[str, list] | None:
        """The kind's held batch, else the next batch_size rows of its queue (held until settled)."""
        with self._lock:
            if self._held[kind] is None:
                queue, rows = self._queues[kind], []
                while queue and len(rows) < self.batch_size:
                    row = queue.popleft()
                    if kind == "outcomes" and row["id"] in self._lost_id_set:
                        self._counts["orphaned"] += 1
                        continue
                    rows.append(row)
                if not queue and kind in self._dropping:
                    self._dropping.discard(kind)  # the episode is over: warn again next time
                self._changed.notify_all()
                if rows:
                    self._held[kind] = (str(uuid.uuid4()), rows)
            return self._held[kind]

    def _split(self, kind: str) -> None:
        with self._lock:
            _, rows = self._held[kind]
            half = len(rows) // 2
            # New keys are safe: Vigil never stored this batch (not sent yet, or answered 413).
            self._held[kind] = (str(uuid.uuid4()), rows[:half])
            self._queues[kind].extendleft(reversed(rows[half:]))

    def _settle(self, kind: str, *, answer=None, refused: VigilRefused | None = None) -> None:
        with self._lock:
            if self._held[kind] is None:  # close() gave up on it meanwhile (and counted it as dropped)
                return
            key, rows = self._held[kind]
            self._held[kind] = None
            if refused is None:
                self._counts["sent"] += len(rows)
            else:
                self._counts["refused"] += len(rows)
                if kind == "predictions":  # nothing of a refused batch is stored
                    for row in rows:
                        self._forget_locked(row["id"])
                error = {"kind": kind, "status": refused.status, "body": refused.body, "rows": len(rows)}
                self._errors.append(error | {"idempotency_key": key, "at": time.time()})
            self._changed.notify_all()
        if refused is not None:
            log.error(
                "Vigil refused a %s batch of %d rows (HTTP %s): %.1000s", kind, len(rows), refused.status, refused.body
            )
