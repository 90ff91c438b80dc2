"""A small client that sends a model's monitoring data to Vigil: standard library only, safe to vendor.

    from vigil_client import VigilClient

    with VigilClient("https://vigil.example", token, "eq-momentum") as vigil:
        vigil.push_point("accuracy", 0.61)
        if not vigil.gate.check("eq-momentum").allowed:  # fail-closed, within a hard deadline
            stop_trading()

See vigil_client/README.md.
"""

from vigil_client.client import KINDS, VigilClient
from vigil_client.errors import VigilError, VigilRefused, VigilUnavailable
from vigil_client.gate import Gate, GateAnswer

__version__ = "0.1.0"
__all__ = [
    "KINDS",
    "Gate",
    "GateAnswer",
    "VigilClient",
    "VigilError",
    "VigilRefused",
    "VigilUnavailable",
    "__version__",
]
