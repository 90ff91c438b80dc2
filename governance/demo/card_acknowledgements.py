"""The demo's model cards acknowledged (issue 24): compliance publishes a policy under which the desks' traders
acknowledge the cards of tier-1 and tier-2 models before use, and the demo traders do so for every live model of
their desk but one, LEFT_UNACKNOWLEDGED, which the gate therefore answers blocked (`not_acknowledged`), as a desk
that has not read a new card would be. Made once: a second seed finds the acknowledgements and adds nothing."""

from django.contrib.auth import get_user_model

from governance.core.policy import DEFAULTS, policy_in_force, policy_publish
from models_registry.models import Model
from risk.gate import acknowledgements as acks
from risk.gate.access import asked_to_acknowledge
from risk.gate.models import Acknowledgement

ASKS = {"1": ["traders"], "2": ["traders"], "3": []}
LEFT_UNACKNOWLEDGED = "eq-meanrev-eu"


def seed(password_for) -> int:
    """Publish the policy and sign the traders' acknowledgements; returns how many were signed."""
    if Acknowledgement.objects.exists():
        return 0
    current = policy_in_force()
    if current.acknowledgement_required != ASKS:
        fields = {name: getattr(current, name) for name in DEFAULTS}  # the rest of the policy as it stands
        policy_publish(
            get_user_model().objects.get(username="compliance"),
            **{**fields, "acknowledgement_required": ASKS},
            notes="Model cards: each trader of the desk acknowledges the card of a tier-1 or tier-2 model before use.",
        )
    signed = 0
    for model in Model.objects.select_related("desk").order_by("key"):
        version = acks.version_in_use(model)
        if model.key == LEFT_UNACKNOWLEDGED or version is None or not ASKS[str(model.risk_tier)]:
            continue
        limitations, hash_ = acks.current_card(version)
        answers = {q["id"]: q["answer"] for q in acks.questions(version, limitations, hash_)}
        for person, _parts in asked_to_acknowledge(model.desk, ASKS[str(model.risk_tier)]).values():
            acks.acknowledgement_record(
                person, version, card_hash=hash_, answers=answers, password=password_for(person)
            )
            signed += 1
    return signed
