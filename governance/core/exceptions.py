"""Domain errors that every interface translates the same way (API: 409; UI: a message, nothing written)."""

from django.core.exceptions import ValidationError


class Conflict(Exception):
    """The action conflicts with the object's current state; `reasons` lists every unmet condition."""

    def __init__(self, reasons: list[str] | str):
        self.reasons = [reasons] if isinstance(reasons, str) else list(reasons)
        super().__init__("; ".join(self.reasons))


class SigningLocked(ValidationError):
    """Signing is locked for this person after too many wrong passwords or codes (governance/core/signing_lock.py).

    A ValidationError on the password field, so every signing page shows it beside the password as any refusal;
    the API answers it 429 with Retry-After. `until`: when the lock ends."""

    def __init__(self, message: str, until):
        self.until = until
        super().__init__({"password": [message]}, code="signing_locked")
