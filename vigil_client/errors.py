"""What send_batch raises: a refusal (never worth retrying) or Vigil staying unreachable (worth trying later)."""

from __future__ import annotations


class VigilError(Exception):
    """Base class of the client's errors."""


class VigilRefused(VigilError):
    """Vigil answered and refused the batch (400, 401, 403, 404, 409...): sending it again gets the same answer.

    `status` is the HTTP status and `body` the parsed JSON answer (or its text when it was not JSON); for a 400
    it names each bad row: {"points": [{"row": 3, "field": "value", "error": "Give a number."}]}.
    """

    def __init__(self, status: int, body, *, kind: str = "", idempotency_key: str = ""):
        super().__init__(f"Vigil refused the {kind or 'batch'} batch with HTTP {status}: {str(body)[:500]}")
        self.status, self.body, self.kind, self.idempotency_key = status, body, kind, idempotency_key


class VigilUnavailable(VigilError):
    """Vigil did not accept the batch after every retry (connection errors, timeouts, 408, 429, 5xx).

    The batch may or may not have been stored: send it again with the same `idempotency_key` and it is stored
    at most once.
    """

    def __init__(self, reason: str, *, attempts: int = 0, kind: str = "", idempotency_key: str = ""):
        super().__init__(f"Vigil did not accept the {kind or 'batch'} batch after {attempts} attempt(s): {reason}")
        self.reason, self.attempts, self.kind, self.idempotency_key = reason, attempts, kind, idempotency_key
