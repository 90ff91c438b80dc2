"""In a browser: the policy asks the desk's traders to acknowledge model cards; the gate answers blocked for the desk;
a trader reads the card, fails the comprehension check (nothing recorded), passes it, signs, and the gate for the desk
turns allowed."""

import pytest
import requests

from governance.core.policy import policy_publish
from models_registry import services as registry
from models_registry.models import Model
from risk.gate import acknowledgements as acks
from risk.gate.models import Acknowledgement
from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD, token_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def desk_answer(live_server, token) -> dict:
    response = requests.get(
        f"{live_server.url}/api/v1/gate/?desk=sys-eq", headers={"Authorization": f"Token {token}"}, timeout=15
    )
    assert response.status_code == 200, response.text
    return next(d for d in response.json()["decisions"] if d["model"] == "mine")


def test_a_trader_acknowledges_the_card_and_the_desk_is_allowed(page, live_server):
    world = build_world()  # mine 1.0 in production, on the trader's desk
    registry.model_update(
        world.owner,
        Model.objects.get(pk=world.mine.pk),
        reason="Card",
        intended_use="Ranking US large caps by momentum",
        out_of_scope_uses="Sizing positions; small caps",
        operating_boundaries=[{"name": "VIX", "max": 35}],
    )
    policy_publish(world.compliance, acknowledgement_required={"1": ["traders"], "2": ["traders"], "3": ["traders"]})
    token = token_for(world.trader)
    blocked = desk_answer(live_server, token)
    assert blocked["allowed"] is False and blocked["reasons"][0]["code"] == "not_acknowledged"
    assert [p["username"] for p in blocked["reasons"][0]["missing"]] == ["trader"]

    version = acks.version_in_use(Model.objects.get(pk=world.mine.pk))
    limitations, hash_ = acks.current_card(version)
    right = {q["id"]: q["answer"] for q in acks.questions(version, limitations, hash_)}

    login(page, live_server, "trader", PASSWORD)
    page.goto(f"{live_server.url}/models/mine/versions/1.0/card/")
    assert "Sizing positions" in page.inner_text("[data-testid=card-out-of-scope]")
    assert "Robert" in page.inner_text("[data-testid=card-missing]") or "trader" in page.inner_text(
        "[data-testid=card-missing]"
    )
    page.click("[data-testid=acknowledge-card]")
    page.wait_for_url(f"{live_server.url}/models/mine/versions/1.0/card/acknowledge/")
    assert page.inner_text("[data-testid=ack-card-hash]") == hash_

    for qid, answer in right.items():  # every answer wrong
        page.check(f"input[name={qid}][value={'no' if answer == 'yes' else 'yes'}]")
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=acknowledge-submit]")
    assert page.is_visible("text=answers do not match the card")
    assert not Acknowledgement.objects.exists()
    assert desk_answer(live_server, token)["allowed"] is False

    for qid, answer in right.items():
        page.check(f"input[name={qid}][value={answer}]")
    page.fill("#id_password", PASSWORD)
    page.click("[data-testid=acknowledge-submit]")
    page.wait_for_url(f"{live_server.url}/models/mine/versions/1.0/card/")
    assert page.is_visible("[data-testid=acknowledged-by-you]")
    ack = Acknowledgement.objects.get()
    assert ack.user_id == world.trader.pk and ack.card_hash == hash_
    assert desk_answer(live_server, token)["allowed"] is True
