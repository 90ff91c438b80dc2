"""Acknowledgements of model cards, enforced by the gate (issue 24): who the policy asks, the comprehension check,
the signature over the current card's hash, `not_acknowledged` naming who is missing, a new card asking again, and
an acknowledgement of an old card refused with 409 naming the current one."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.core import signatures
from governance.core.exceptions import Conflict
from governance.core.models import Signature
from governance.core.policy import policy_publish
from models_registry import services as registry
from models_registry.models import Model
from risk.gate import acknowledgements as acks
from risk.gate import decisions
from risk.gate.models import Acknowledgement
from tests.factories import PASSWORD, UserFactory
from tests.outbox import deliver as deliver_outbox

GATE = "/api/v1/gate/{}/"
ACKS = "/api/v1/models/{}/versions/{}/card/acknowledgements/"


def require(world, *parts, tier_of=None):
    policy_publish(world.compliance, acknowledgement_required={"1": list(parts), "2": list(parts), "3": list(parts)})


def right_answers(version) -> dict:
    limitations, hash_ = acks.current_card(version)
    return {q["id"]: q["answer"] for q in acks.questions(version, limitations, hash_)}


def acknowledge(user, version, **overrides):
    fields = {
        "card_hash": acks.current_card(version)[1],
        "answers": right_answers(version),
        "password": PASSWORD,
        **overrides,
    }
    return acks.acknowledgement_record(user, version, **fields)


def reasons(model):
    return decisions.decision_for(Model.objects.select_related("desk").get(pk=model.pk)).body["reasons"]


def ack_reason(model):
    return next((r for r in reasons(model) if r["code"] == "not_acknowledged"), None)


@pytest.mark.django_db
def test_it_asks_nobody_under_vigils_default_policy(world):
    assert reasons(world.mine) == []


@pytest.mark.django_db
def test_the_gate_blocks_the_desk_naming_each_trader_and_the_head_who_is_missing(world):
    head = UserFactory(username="head", first_name="Hedda", last_name="Head")
    world.desk.head = head
    world.desk.save()
    second = UserFactory(username="trader2", roles=["trader"], desk=world.desk)
    require(world, "traders", "desk_head")
    missing = ack_reason(world.mine)["missing"]
    assert [(p["username"], p["as"]) for p in missing] == [
        ("head", ["desk_head"]),
        ("trader", ["traders"]),
        ("trader2", ["traders"]),
    ]
    assert "Hedda Head (head, desk head)" in ack_reason(world.mine)["message"]
    assert ack_reason(world.theirs) is None  # the rates desk has no trader and no head: nobody to ask
    acknowledge(world.trader, world.mine_v1)
    assert [p["username"] for p in ack_reason(world.mine)["missing"]] == ["head", "trader2"]
    acknowledge(second, world.mine_v1)
    acknowledge(head, world.mine_v1)
    assert reasons(world.mine) == [] and decisions.decision_for(world.mine).allowed


@pytest.mark.django_db
def test_an_acknowledgement_is_a_signature_over_the_card_hash_and_the_answers(world):
    require(world, "traders")
    ack = acknowledge(world.trader, world.mine_v1)
    assert ack.card_hash == acks.current_card(world.mine_v1)[1] and ack.parts == ["traders"]
    assert all(row["answer"] == row["expected"] for row in ack.answers) and 2 <= len(ack.answers) <= 3
    signature = ack.signature
    assert signature.meaning == Signature.Meaning.CARD_ACKNOWLEDGED and signature.payload["card_hash"] == ack.card_hash
    assert signatures.verify(signature) == (True, "intact")
    Acknowledgement.objects.filter(pk=ack.pk).update(card_hash="0" * 64)
    assert signatures.verify(signature)[0] is False


@pytest.mark.django_db
def test_a_wrong_answer_records_nothing_and_the_trader_may_retry(world):
    require(world, "traders")
    answers = right_answers(world.mine_v1)
    wrong = {k: ("no" if v == "yes" else "yes") for k, v in answers.items()}
    with pytest.raises(ValidationError) as refused:
        acknowledge(world.trader, world.mine_v1, answers=wrong)
    assert "answers" in refused.value.message_dict
    assert not Acknowledgement.objects.exists() and ack_reason(world.mine) is not None
    acknowledge(world.trader, world.mine_v1)
    assert ack_reason(world.mine) is None


@pytest.mark.django_db
def test_a_new_card_asks_again_and_the_old_acknowledgements_stop_counting(world):
    require(world, "traders")
    old_hash = acks.current_card(world.mine_v1)[1]
    acknowledge(world.trader, world.mine_v1)
    assert decisions.decision_for(world.mine).allowed
    model = Model.objects.get(pk=world.mine.pk)
    registry.model_update(world.owner, model, reason="A new limitation", known_limitations="Blind to auctions.")
    reason = ack_reason(world.mine)
    assert reason["card_hash"] != old_hash and [p["username"] for p in reason["missing"]] == ["trader"]
    with pytest.raises(Conflict) as stale:
        acknowledge(world.trader, world.mine_v1, card_hash=old_hash)
    assert reason["card_hash"] in str(stale.value) and "version 1.0" in str(stale.value)


@pytest.mark.django_db
def test_a_new_card_raises_an_alert_to_the_desk(world):
    from risk.alerts.models import Alert

    require(world, "traders")
    decisions.decision_for(world.mine)
    deliver_outbox()
    alert = Alert.objects.get(kind="card_acknowledgement", model=world.mine)
    assert world.trader in alert.recipients.all()
    assert alert.url == "/models/mine/versions/1.0/card/"


@pytest.mark.django_db
def test_people_the_policy_does_not_ask_may_not_acknowledge(world):
    require(world, "traders")
    with pytest.raises(PermissionDenied):
        acknowledge(world.owner, world.mine_v1)


@pytest.mark.django_db
def test_a_new_trader_on_the_desk_and_a_revoked_role_move_the_answer(world):
    require(world, "traders")
    acknowledge(world.trader, world.mine_v1)
    assert decisions.decision_for(world.mine).allowed
    newcomer = UserFactory(username="newcomer", roles=["trader"], desk=world.desk)
    assert [p["username"] for p in ack_reason(world.mine)["missing"]] == ["newcomer"]
    newcomer.groups.clear()
    assert decisions.decision_for(world.mine).allowed


@pytest.mark.django_db
def test_the_api_acknowledges_and_an_old_card_is_409_naming_the_current_one(world, api):
    require(world, "traders")
    client = api.as_user(world.trader)
    state = client.get(ACKS.format("mine", "1.0")).json()
    assert state["current"] and [p["username"] for p in state["missing"]] == ["trader"]
    assert all("answer" not in q for q in state["questions"])
    body = {"card_hash": state["card_hash"], "answers": right_answers(world.mine_v1), "password": PASSWORD}
    stale = client.post(ACKS.format("mine", "1.0"), {**body, "card_hash": "a" * 64}, format="json")
    assert stale.status_code == 409 and state["card_hash"] in stale.json()["detail"]
    made = client.post(ACKS.format("mine", "1.0"), body, format="json")
    assert made.status_code == 201 and made.json()["username"] == "trader"
    assert client.get(GATE.format("mine")).json()["allowed"] is True


@pytest.mark.django_db
def test_the_gate_for_one_trader_counts_only_their_own_acknowledgement(world, api):
    second = UserFactory(username="trader2", roles=["trader"], desk=world.desk)
    require(world, "traders")
    acknowledge(world.trader, world.mine_v1)
    client = api.as_user(world.compliance)
    desk = client.get(GATE.format("mine")).json()
    assert desk["allowed"] is False and [p["username"] for p in desk["reasons"][0]["missing"]] == ["trader2"]
    assert client.get(GATE.format("mine") + "?user=trader").json()["allowed"] is True
    theirs = client.get(GATE.format("mine") + "?user=trader2").json()
    assert theirs["allowed"] is False and theirs["reasons"][0]["code"] == "not_acknowledged"
    assert client.get(GATE.format("mine") + "?user=owner").json()["reasons"][0]["code"] == "not_on_desk"
    desk_list = client.get("/api/v1/gate/?desk=sys-eq&user=trader2").json()["decisions"]
    assert [d["allowed"] for d in desk_list if d["model"] == "mine"] == [False]
    assert second.pk


@pytest.mark.django_db
def test_user_is_answered_only_about_people_the_reader_may_ask_about(world, api):
    hidden = api.as_user(world.trader).get(GATE.format("mine") + "?user=owner")
    absent = api.as_user(world.trader).get(GATE.format("mine") + "?user=nobody-at-all")
    assert hidden.status_code == absent.status_code == 400
    assert hidden.json() == absent.json() and "user" in hidden.json()
    assert api.as_user(world.trader).get(GATE.format("mine") + "?user=trader").status_code == 200


@pytest.mark.django_db
def test_my_queue_lists_the_cards_waiting_for_the_trader_until_acknowledged(world, browser_client):
    require(world, "traders")
    page = browser_client.as_user(world.trader).get("/inbox/").content.decode()
    assert "Model cards to acknowledge" in page and "/models/mine/versions/1.0/card/acknowledge/" in page
    other = browser_client.as_user(world.owner).get("/inbox/").content.decode()
    assert "Model cards to acknowledge" not in other
    acknowledge(world.trader, world.mine_v1)
    assert "Model cards to acknowledge" not in browser_client.as_user(world.trader).get("/inbox/").content.decode()


@pytest.mark.django_db
def test_the_acknowledgement_page_shows_a_wrong_answer_beside_the_questions_and_records_nothing(world, browser_client):
    require(world, "traders")
    client = browser_client.as_user(world.trader)
    url = "/models/mine/versions/1.0/card/acknowledge/"
    right = right_answers(world.mine_v1)
    wrong = {k: ("no" if v == "yes" else "yes") for k, v in right.items()}
    hash_ = acks.current_card(world.mine_v1)[1]
    refused = client.post(url, {**wrong, "card_hash": hash_, "password": PASSWORD})
    assert refused.status_code == 400 and f"{len(right)} of {len(right)} answers do not match the card" in (
        refused.content.decode()
    )
    for question in right:  # each wrong answer is marked beside its question, in the question's fieldset
        assert re.search(
            rf'<ul class="errorlist" data-field="{question}"[^>]*><li>Not what the card says.', refused.content.decode()
        )
    assert "<legend>1. " in refused.content.decode() and 'for=""' not in refused.content.decode()
    one_wrong = {**right, next(iter(right)): wrong[next(iter(right))]}
    assert (
        f"1 of {len(right)} answer does not match"
        in client.post(url, {**one_wrong, "card_hash": hash_, "password": PASSWORD}).content.decode()
    )
    assert not Acknowledgement.objects.exists()
    stale = client.post(url, {**right, "card_hash": "b" * 64, "password": PASSWORD})
    assert stale.status_code == 409 and hash_ in stale.content.decode()
    done = client.post(url, {**right, "card_hash": hash_, "password": PASSWORD})
    assert done.status_code == 302 and Acknowledgement.objects.get().user == world.trader
    card = client.get("/models/mine/versions/1.0/card/").content.decode()
    assert 'data-testid="acknowledged-by-you"' in card
    assert "Trader of the desk" in card
    again = client.get(url).content.decode()  # nothing left to sign: no form is offered again
    assert 'data-testid="already-acknowledged"' in again and 'data-testid="acknowledge"' not in again


@pytest.mark.django_db
def test_the_desks_head_and_service_account_may_ask_about_its_traders_and_no_other_desks(world, api):
    from rest_framework.test import APIClient

    from models_registry import service_accounts

    head = UserFactory(username="head", roles=["trader"], desk=world.desk)  # heads the desk, trades on it
    world.desk.head = head
    world.desk.save()
    require(world, "traders", "desk_head")
    acknowledge(world.trader, world.mine_v1)
    as_head = api.as_user(head).get(GATE.format("mine") + "?user=trader").json()
    assert as_head["user"] == "trader" and as_head["allowed"] is False  # the head has not acknowledged yet
    assert [p["username"] for p in as_head["reasons"][0]["missing"]] == ["head"]
    assert as_head["reasons"][0]["missing"][0]["as"] == ["desk_head"]  # concerned here as the head
    token = service_accounts.service_account_create(world.compliance, name="EQ OMS", desk=world.desk)[1]
    system = APIClient()
    system.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    answer = system.get(GATE.format("mine") + "?user=trader").json()
    assert answer["allowed"] is False and [p["username"] for p in answer["reasons"][0]["missing"]] == ["head"]
    other = UserFactory(username="rates_trader", roles=["trader"], desk=world.other_desk)
    hidden = system.get(GATE.format("mine") + f"?user={other.username}")
    assert hidden.status_code == 400 and "user" in hidden.json()


@pytest.mark.django_db
def test_a_traders_acknowledgement_stops_counting_while_their_trader_requirement_is_not_current(world, api):
    """Issue 24, skills kept current: an expired requirement stops a trader's acknowledgement counting. A new
    requirement blocks at once (the gate's counts move with its audit event), a completion restores the answer, and
    the cached allowed answer ends the day the completion lapses, with nobody changing anything."""
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from governance.skills import selectors as skills_selectors
    from governance.skills import services as skills

    require(world, "traders")
    acknowledge(world.trader, world.mine_v1)
    assert decisions.decision_for(world.mine).allowed
    certification = skills.requirement_create(
        world.compliance, duty="trader", kind="certification", title="Desk certification", validity_months=12
    )
    reason = ack_reason(world.mine)
    assert [p["username"] for p in reason["missing"]] == ["trader"]
    assert reason["missing"][0]["lapsed"] == ["Desk certification (never completed)"]
    assert "does not count while a trader requirement is not current" in reason["message"]
    theirs = api.as_user(world.compliance).get(GATE.format("mine") + "?user=trader").json()
    assert theirs["allowed"] is False and theirs["reasons"][0]["missing"][0]["lapsed"]

    today = timezone.now().date()
    skills.completion_record(
        world.compliance,
        person=world.trader,
        requirement=certification,
        completed_on=today - dt.timedelta(days=364),
        evidence="Certificate 2025-117",
    )
    served = decisions.decision_for(world.mine)
    assert served.allowed
    expires = skills_selectors.expiry(today - dt.timedelta(days=364), 12)
    assert expires > today
    with time_machine.travel(dt.datetime.combine(expires, dt.time(0, 0, 1), tzinfo=dt.UTC)):
        later = ack_reason(world.mine)
    assert later is not None and later["missing"][0]["lapsed"][0].startswith("Desk certification (lapsed ")
