"""A closure signature covers the incident's root cause and actions as closed: recomputed here for verify()."""

from governance.core import signatures
from risk.incidents.models import Incident
from risk.incidents.services import closure_payload


def _current(incident: Incident, signed: dict) -> dict:
    return closure_payload(incident)


def register() -> None:
    signatures.register_payload(Incident.AUDIT_TYPE, Incident, _current)
