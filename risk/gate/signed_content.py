"""What a kill-switch signature covers, recomputed from the database so `signatures.verify` catches an edit:
the scope, the reason, the versions the stop suspended (engaging), or the engagement it releases."""

from governance.core import signatures
from risk.gate.models import KillSwitch


def _current_payload(engagement: KillSwitch, signed: dict) -> dict:
    current = {
        "object": f"{KillSwitch.AUDIT_TYPE}:{engagement.pk}",
        "action": signed.get("action"),
        "scope": engagement.scope,
        "scope_key": engagement.scope_key,
    }
    if signed.get("action") == "engage":
        suspended = engagement.suspensions.select_related("version__model").order_by("pk")
        current["reason"] = engagement.reason
        current["versions"] = [f"{s.version.model.key} {s.version.version}" for s in suspended]
    else:
        current["reason"] = engagement.release_reason
        current["engaged_at"] = engagement.engaged_at.isoformat()
        current["engage_signature"] = engagement.engage_signature.content_hash if engagement.engage_signature else None
    return current


def register() -> None:
    signatures.register_payload(KillSwitch.AUDIT_TYPE, KillSwitch, _current_payload)
