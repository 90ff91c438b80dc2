"""The audit trail page (/audit/): the firm-wide trail for compliance and auditors (inside their access window) and
administrators, 403 for anyone else; filtered by model, person, action and UTC days (bad input: 400 beside the
field, nothing else changes), paged newest first, each row checked against the chain; its CSV holds exactly the
rows the page lists, neutralised, with the filters in its name; its cost does not grow with the rows."""

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.core import access, access_window, moments
from governance.core.audit import audit_record
from governance.core.models import AuditEvent
from risk.exports import audit_log
from tests.exports.test_audit_log_export import AWKWARD
from tests.governance.test_audit_chain import tamper

URL, CSV_URL = "/audit/", "/audit/download/"
DAY = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


def listed(response) -> list[int]:
    return [event.id for event in response.context["events"]]


def recorded_on(moment, *args, **kwargs):
    with mock.patch("governance.core.audit.timezone.now", return_value=moment):
        return audit_record(*args, **kwargs)


def download(client, query: dict) -> tuple[list[dict], str]:
    response = client.get(CSV_URL, query)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text))), response["Content-Disposition"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona, status",
    [("compliance", 200), ("auditor", 200), ("admin", 200), ("developer", 403), ("trader", 403), ("validator", 403)],
)
def test_it_is_for_compliance_auditors_and_administrators_only(world, browser_client, persona, status):
    client = browser_client.as_user(getattr(world, persona))
    assert client.get(URL).status_code == status
    assert client.get(CSV_URL).status_code == status
    menu = client.get("/models/").content.decode()
    assert ('data-testid="audit-trail-link"' in menu) is (status == 200)


@pytest.mark.django_db
def test_an_auditor_outside_their_access_window_is_refused(world, browser_client):
    client = browser_client.as_user(world.auditor)
    assert client.get(URL).status_code == 200
    now = timezone.now()
    access_window.set_window(world.compliance, world.auditor, now - dt.timedelta(hours=2), now - dt.timedelta(hours=1))
    assert not access.can_read_audit_trail(world.auditor)
    answer = client.get(URL)
    assert answer.status_code == 302 and answer.url.startswith("/login/")
    assert client.get(URL).status_code == 302, "the session is over"


@pytest.mark.django_db
def test_each_filter_narrows_the_rows(world, browser_client):
    client = browser_client.as_user(world.compliance)  # its sign-in is recorded first
    on_day = recorded_on(DAY, world.developer, "test.alpha", world.mine, changes={"note": [None, "a"]})
    on_version = audit_record(world.validator, "test.beta", world.mine_v1)
    elsewhere = audit_record(world.developer2, "test.alpha", world.theirs)
    everything = listed(client.get(URL))
    assert everything[:2] == [elsewhere.pk, on_version.pk], "newest first"
    assert client.get(URL).context["page"].paginator.count == AuditEvent.objects.count()

    by_model = client.get(URL, {"model": "mine"})
    assert on_day.pk in listed(by_model) and on_version.pk in listed(by_model) and elsewhere.pk not in listed(by_model)
    assert {e.object_repr for e in by_model.context["events"]} <= {"mine", "mine@1.0"}
    by_person = client.get(URL, {"person": "developer2"})
    assert listed(by_person) and {e.actor_username for e in by_person.context["events"]} == {"developer2"}
    assert listed(client.get(URL, {"action": "test.alpha"})) == [elsewhere.pk, on_day.pk]
    assert listed(client.get(URL, {"since": "2026-03-10", "until": "2026-03-10"})) == [on_day.pk]
    assert listed(client.get(URL, {"until": "2026-03-09"})) == []
    together = client.get(URL, {"model": "mine", "person": "validator", "action": "test.beta"})
    assert listed(together) == [on_version.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, field, message",
    [
        ({"since": "2026-13-45"}, "since", "valid date"),
        ({"until": "1900-01-01"}, "until", "1970-01-01"),
        ({"since": "2026-03-10", "until": "2026-03-09"}, "until", "on or after"),
        ({"model": "no-such-model"}, "model", "valid choice"),
        ({"action": "=cmd"}, "action", "valid choice"),
    ],
)
def test_bad_filters_are_a_400_beside_the_field_and_change_nothing(world, browser_client, query, field, message):
    client = browser_client.as_user(world.compliance)
    before = AuditEvent.objects.count()
    for url in (URL, CSV_URL):
        answer = client.get(url, query)
        assert answer.status_code == 400
        assert message in str(answer.context["form"].errors[field])
        assert f'data-field="{field}"' in answer.content.decode()
        assert 'data-testid="audit-events"' not in answer.content.decode()
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_the_csv_holds_the_rows_of_the_page_neutralised_and_names_its_filters(world, browser_client):
    audit_record(world.developer, "test.formula", world.mine, object_repr="=HYPERLINK(http://evil.example)")
    audit_record(world.developer, "test.formula", world.theirs, reason="@SUM(1+1)")
    audit_record(world.validator, "test.formula", world.mine)
    client = browser_client.as_user(world.auditor)
    query = {"person": "developer", "action": "test.formula", "since": timezone.now().date().isoformat()}
    page = client.get(URL, query)
    rows, disposition = download(client, query)
    assert [int(row["id"]) for row in rows] == listed(page) and len(rows) == 2
    assert rows[1]["object_repr"] == "'=HYPERLINK(http://evil.example)" and rows[0]["reason"] == "'@SUM(1+1)"
    assert {row["hash_verified"] for row in rows} == {"yes"}
    assert "person-developer_action-test.formula_from-" in disposition and disposition.endswith('.csv"')
    taken = AuditEvent.objects.get(action="audit.download")
    assert taken.actor == world.auditor and taken.changes["person"] == [None, "developer"]
    assert taken.changes["up_to_event"][1] == listed(page)[0]


@pytest.mark.django_db
def test_the_csv_writes_each_row_as_the_audit_log_export_does(world, browser_client):
    """One vocabulary for auditors: the same columns and cells, byte for byte, whatever the text holds."""
    client = browser_client.as_user(world.compliance)
    for action, repr_, reason, changes in AWKWARD:
        audit_record(world.developer, action, world.mine, object_repr=repr_, reason=reason, changes=changes)
    exported = io.StringIO()
    audit_log.write(world.compliance, {"since": moments.EARLIEST, "until": moments.LATEST}, exported, lambda p: 0)
    expected = list(csv.reader(io.StringIO(exported.getvalue())))
    response = client.get(CSV_URL)
    written = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert written[0] == expected[0] == audit_log.COLUMNS
    assert written[1:] == expected[:0:-1] and len(written) > len(AWKWARD)


@pytest.mark.django_db
def test_a_tampered_event_is_marked_on_the_page_and_in_the_file(world, browser_client):
    events = [audit_record(world.developer, "test.chain", world.mine) for _ in range(3)]
    tamper("UPDATE governance_auditevent SET reason = 'rewritten' WHERE id = %s", [events[1].pk])
    client = browser_client.as_user(world.compliance)
    page = client.get(URL, {"action": "test.chain"})
    assert [e.holds for e in page.context["events"]] == [True, False, True]
    assert 'data-testid="chain-broken"' in page.content.decode()
    rows, _ = download(client, {"action": "test.chain"})
    assert [row["hash_verified"] for row in rows] == ["yes", "NO", "yes"]


@pytest.mark.django_db
def test_objects_link_to_the_model_and_version_pages(world, browser_client):
    audit_record(world.developer, "test.link", world.mine_v1)
    html = browser_client.as_user(world.compliance).get(URL, {"action": "test.link"}).content.decode()
    assert 'href="/models/mine/versions/1.0/"' in html and "UTC</time>" in html


# What a page costs today, however many rows it shows: the session and the menu, the three choice lists (models,
# people, actions), the count, the page of events, their model and version links and the names in their changes.
PAGE_BUDGET = 13


def _queries(client, query) -> int:
    client.get(URL, query)  # warm the session and caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, query)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.slow(reason="records 60 events and loads the page four times")
def test_the_page_costs_the_same_with_3_and_60_rows(world, browser_client):
    client = browser_client.as_user(world.compliance)
    subjects = [world.mine, world.theirs, world.mine_v1, world.theirs_v1]
    for i in range(3):
        audit_record(world.developer, "test.many", subjects[i % 4], changes={"owner": [None, "owner"]})
    few = _queries(client, {"action": "test.many"})
    for i in range(57):
        audit_record(world.validator, "test.many", subjects[i % 4], changes={"owner": ["owner", "owner2"]})
    many = _queries(client, {"action": "test.many"})
    assert len(client.get(URL, {"action": "test.many"}).context["events"]) == 50
    print(f"audit trail page: {few} queries with 3 rows, {many} with a full page")
    assert many == few <= PAGE_BUDGET
