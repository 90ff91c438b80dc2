"""The stays in lifecycle stages (the `StageStay` view, issue 22) against their definition: a stay ended by a
transition that changed the version's status began at the latest earlier transition (by time, then id) into the stage
it left that changed the status. Seeded random histories, with the disorder edits and hand-written data can leave
(steps out of lifecycle order, equal times, steps that leave the version where it was, re-entries, ids out of time
order), are compared with that definition written as one lookup per transition, as the widget read it before."""

import datetime as dt
import random

import pytest
from django.db.models import F, OuterRef, Q, Subquery

from governance.core.policy import policy_in_force
from governance.lifecycle.models import StageStay, VersionTransition
from models_registry.choices import LifecycleStatus
from tests.factories import make_version

STATUSES = list(LifecycleStatus.values)
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def by_definition() -> dict[int, dt.datetime | None]:
    entered = (
        VersionTransition.objects.filter(version=OuterRef("version"), to_status=OuterRef("from_status"))
        .exclude(from_status=F("to_status"))
        .filter(Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk")))
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    stays = VersionTransition.objects.exclude(from_status=F("to_status")).annotate(began=Subquery(entered))
    return dict(stays.values_list("pk", "began"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_stay_began_at_the_latest_earlier_entry_into_its_stage(world, seed):
    rng = random.Random(seed)
    versions = [make_version(world.developer, world.mine) for _ in range(3)]
    policy = policy_in_force()
    steps = []
    for version in versions:
        status, at = "draft", T0
        for _ in range(rng.randint(5, 25)):
            # Mostly in order (each step leaves the stage the last entered, later or at the same time), as the
            # lifecycle writes them; some steps out of order or from elsewhere.
            in_order = rng.random() < 0.75
            from_status = status if in_order else rng.choice(STATUSES)
            to_status = from_status if rng.random() < 0.15 else rng.choice(STATUSES)
            at = (
                at + dt.timedelta(hours=rng.choice([0, 1, 5]))
                if in_order
                else T0 + dt.timedelta(hours=rng.randint(0, 60))
            )
            status = to_status
            steps.append(
                VersionTransition(
                    version=version,
                    action="edited",
                    from_status=from_status,
                    to_status=to_status,
                    actor=world.developer,
                    at=at + dt.timedelta(microseconds=rng.choice([0, 0, 500])),
                    policy=policy,
                )
            )
    rng.shuffle(steps)  # ids out of time order
    VersionTransition.objects.bulk_create(steps)

    expected = by_definition()
    found = dict(StageStay.objects.values_list("pk", "entered_at"))
    assert found == expected
    assert sum(began is not None for began in found.values()) > 10  # the histories do re-enter stages


def test_a_stay_follows_an_edited_transition(world):
    """A view, not a copy: a transition moved in time (an admin's or a test's edit) moves the stays it starts."""
    stays = {s.pk: s.entered_at for s in StageStay.objects.filter(version=world.mine_v1)}
    entry = VersionTransition.objects.filter(version=world.mine_v1).exclude(from_status=F("to_status")).first()
    moved = entry.at - dt.timedelta(days=3)
    VersionTransition.objects.filter(pk=entry.pk).update(at=moved)
    after = {s.pk: s.entered_at for s in StageStay.objects.filter(version=world.mine_v1)}
    assert after == {pk: began for pk, began in by_definition().items() if pk in after}
    assert after.keys() == stays.keys()
    assert moved in after.values()
