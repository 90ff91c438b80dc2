"""The model gate: may a model be used now, which version, within which limits; every reason when blocked; a
strong ETag with 304; a cached decision never served after a change that affects it; each revision logged."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.lifecycle import workflow
from models_registry.models import Model
from risk.gate import decisions
from risk.gate.models import GateDecision
from tests.factories import make_version

GATE = "/api/v1/gate/{}/"


def get(client, key, **headers):
    return client.get(GATE.format(key), **headers)


@pytest.mark.django_db
def test_it_allows_a_model_in_production_with_its_version_an_etag_and_a_short_max_age(world, api):
    response = get(api.as_user(world.trader), "mine")
    assert response.status_code == 200
    body = response.json()
    assert body["allowed"] is True and body["version"] == "1.0" and body["status"] == "production"
    assert body["reasons"] == [] and body["pilot"] is None and body["revision"] == 1
    assert response["ETag"] == f'"{GateDecision.objects.get(model=world.mine).etag}"'
    assert response["Cache-Control"] == "private, max-age=1"


@pytest.mark.django_db
def test_it_answers_304_while_the_decision_stands_and_200_with_a_new_revision_after_a_change(world, api):
    client = api.as_user(world.trader)
    first = get(client, "mine")
    etag = first["ETag"]
    assert get(client, "mine", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert get(client, "mine", HTTP_IF_NONE_MATCH=f'W/{etag}, "other"').status_code == 304
    workflow.version_transition(world.owner, world.mine_v1, "suspend", comment="Fills look wrong this morning.")
    after = get(client, "mine", HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200 and after["ETag"] != etag
    body = after.json()
    assert body["allowed"] is False and body["revision"] == 2
    assert [r["code"] for r in body["reasons"]] == ["suspended"]
    assert list(GateDecision.objects.filter(model=world.mine).values_list("revision", "allowed")) == [
        (2, False),
        (1, True),
    ]


@pytest.mark.django_db
def test_a_cached_decision_is_never_served_after_a_change_even_when_no_commit_hook_ran(world):
    """The cache entry carries the database's change count: a process whose cache was not told still recomputes."""
    assert decisions.decision_for(world.mine).allowed
    # Inside the test's transaction no on_commit hook runs, so nothing deletes the cached entry: only the
    # generation read from the database can tell that the version was suspended.
    workflow.version_transition(world.owner, world.mine_v1, "suspend", comment="Fills look wrong this morning.")
    assert not decisions.decision_for(world.mine).allowed


@pytest.mark.django_db
def test_a_repeated_request_is_served_from_the_cache_in_a_few_queries(world, api):
    client = api.as_user(world.trader)
    get(client, "mine")
    with CaptureQueriesContext(connection) as ctx:
        assert get(client, "mine").status_code == 200
    print(f"cached gate answer: {len(ctx.captured_queries)} queries")
    # token, the reader's roles and the model in scope, the generations; nothing that computes the decision
    assert len(ctx.captured_queries) <= 5
    assert not any("gate_decision" in q["sql"] for q in ctx.captured_queries)


@pytest.mark.django_db
def test_a_pilot_answers_its_limits_and_is_blocked_from_the_day_after_its_end(world, api):
    pilot = make_version(world.developer2, world.theirs, label="2.0", status="pilot")
    world.theirs.versions.filter(pk=world.theirs_v1.pk).update(status="retired")  # leave the pilot alone in use
    now = timezone.now()
    served = decisions.decision_for(world.theirs, now)
    assert served.allowed and served.body["version"] == pilot.version
    limits = served.body["pilot"]
    assert limits["instruments"] == ["ESZ6", "NQZ6"] and limits["venues"] == ["XCME"]
    assert limits["max_notional"] == "5000000.00" and limits["currency"] == "USD"
    end = dt.date.fromisoformat(limits["end_date"])
    on_last_day = decisions.decision_for(world.theirs, dt.datetime.combine(end, dt.time(23, 59), tzinfo=dt.UTC))
    assert on_last_day.allowed
    next_day = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0, 1), tzinfo=dt.UTC)
    after = decisions.decision_for(world.theirs, next_day)
    assert not after.allowed and [r["code"] for r in after.body["reasons"]] == ["pilot_ended"]
    assert after.body["revision"] == served.body["revision"] + 1


@pytest.mark.django_db
def test_it_gives_every_reason_at_once(world):
    Model.objects.filter(pk=world.mine.pk).update(next_validation_due=dt.date(2026, 1, 31))
    workflow.version_transition(world.owner, world.mine_v1, "suspend", comment="Fills look wrong this morning.")
    world.mine.refresh_from_db()
    body = decisions.decision_for(world.mine).body
    assert body["allowed"] is False
    codes = [r["code"] for r in body["reasons"]]
    assert codes == ["suspended", "validation_overdue"]
    assert "2026-01-31" in body["reasons"][1]["message"]


@pytest.mark.django_db
def test_a_model_with_nothing_approved_is_blocked_and_names_no_version(world, api):
    body = get(api.as_user(world.developer), "draft-on-desk").json()
    assert body["allowed"] is False and body["version"] is None
    assert [r["code"] for r in body["reasons"]] == ["not_approved"]


@pytest.mark.django_db
def test_whoever_cannot_see_the_model_gets_404(world, api):
    assert get(api.as_user(world.outsider), "mine").status_code == 404
    assert get(api.as_user(world.trader), "theirs").status_code == 404  # another desk's model
    assert get(api.as_user(world.trader), "no-such-model").status_code == 404


@pytest.mark.django_db
def test_a_desk_is_answered_at_once_with_the_models_the_reader_sees(world, api):
    response = api.as_user(world.trader).get("/api/v1/gate/", {"desk": "sys-eq"})
    assert response.status_code == 200
    body = response.json()
    assert body["desk"] == "sys-eq" and [d["model"] for d in body["decisions"]] == ["mine"]  # not the draft
    as_compliance = api.as_user(world.compliance).get("/api/v1/gate/", {"desk": "sys-eq"}).json()
    assert [d["model"] for d in as_compliance["decisions"]] == ["draft-on-desk", "mine"]
    again = api.as_user(world.trader).get("/api/v1/gate/", {"desk": "sys-eq"}, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "field"), [({}, "desk"), ({"desk": "nowhere"}, "desk")])
def test_a_desk_query_without_a_known_desk_is_a_400_naming_it(world, api, query, field):
    response = api.as_user(world.trader).get("/api/v1/gate/", query)
    assert response.status_code == 400 and field in response.json()


@pytest.mark.django_db
def test_the_model_page_shows_what_the_gate_answers(world, browser_client):
    page = browser_client.as_user(world.trader).get("/models/mine/").content.decode()
    assert 'data-panel="gate"' in page and 'data-testid="gate-answer">allowed<' in page
    workflow.version_transition(world.owner, world.mine_v1, "suspend", comment="Fills look wrong this morning.")
    page = browser_client.get("/models/mine/").content.decode()
    assert 'data-testid="gate-answer">blocked<' in page and "was suspended on" in page
    assert "Fills look wrong this morning." in page  # the reason names why it was stopped
