"""A property of the gate (issue 24): over random histories of a desk (new versions, edited limitations, new traders,
revoked roles, acknowledgements, policies and desk heads), no answer is ever allowed for the desk while anyone the
policy asks has not acknowledged the current card, nor for a trader who has not (or whose desk head has not).

The expectation is computed apart from the gate's code: the card from card_of, the traders and the head from the
database, the acknowledgements of that hash; the answers are read through the API and the gate's cache, which no
commit hook clears inside a test's transaction (only the change counts can tell it)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from governance.core.exceptions import Conflict
from governance.core.models import Desk
from governance.core.policy import policy_in_force, policy_publish
from models_registry import services as registry
from models_registry.models import Model
from risk.gate import acknowledgements as acks
from risk.gate.card import card_of
from risk.gate.models import Acknowledgement
from tests.factories import PASSWORD, UserFactory, make_version

STEPS = ("ack", "ack", "ack", "edit", "join", "revoke", "version", "policy", "head")
PARTS = ([], ["traders"], ["desk_head"], ["traders", "desk_head"])
# Each history starts under a policy that asks someone (else nothing is to be checked) and acknowledges a few times.
history = st.tuples(
    st.sampled_from(PARTS[1:]),
    st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 5)), min_size=2, max_size=8),
)


def expected(world):
    """(people the policy asks who have not acknowledged, current traders, the head when asked and missing, who
    acknowledged the current card when the policy asks anyone)."""
    model = Model.objects.select_related("desk").get(pk=world.mine.pk)
    in_use = model.versions.filter(status="production").order_by("-created_at").first()
    hash_ = card_of(in_use)["card_hash"]
    parts = policy_in_force().acknowledgements_for(model.risk_tier)
    done = set(Acknowledgement.objects.filter(version=in_use, card_hash=hash_).values_list("user_id", flat=True))
    traders = list(
        get_user_model().objects.filter(groups__name="trader", profile__desk=model.desk, is_active=True).distinct()
    )
    unacknowledged = {t.pk for t in traders if t.pk not in done} if "traders" in parts else set()
    head = model.desk.head
    head_missing = "desk_head" in parts and head is not None and head.is_active and head.pk not in done
    return unacknowledged, traders, head_missing, (done if parts else None)


def act(world, step: str, n: int, people: list, counter: list) -> None:
    counter[0] += 1
    mine = Model.objects.get(pk=world.mine.pk)
    if step == "ack":
        person = people[n % len(people)]
        in_use = acks.version_in_use(mine)
        limitations, hash_ = acks.current_card(in_use)
        answers = {q["id"]: q["answer"] for q in acks.questions(in_use, limitations, hash_)}
        try:
            acks.acknowledgement_record(person, in_use, card_hash=hash_, answers=answers, password=PASSWORD)
        except (PermissionDenied, Conflict):
            pass  # not asked (revoked, moved), or acknowledged already
    elif step == "edit":
        registry.model_update(world.owner, mine, reason="History", known_limitations=f"Limitation {counter[0]}.")
    elif step == "join":
        people.append(UserFactory(username=f"joiner{counter[0]}", roles=["trader"], desk=world.desk))
    elif step == "revoke":
        people[n % len(people)].groups.clear()
    elif step == "version" and counter[1] < 1:  # a walk through the lifecycle is slow: one new version a history
        counter[1] += 1
        make_version(world.developer, mine, label=f"2.{counter[0]}", status="production")
    elif step == "policy":
        policy_publish(world.compliance, acknowledgement_required={t: PARTS[n % len(PARTS)] for t in ("1", "2", "3")})
    elif step == "head":
        desk = Desk.objects.get(pk=world.desk.pk)
        desk.head = people[n % len(people)] if n % 3 else None
        desk.save()


def check(world, client, people) -> None:
    unacknowledged, traders, head_missing, done = expected(world)
    head_id = Desk.objects.get(pk=world.desk.pk).head_id
    desk = client.get("/api/v1/gate/?desk=sys-eq").json()["decisions"]
    model = client.get("/api/v1/gate/mine/").json()
    for body in (model, next(d for d in desk if d["model"] == "mine")):
        if unacknowledged or head_missing:
            assert body["allowed"] is False, (unacknowledged, head_missing, body)
            missing = next(r for r in body["reasons"] if r["code"] == "not_acknowledged")["missing"]
            assert {p["username"] for p in missing} >= {t.username for t in traders if t.pk in unacknowledged}
    trader_ids = {t.pk for t in traders}
    for person in people:
        answer = client.get(f"/api/v1/gate/mine/?user={person.username}").json()
        on_desk = person.pk in trader_ids or person.pk == head_id
        if not on_desk or person.pk in unacknowledged or head_missing or (done is not None and person.pk not in done):
            assert answer["allowed"] is False, (person.username, answer)


@pytest.mark.slow(reason="random histories through the lifecycle and the gate")
@pytest.mark.django_db
def test_no_allowed_answer_for_an_unacknowledged_desk_or_trader(world):
    client = APIClient()
    client.force_authenticate(user=world.compliance)

    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(history)
    def run(story):
        parts, steps = story
        cache.clear()  # a rolled-back example leaves counts that the next one reaches again with other facts
        with transaction.atomic():
            people, counter = [world.trader], [0, 0]
            check(world, client, people)
            policy_publish(world.compliance, acknowledgement_required={t: parts for t in ("1", "2", "3")})
            act(world, "ack", 0, people, counter)
            check(world, client, people)
            for step, n in steps:
                act(world, step, n, people, counter)
                check(world, client, people)
            transaction.set_rollback(True)

    run()
