"""Event handlers: a monitor's breach becomes an incident (services.incident_from_breach)."""

from risk.incidents import services


def open_on_breach(event) -> None:
    services.incident_from_breach(event.payload)
