"""Review threads: who sees them (the record's own scope; no validation threads for traders), who resolves a
validator's challenge (only a validator), the edit rule (until another person reads it), mentions (told; an unknown
or out-of-scope name is the same 400), Markdown made inert, incidents and findings raised in one step, and the
challenge figures."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from governance.core.exceptions import Conflict
from governance.core.models import AuditEvent, Notification
from risk.incidents.models import Incident
from risk.threads import rendering, selectors, services
from risk.threads.models import Comment, Thread
from risk.validation import plans
from risk.validation import services as evidence_services
from risk.validation.models import Finding, ValidationRun
from tests.outbox import deliver

RETURNS_CSV = b"timestamp,return\n2026-01-02,0.010\n2026-01-05,-0.004\n2026-01-06,0.007\n"


def make_run(world, version=None, validator=None):
    version = version or world.mine_v1
    validator = validator or world.validator
    dataset = evidence_services.evidence_add(
        validator, version, file=SimpleUploadedFile("returns.csv", RETURNS_CSV), kind="dataset"
    )
    return ValidationRun.objects.create(
        version=version,
        dataset=dataset,
        requested_by=validator,
        input_sha256=dataset.sha256,
        plan_snapshot={**plans.proposed_plan(version.model), "claimed_performance": version.claimed_performance},
    )


@pytest.fixture
def run(world):
    return make_run(world)


def challenge(world, run, body="The drawdown test uses the wrong window."):
    return services.thread_open(world.validator, "run", run.pk, title="Wrong window", body=body)


# --- Resolving a challenge ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_lets_only_a_validator_resolve_a_validators_challenge(world, run):
    thread = challenge(world, run)
    assert thread.challenge and thread.model == world.mine and thread.version == world.mine_v1
    services.comment_add(world.developer, thread, "It is the window the plan names.")
    for person in (world.developer, world.owner, world.compliance):
        with pytest.raises(PermissionDenied):
            services.thread_resolve(person, thread)
    assert Thread.objects.get(pk=thread.pk).status == "open"
    services.thread_resolve(world.validator, thread, "Agreed after the plan was read again.")
    thread.refresh_from_db()
    assert thread.status == "resolved" and thread.resolved_by == world.validator
    with pytest.raises(Conflict):
        services.thread_resolve(world.validator, thread)
    with pytest.raises(PermissionDenied):
        services.thread_reopen(world.developer, thread)
    services.thread_reopen(world.validator, thread)
    assert Thread.objects.get(pk=thread.pk).status == "open"
    kinds = list(thread.comments.values_list("kind", flat=True))
    assert kinds == ["comment", "comment", "resolved", "reopened"]
    actions = set(
        AuditEvent.objects.filter(object_id=str(thread.pk), object_type="threads.thread").values_list(
            "action", flat=True
        )
    )
    assert actions == {"thread.open", "thread.resolve", "thread.reopen"}


@pytest.mark.django_db
def test_it_lets_the_models_validator_resolve_a_challenge_another_validator_opened(world):
    thread = services.thread_open(world.validator2, "version", world.theirs_v1.pk, title="Q", body="Why?")
    assert thread.challenge
    services.thread_resolve(world.validator2, thread)
    # The model's own validator also may; a developer of the model never.
    other = services.thread_open(world.compliance, "version", world.theirs_v1.pk, title="Q2", body="And?")
    assert not other.challenge
    services.thread_resolve(world.developer2, other)  # not a challenge: the team settles it
    assert Thread.objects.get(pk=other.pk).status == "resolved"


# --- The edit rule --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_lets_the_author_edit_until_another_person_reads_it(world, run):
    thread = challenge(world, run)
    first = thread.comments.get()
    services.thread_read(world.validator, thread)  # the author reading it locks nothing
    services.comment_edit(world.validator, first, "The drawdown test uses a 20-day window; the plan says 60.")
    first.refresh_from_db()
    assert first.edited_at is not None and "60" in first.body
    with pytest.raises(PermissionDenied):
        services.comment_edit(world.developer, first, "Taken over.")
    services.thread_read(world.developer, thread)
    with pytest.raises(Conflict):
        services.comment_edit(world.validator, first, "Quietly changed.")
    assert "Quietly" not in Comment.objects.get(pk=first.pk).body
    # A comment written after the developer read is free until they read again.
    later = services.comment_add(world.validator, thread, "Correction: 40 days.")
    services.comment_edit(world.validator, later, "Correction: 45 days.")
    services.thread_read(world.developer, thread)
    with pytest.raises(Conflict):
        services.comment_edit(world.validator, later, "Correction: 50 days.")
    edits = AuditEvent.objects.filter(action="comment.edit").order_by("id")
    assert [e.changes["body"][1] for e in edits] == [
        "The drawdown test uses a 20-day window; the plan says 60.",
        "Correction: 45 days.",
    ]


# --- Mentions ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_tells_the_people_mentioned(world, run):
    thread = challenge(world, run, body="@developer please look; cc @owner.")
    comment = thread.comments.get()
    assert {u.username for u in comment.mentions.all()} == {"developer", "owner"}
    deliver()
    told = Notification.objects.filter(kind="thread_mention")
    assert {n.user.username for n in told} == {"developer", "owner"}
    assert all(n.url == f"/threads/{thread.pk}/#comment-{comment.pk}" for n in told)
    # An address is not a mention.
    reply = services.comment_add(world.developer, thread, "Write to risk@developer.example.com.")
    assert not reply.mentions.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["nobody-at-all", "developer2", "trader", "outsider"])
def test_it_refuses_an_unknown_or_out_of_scope_mention_with_the_same_words(world, run, name):
    """developer2 works on another model, the trader sees no validation run, the outsider sees nothing: each is
    refused exactly as a name nobody holds, and nothing is written."""
    before = (Thread.objects.count(), Comment.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as refused:
        challenge(world, run, body=f"Ask @{name} about it.")
    assert refused.value.message_dict == {"body": [f"Nobody you can mention here is called @{name}."]}
    assert (Thread.objects.count(), Comment.objects.count(), AuditEvent.objects.count()) == before


# --- Markdown ---------------------------------------------------------------------------------------------------


def test_it_renders_markdown_and_makes_scripts_inert():
    html = rendering.render(
        "**bold** [ok](https://example.com) [bad](javascript:alert(1))\n\n"
        '<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n<a href="javascript:alert(2)">x</a>'
    )
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in html
    tags = _tags(html)
    assert {tag for tag, _ in tags} == {"p", "strong", "a"}
    assert [attrs for tag, attrs in tags if tag == "a"] == [
        {"href": "https://example.com", "rel": "noopener noreferrer nofollow"}
    ]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text, never run


def _tags(html):
    """Every element the browser would build from `html`, with its attributes."""
    from html.parser import HTMLParser

    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    Collect().feed(html)
    return found


# --- Scope ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_shows_threads_only_to_those_who_see_their_record(world, run):
    on_run = challenge(world, run)
    on_version = services.thread_open(world.owner, "version", world.mine_v1.pk, title="Sizing", body="Too big?")
    visible = lambda user: set(selectors.thread_list(user).values_list("pk", flat=True))  # noqa: E731
    assert visible(world.developer) == {on_run.pk, on_version.pk}
    assert visible(world.trader) == {on_version.pk}  # no validation work for traders
    assert visible(world.developer2) == set() and visible(world.outsider) == set()
    assert visible(world.auditor) == {on_run.pk, on_version.pk}
    with pytest.raises(Http404):
        services.thread_open(world.trader, "run", run.pk, title="x", body="y")
    with pytest.raises(Http404):
        services.thread_open(world.developer2, "version", world.mine_v1.pk, title="x", body="y")
    with pytest.raises(PermissionDenied):
        services.thread_open(world.auditor, "version", world.mine_v1.pk, title="x", body="y")


# --- One step to an incident or a finding -------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_raises_an_incident_from_a_traders_thread_keeping_the_link(world, api):
    thread = services.thread_open(
        world.trader, "version", world.mine_v1.pk, title="Behaving oddly", body="Fills keep missing since 10:00."
    )
    assert not thread.challenge
    incident = services.thread_raise_incident(
        world.trader, thread, severity="medium", title="Fills missing", description="Since 10:00."
    )
    thread.refresh_from_db()
    assert thread.incident == incident and incident.model == world.mine and incident.version == world.mine_v1
    assert f"/threads/{thread.pk}/" in incident.description
    with pytest.raises(Conflict):
        services.thread_raise_incident(world.trader, thread, severity="low", title="Again", description="x")
    assert Incident.objects.count() == 1
    assert selectors.raised_from(world.owner, incident=incident) == [thread]


@pytest.mark.django_db
def test_it_raises_a_finding_only_for_the_models_validator(world, run):
    thread = challenge(world, run)
    due = dt.date.today() + dt.timedelta(days=10)
    values = {"severity": "medium", "title": "Window", "description": "20 days, not 60.", "due_date": due}
    with pytest.raises(PermissionDenied):
        services.thread_raise_finding(world.developer, thread, owner=world.developer, **values)
    finding = services.thread_raise_finding(world.validator, thread, owner=world.developer, **values)
    assert Thread.objects.get(pk=thread.pk).finding == finding and finding.version == world.mine_v1
    assert Finding.objects.filter(raised_from_threads=thread).count() == 1


# --- Challenge figures -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_counts_challenges_that_led_to_a_change_and_the_median_time_to_resolution(world, run, time_machine):
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    time_machine.move_to(start)
    led = challenge(world, run)  # a new run follows while it is open
    quiet = services.thread_open(world.validator, "version", world.mine_v1.pk, title="Q", body="Fine?")
    services.thread_open(world.owner, "version", world.mine_v1.pk, title="Not a challenge", body="Hm")
    time_machine.move_to(start + dt.timedelta(hours=1))
    services.thread_resolve(world.validator, quiet)
    time_machine.move_to(start + dt.timedelta(hours=2))
    make_run(world)
    time_machine.move_to(start + dt.timedelta(hours=3))
    services.thread_resolve(world.validator, led)
    # Another change after both were resolved counts for neither.
    time_machine.move_to(start + dt.timedelta(hours=12))
    make_run(world)
    [row] = selectors.challenge_figures(world.owner, models=[world.mine])
    assert (row["validator"], row["opened"], row["changed"], row["open"]) == (world.validator, 2, 1, 0)
    assert row["median_hours"] == 2.0  # 1 h and 3 h
    assert selectors.challenge_figures(world.trader, models=[world.mine])[0]["opened"] == 1  # the version's only


@pytest.mark.django_db
def test_the_overview_counts_each_validators_challenges_by_outcome(world, run, api):
    from django.utils import timezone

    from governance.core import widgets

    led = challenge(world, run)
    services.thread_raise_incident(world.validator, led, severity="low", title="Window", description="Wrong one.")
    quiet = services.thread_open(world.validator2, "version", world.theirs_v1.pk, title="Q", body="Fine?")
    services.thread_resolve(world.validator2, quiet)
    services.thread_open(world.validator, "version", world.mine_v1.pk, title="Open", body="Still?")
    services.thread_open(world.owner, "version", world.mine_v1.pk, title="Not a challenge", body="Hm")
    widget = widgets.get("validator-challenge")
    rows = widget.rows(world.compliance, widgets.Filters(as_of=timezone.now().date()))
    counted = {(r["validator"], r["outcome"]): r["count"] for r in rows if r["count"]}
    assert counted == {("validator", "changed"): 1, ("validator", "open"): 1, ("validator2", "no change"): 1}
    answer = api.as_user(world.compliance).get("/api/v1/dashboards/widgets/validator-challenge/")
    assert answer.status_code == 200
    assert api.as_user(world.developer).get("/api/v1/dashboards/widgets/validator-challenge/").status_code == 404


@pytest.mark.django_db
def test_a_trader_sees_no_thread_on_validation_work_even_if_its_rule_let_them(world, run, monkeypatch):
    """Threads on runs and findings are validation work: hidden from traders by the threads' own rule too, so a
    looser rule on runs would not leak the discussion."""
    from governance.core import access

    thread = challenge(world, run)
    monkeypatch.setitem(access._rules, ValidationRun, lambda user, action: None)  # every run, for everyone
    assert access.restrict(ValidationRun.objects.filter(pk=run.pk), world.trader).exists()
    assert not selectors.thread_list(world.trader).filter(pk=thread.pk).exists()
    with pytest.raises(Http404):
        services.thread_open(world.trader, "run", run.pk, title="x", body="y")
    assert selectors.thread_list(world.developer).filter(pk=thread.pk).exists()


@pytest.mark.django_db
def test_the_thread_page_names_records_and_replies_as_people_read_them_and_locks_what_vigil_wrote(
    world, browser_client
):
    """Found on the walk: "on version #19", "in reply to comment #10" (database ids), and Vigil's own "Raised
    incident" comment offered for correction to the person who raised it."""
    from risk.threads.models import Comment

    thread = services.thread_open(world.trader, "version", world.mine_v1.pk, title="Odd", body="Fills missing.")
    first = thread.comments.get()
    services.comment_add(world.trader, thread, "Since 10:00.", reply_to=first)
    services.thread_raise_incident(world.trader, thread, severity="medium", title="Fills missing", description="x")
    raised = thread.comments.get(kind=Comment.Kind.RAISED)
    page = browser_client.as_user(world.trader).get(f"/threads/{thread.pk}/").content.decode()
    assert "Version 1.0 of mine" in page and "in reply to <a" in page and ">comment 1</a>" in page
    assert f"comment #{first.pk}" not in page and "written by Vigil" in page
    assert f'data-testid="edit-{raised.pk}"' not in page
    model_page = browser_client.get("/models/mine/?section=threads").content.decode()
    assert "on version 1.0," in model_page and f"version #{world.mine_v1.pk}" not in model_page
