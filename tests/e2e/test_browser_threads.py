"""In a browser: a validator opens a thread on a validation run, the developer replies and is not offered (nor
allowed) to resolve it, and the validator resolves it."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from risk.threads.models import Thread
from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD
from tests.threads.test_threads import make_run

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/e2e-threads")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def as_person(page, live_server, username):
    page.context.clear_cookies()
    login(page, live_server, username, PASSWORD)


def test_a_validator_challenges_a_run_the_developer_replies_and_only_the_validator_resolves(page, live_server):
    world = build_world()
    run = make_run(world)
    run.status, run.error = "failed", "The dataset has three rows."  # a finished run: its page does not refresh
    run.save(update_fields=["status", "error"])

    as_person(page, live_server, "validator")
    page.goto(f"{live_server.url}/validation-runs/{run.pk}/")
    page.get_by_text("Open a thread").click()
    form = page.get_by_test_id("open-thread")
    form.get_by_label("Title").fill("Three rows cannot carry a drawdown test")
    form.get_by_label("Comment").fill("@developer where is the **full** history? <script>alert(1)</script>")
    form.get_by_role("button", name="Open the thread").click()
    expect(page.get_by_test_id("challenge")).to_be_visible()
    thread = Thread.objects.get()
    assert page.url == f"{live_server.url}/threads/{thread.pk}/"
    body = page.get_by_test_id("comment-body").first
    expect(body.locator("strong")).to_have_text("full")
    expect(body).to_contain_text("<script>alert(1)</script>")  # shown as text, never run

    as_person(page, live_server, "developer")
    page.goto(f"{live_server.url}/validation-runs/{run.pk}/")
    page.get_by_role("link", name="Three rows cannot carry a drawdown test").click()
    reply = page.get_by_test_id("comment-form")
    reply.get_by_label("Comment").fill("The full history is being attached as a dataset.")
    reply.get_by_role("button", name="Comment").click()
    expect(page.get_by_test_id("comment")).to_have_count(2)
    expect(page.get_by_test_id("resolve")).to_have_count(0)
    expect(page.get_by_test_id("challenge-note")).to_be_visible()
    shot(page, "developer-replied")
    # Posted by hand, the resolution is refused all the same.
    status = page.evaluate(
        """async () => {
            const token = document.querySelector("[name=csrfmiddlewaretoken]").value;
            const body = new URLSearchParams({csrfmiddlewaretoken: token, action: "resolve", note: ""});
            return (await fetch(location.pathname, {method: "POST", body})).status;
        }"""
    )
    assert status == 403
    assert Thread.objects.get(pk=thread.pk).status == "open"

    as_person(page, live_server, "validator")
    page.goto(f"{live_server.url}/threads/{thread.pk}/")
    expect(page.get_by_test_id("comment")).to_have_count(2)
    page.get_by_test_id("settle").get_by_label("Note").fill("Agreed: the run is repeated on the full history.")
    page.get_by_test_id("resolve").click()
    expect(page.get_by_test_id("thread-status")).to_have_text("Resolved")
    shot(page, "validator-resolved")
    assert Thread.objects.get(pk=thread.pk).resolved_by == world.validator
