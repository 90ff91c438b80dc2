"""The demo models' problem definitions (issue 24): recorded by each model's owner right after its registration,
through the model update service (audited), from governance/demo/demo_data.py's PROBLEM_DEFINITIONS."""

from governance.demo.demo_data import PROBLEM_DEFINITIONS
from models_registry import services


def record(model, definitions=PROBLEM_DEFINITIONS):
    """The model, with its problem definition recorded when the demo has one (unchanged otherwise)."""
    fields = definitions.get(model.key)
    if not fields:
        return model
    return services.model_update(
        model.owner, model, reason="Problem definition and boundaries recorded at registration.", **fields
    )
