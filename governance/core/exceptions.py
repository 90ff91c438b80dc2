"""Domain errors that every interface translates the same way (API: 409; UI: a message, nothing written)."""


class Conflict(Exception):
    """The action conflicts with the object's current state; `reasons` lists every unmet condition."""

    def __init__(self, reasons: list[str] | str):
        self.reasons = [reasons] if isinstance(reasons, str) else list(reasons)
        super().__init__("; ".join(self.reasons))
