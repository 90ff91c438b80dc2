"""What monitoring does when something happens elsewhere (outbox event handlers, run by a worker)."""

from models_registry.choices import LifecycleStatus as S
from models_registry.models import ModelVersion
from risk.monitoring import proposals


def propose_at_pilot(event) -> None:
    """A version entering pilot gets its proposed monitors (idempotent: a redelivered event adds nothing); so does
    one that returns to production without any (a rollback to a version older than monitoring)."""
    if event.payload.get("to") not in (S.PILOT, S.PRODUCTION):
        return
    version = ModelVersion.objects.select_related("model").filter(pk=event.payload["version"]).first()
    if version is not None:
        proposals.propose(version)
