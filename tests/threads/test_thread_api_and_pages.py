"""The threads API and pages: open, comment, reply, edit, resolve, raise; 404 outside the record's scope, 400 for a
bad mention that reveals nothing, 403 for a developer resolving a validator's challenge, 409 for a locked edit."""

import pytest

from risk.threads import services
from risk.threads.models import Comment, Thread
from tests.threads.test_threads import make_run

URL = "/api/v1/threads/"


@pytest.fixture
def run(world):
    return make_run(world)


def open_on_run(api, world, run, body="Is the window right?"):
    return api.as_user(world.validator).post(
        URL, {"target_kind": "run", "target_id": run.pk, "title": "Window", "body": body}, format="json"
    )


@pytest.mark.django_db
def test_it_runs_a_challenge_through_the_api(world, run, api):
    opened = open_on_run(api, world, run, body="@developer is the **window** right?")
    assert opened.status_code == 201, opened.content
    thread = opened.json()
    assert thread["challenge"] is True and thread["model"] == "mine" and thread["version"] == "1.0"
    assert thread["comments"][0]["html"] == "<p>@developer is the <strong>window</strong> right?</p>\n"
    assert thread["comments"][0]["mentions"] == ["developer"]
    pk = thread["id"]
    first = thread["comments"][0]["id"]
    dev = api.as_user(world.developer)
    assert dev.get(f"{URL}{pk}/").status_code == 200  # the developer has read it now
    reply = dev.post(f"{URL}{pk}/comments/", {"body": "It is the plan's.", "reply_to": first}, format="json")
    assert reply.status_code == 201 and reply.json()["comments"][1]["reply_to"] == first
    assert dev.post(f"{URL}{pk}/resolve/", {}, format="json").status_code == 403
    locked = api.as_user(world.validator).patch(f"{URL}{pk}/comments/{first}/", {"body": "Changed."}, format="json")
    assert locked.status_code == 409 and "new comment" in locked.json()["reasons"][0]
    resolved = api.as_user(world.validator).post(f"{URL}{pk}/resolve/", {"note": "Settled."}, format="json")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    listed = dev.get(f"{URL}?target_kind=run&target_id={run.pk}").json()
    assert [row["id"] for row in listed["results"]] == [pk]
    assert dev.get(f"{URL}?target_kind=nothing").status_code == 400


@pytest.mark.django_db
def test_it_answers_404_for_a_record_or_thread_out_of_scope(world, run, api):
    thread = services.thread_open(world.validator, "run", run.pk, title="W", body="Why?")
    trader = api.as_user(world.trader)
    refused = trader.post(URL, {"target_kind": "run", "target_id": run.pk, "title": "t", "body": "b"}, format="json")
    assert refused.status_code == 404
    assert trader.get(f"{URL}{thread.pk}/").status_code == 404
    assert trader.post(f"{URL}{thread.pk}/comments/", {"body": "x"}, format="json").status_code == 404
    assert api.as_user(world.developer2).get(f"{URL}{thread.pk}/").status_code == 404
    missing = api.as_user(world.developer).post(
        URL, {"target_kind": "run", "target_id": 10**12, "title": "t", "body": "b"}, format="json"
    )
    assert missing.status_code == 404
    assert api.as_user(world.trader).get(URL).json()["count"] == 0  # one client: as_user switches it


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["nobody-at-all", "developer2"])
def test_it_answers_a_bad_mention_with_a_400_that_reveals_nothing(world, run, api, name):
    response = open_on_run(api, world, run, body=f"cc @{name}")
    assert response.status_code == 400
    assert response.json() == {"body": [f"Nobody you can mention here is called @{name}."]}
    assert not Thread.objects.exists()


@pytest.mark.django_db
def test_it_raises_an_incident_from_a_thread_in_one_request(world, api):
    trader = api.as_user(world.trader)
    opened = trader.post(
        URL,
        {"target_kind": "version", "target_id": world.mine_v1.pk, "title": "Odd", "body": "Behaving oddly."},
        format="json",
    )
    assert opened.status_code == 201
    pk = opened.json()["id"]
    raised = trader.post(
        f"{URL}{pk}/incident/", {"severity": "medium", "title": "Odd fills", "description": "Since 10:00."}, "json"
    )
    assert raised.status_code == 201 and raised.json()["incident"] is not None
    incident_id = raised.json()["incident"]
    incident = api.as_user(world.owner).get(f"/api/v1/incidents/{incident_id}/").json()
    assert f"/threads/{pk}/" in incident["description"]
    trader = api.as_user(world.trader)  # one client: as_user switches it
    assert trader.post(f"{URL}{pk}/finding/", {}, format="json").status_code == 400
    finding = trader.post(
        f"{URL}{pk}/finding/",
        {"severity": "low", "title": "t", "description": "d", "owner": "developer", "due_date": "2099-01-01"},
        format="json",
    )
    assert finding.status_code == 403


@pytest.mark.django_db
def test_the_thread_page_shows_the_challenge_and_refuses_the_developer(world, run, browser_client):
    thread = services.thread_open(world.validator, "run", run.pk, title="Window", body="<script>alert(1)</script> ok")
    pages = browser_client.as_user(world.developer)
    page = pages.get(f"/threads/{thread.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert 'data-testid="resolve"' not in html and 'data-testid="challenge-note"' in html
    refused = pages.post(f"/threads/{thread.pk}/", {"action": "resolve", "note": ""})
    assert refused.status_code == 403 and Thread.objects.get(pk=thread.pk).status == "open"
    # The run page lists it; the trader gets 404 on the thread as on the run.
    assert f"/threads/{thread.pk}/" in pages.get(f"/validation-runs/{run.pk}/").content.decode()
    assert browser_client.as_user(world.trader).get(f"/threads/{thread.pk}/").status_code == 404
    validator = browser_client.as_user(world.validator)
    assert 'data-testid="resolve"' in validator.get(f"/threads/{thread.pk}/").content.decode()
    done = validator.post(f"/threads/{thread.pk}/", {"action": "resolve", "note": "Settled."})
    assert done.status_code == 302 and Thread.objects.get(pk=thread.pk).status == "resolved"


@pytest.mark.django_db
def test_opening_a_thread_from_a_page_names_bad_input_beside_the_field(world, browser_client):
    pages = browser_client.as_user(world.owner)
    form = {"kind": "version", "record": world.mine_v1.pk, "title": "Sizing", "body": "cc @nobody-at-all"}
    refused = pages.post("/threads/new/", form)
    assert refused.status_code == 400 and "Nobody you can mention here is called @nobody-at-all." in (
        refused.content.decode()
    )
    assert not Comment.objects.exists()
    assert pages.post("/threads/new/", {**form, "record": 10**12}).status_code == 404
    done = pages.post("/threads/new/", {**form, "body": "Too big?"})
    assert done.status_code == 302
    version_page = pages.get("/models/mine/versions/1.0/").content.decode()
    assert "Sizing" in version_page and 'data-panel="threads"' in version_page
