"""A small client that sends a model's monitoring data to Vigil: standard library only, safe to vendor.

    from vigil_client import VigilClient

    with VigilClient("https://vigil.example", token, "eq-momentum") as vigil:
        vigil.push_point("accuracy", 0.61)

See vigil_client/README.md.
"""

from vigil_client.client import KINDS, VigilClient
from vigil_client.errors import VigilError, VigilRefused, VigilUnavailable

__version__ = "0.1.0"
__all__ = ["KINDS", "VigilClient", "VigilError", "VigilRefused", "VigilUnavailable", "__version__"]
