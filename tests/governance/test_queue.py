"""My queue is a work queue: what needs me (even when blocked, with the reasons), what waits on others and
why, by due date; optional actions are not work; the badge counts what needs me."""

import datetime as dt
import re

import pytest
from django.core.cache import cache

from governance.lifecycle import queue, workflow
from models_registry.models import Model
from tests.factories import UserFactory, make_model
from tests.governance.lifecycle_helpers import new_draft


@pytest.fixture(autouse=True)
def fresh_badges():
    cache.clear()


def whats(items):
    return [(i.what, i.subject) for i in items]


@pytest.mark.django_db
def test_a_validators_version_stays_in_their_queue_while_signing_is_blocked(world):
    version = new_draft(world)
    workflow.version_transition(world.developer, version, "submit")
    workflow.version_transition(world.validator, version, "start_validation")
    (item,) = queue.build(world.validator).needs_me
    assert (item.what, item.subject) == ("Finish validation and sign", "mine 2.0")
    assert item.blocked and any("validation report" in r for r in item.reasons)
    assert item.due == Model.objects.get(pk=world.mine.pk).next_validation_due


@pytest.mark.django_db
def test_compliance_sees_models_to_assign_and_not_every_live_models_optional_actions(world):
    make_model(world.compliance, key="unassigned", owner=world.owner, developers=[world.developer])
    work = queue.build(world.compliance)
    assert ("Assign a validator", "unassigned") in whats(work.needs_me)
    assert ("Assign a validator", "draft-on-desk") in whats(work.needs_me)
    # mine and theirs are in production: suspend, retire and roll back are open to compliance, but not work.
    assert not any(i.subject in ("mine 1.0", "theirs 1.0") for i in work.needs_me)


@pytest.mark.django_db
def test_the_team_waits_on_the_validator_and_sees_why(world):
    version = new_draft(world)
    workflow.version_transition(world.developer, version, "submit")
    waiting = queue.build(world.developer).waiting
    assert ("Waiting on the validator to start validation", "mine 2.0") in whats(waiting)
    assert queue.build(world.developer).needs_me == []


@pytest.mark.django_db
def test_an_approval_is_not_work_for_an_officer_segregation_excludes(world):
    both = UserFactory(username="dev-and-compliance", roles=["developer", "compliance"])
    Model.objects.get(pk=world.mine.pk).developers.add(both)
    version = new_draft(world)
    workflow.version_transition(world.developer, version, "submit")
    assert not any(i.subject == "mine 2.0" for i in queue.build(both).needs_me)


@pytest.mark.django_db
def test_findings_and_attestations_are_work_ordered_by_due_date(world):
    from governance.lifecycle.revalidation import open_attestations
    from risk.validation import findings

    today = dt.date.today()
    for days, title in ((20, "Later"), (5, "Sooner")):
        findings.finding_raise(
            world.validator,
            world.mine_v1,
            severity="low",
            title=title,
            description="x",
            owner=world.developer,
            due_date=today + dt.timedelta(days=days),
        )
    open_attestations(today)
    owner_work = queue.build(world.owner).needs_me
    assert (f"Sign the {today.year} attestation", "mine") in whats(owner_work)
    developer_work = queue.build(world.developer).needs_me
    assert whats(developer_work)[:2] == [("Remediate a finding", "Sooner"), ("Remediate a finding", "Later")]
    assert (f"Waiting on {world.developer.get_full_name()} to remediate", "Sooner") in whats(
        queue.build(world.validator).waiting
    )


@pytest.mark.django_db
def test_the_badge_counts_what_needs_me_not_unread_notifications(world, browser_client):
    version = new_draft(world)
    workflow.version_transition(world.developer, version, "submit")
    html = browser_client.as_user(world.validator).get("/models/").content.decode()
    badge = re.search(r'data-testid="queue-count">(\d+)<', html)
    assert badge and int(badge.group(1)) == len(queue.build(world.validator).needs_me) == 1
    html = browser_client.as_user(world.developer2).get("/models/").content.decode()
    assert 'data-testid="queue-count"' not in html


def badge(client) -> int:
    html = client.get("/models/").content.decode()
    found = re.search(r'data-testid="queue-count">(\d+)<', html)
    return int(found.group(1)) if found else 0


@pytest.mark.django_db
def test_the_badge_recounts_as_soon_as_something_changes(world, browser_client, django_capture_on_commit_callbacks):
    client = browser_client.as_user(world.validator)
    assert badge(client) == 0
    version = new_draft(world)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.version_transition(world.developer, version, "submit")
    assert badge(browser_client.as_user(world.validator)) == 1  # not the cached 0


@pytest.mark.django_db
def test_the_owner_is_asked_for_the_pilot_results_compliance_waits_on(world):
    from tests.governance.lifecycle_helpers import to_validated

    version = to_validated(world, new_draft(world))
    version = workflow.version_transition(
        world.compliance, version, "approve_deployment", password="correct-horse-battery-staple"
    )
    version = workflow.version_transition(
        world.owner,
        version,
        "start_pilot",
        pilot={"max_notional": "1000000", "instruments": ["ESZ6"], "venues": [], "end_date": "2099-01-01"},
    )
    (item,) = [i for i in queue.build(world.owner).needs_me if i.subject == "mine 2.0"]
    assert item.what == "Attach the pilot results" and str(item.due) == "2099-01-01"


@pytest.mark.django_db
def test_the_badge_costs_the_same_queries_however_many_versions_await_compliance(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from models_registry.choices import LifecycleStatus
    from tests.factories import make_version

    def counted() -> tuple[int, int]:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            count = queue.needs_me_count(world.compliance)
        return count, len(captured)

    def awaiting(n: int) -> None:
        model = make_model(
            world.compliance,
            key=f"awaiting-{n}",
            owner=world.owner,
            developers=[world.developer],
            validator=world.validator,
        )
        make_version(world.developer, model, status=LifecycleStatus.VALIDATED)

    awaiting(0)  # with none, the facts of the versions are not asked for at all
    before, queries = counted()
    for n in range(1, 4):
        awaiting(n)
    after, more_queries = counted()
    assert after == before + 3 == len(queue.build(world.compliance).needs_me)
    assert more_queries == queries
