"""The audit log export: a job that streams CSV of the period and scope the person may see, checks the hash chain
over the period, hashes the file, and records each request and download; bad input is a 400 naming the field."""

import csv
import datetime as dt
import hashlib
import html
import io
import json

import pytest
from django.utils import timezone

from governance.core import cells, jobs
from governance.core.audit import audit_record
from governance.core.models import AuditEvent
from risk.exports import services
from risk.exports.models import Export
from tests.governance.test_audit_chain import tamper

URL = "/api/v1/exports/"
TODAY = timezone.now().date()
PERIOD = {"kind": "audit_log", "since": (TODAY - dt.timedelta(days=1)).isoformat(), "until": TODAY.isoformat()}


def run(api, user, **body):
    answer = api.as_user(user).post(URL, {**PERIOD, **body}, format="json")
    assert answer.status_code == 202, answer.json()
    export = Export.objects.get(pk=answer.json()["id"])
    assert jobs.execute(export.job_id) == "succeeded", export.job.error
    export.refresh_from_db()
    return export


def download(api, user, export) -> tuple[list[dict], bytes]:
    answer = api.as_user(user).get(f"{URL}{export.pk}/download/")
    assert answer.status_code == 200
    content = b"".join(answer.streaming_content)
    return list(csv.DictReader(io.StringIO(content.decode()))), content


@pytest.mark.django_db
def test_compliance_exports_the_period_with_every_field_and_the_chain_verified(world, api):
    export = run(api, world.compliance)
    detail = api.as_user(world.compliance).get(f"{URL}{export.pk}/").json()
    assert detail["status"] == "succeeded" and detail["progress"] == 100 and detail["download_url"]
    rows, content = download(api, world.compliance, export)
    ready = AuditEvent.objects.get(action="export.ready", object_id=str(export.pk))  # written after the file
    expected = list(AuditEvent.objects.filter(id__lt=ready.pk).values_list("id", flat=True))
    assert [int(r["id"]) for r in rows] == expected and export.rows == len(expected) > 10
    first = AuditEvent.objects.get(pk=int(rows[0]["id"]))
    assert rows[0]["hash"] == first.hash and rows[0]["prev_hash"] == first.prev_hash
    assert rows[0]["action"] == first.action and rows[0]["actor"] == first.actor_username
    assert all(r["hash_verified"] == "yes" for r in rows)
    assert export.summary["chain"]["intact"] is True and export.summary["chain"]["checked"] >= len(rows)
    assert hashlib.sha256(content).hexdigest() == export.sha256 == detail["sha256"]
    assert AuditEvent.objects.filter(action="export.request", object_id=str(export.pk)).exists()
    downloaded = AuditEvent.objects.get(action="export.download", object_id=str(export.pk))
    assert downloaded.actor == world.compliance and downloaded.changes["sha256"][1] == export.sha256


@pytest.mark.django_db
def test_a_scoped_export_holds_the_scope_and_a_person_sees_only_their_own(world, api):
    audit_record(world.developer, "test.action", world.mine, changes={"note": [None, "x"]})
    mine = run(api, world.compliance, model="mine")
    rows, _ = download(api, world.compliance, mine)
    assert rows and {r["object_type"] for r in rows} <= {"models_registry.model", "models_registry.modelversion"}
    assert all(r["object_id"] == str(world.mine.pk) for r in rows if r["object_type"] == "models_registry.model")
    by_actor = run(api, world.compliance, actor="developer", action="test.")
    rows, _ = download(api, world.compliance, by_actor)
    assert [r["action"] for r in rows] == ["test.action"]
    # A trader reads only their own actions (as in the audit API), and never learns of a model out of scope.
    traders = run(api, world.trader)
    rows, _ = download(api, world.trader, traders)
    assert all(r["actor"] == "trader" for r in rows)
    assert api.as_user(world.trader).post(URL, {**PERIOD, "model": "theirs"}, format="json").status_code == 404
    # Exports are their requester's alone.
    assert api.as_user(world.trader).get(f"{URL}{mine.pk}/").status_code == 404
    assert api.as_user(world.trader).get(f"{URL}{mine.pk}/download/").status_code == 404


@pytest.mark.django_db
def test_an_edited_event_is_named_in_the_export(world, api):
    victim = AuditEvent.objects.order_by("-id")[3]
    tamper("UPDATE governance_auditevent SET reason = 'rewritten' WHERE id = %s", [victim.pk])
    export = run(api, world.compliance)
    rows, _ = download(api, world.compliance, export)
    assert export.summary["chain"]["intact"] is False and export.summary["chain"]["first_broken_id"] == victim.pk
    assert [r["id"] for r in rows if r["hash_verified"] == "NO"] == [str(victim.pk)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"since": "2999-01-01", "until": "2999-02-01"}, "since"),
        ({"since": "2001-01-01", "until": "2001-02-01"}, "until"),
        ({"since": TODAY.isoformat(), "until": (TODAY - dt.timedelta(days=3)).isoformat()}, "until"),
        ({"since": "yesterday"}, "since"),
        ({"kind": "everything"}, "kind"),
        ({"actor": "a\x00b"}, "actor"),
        ({"actor": "complaince"}, "actor"),  # a typo would otherwise be an empty file
        ({"action": "no-such-action."}, "action"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_records_nothing(world, api, body, field):
    answer = api.as_user(world.compliance).post(URL, {**PERIOD, **body}, format="json")
    assert answer.status_code == 400 and field in answer.json(), answer.json()
    assert not Export.objects.exists()


@pytest.mark.django_db
def test_an_expired_file_is_removed_and_refused_but_its_record_stays(world, api):
    export = run(api, world.compliance)
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert services.purge_expired() == 1
    export.refresh_from_db()
    assert export.purged_at and export.sha256
    assert api.as_user(world.compliance).get(f"{URL}{export.pk}/download/").status_code == 409
    assert api.as_user(world.compliance).get(f"{URL}{export.pk}/").json()["status"] == "expired"


@pytest.mark.django_db
def test_the_pages_ask_follow_and_download(world, client):
    client.force_login(world.auditor)
    page = client.post("/exports/", {**PERIOD, "model": ""})  # PERIOD names its kind, as the page's form does
    export = Export.objects.get()
    assert page.status_code == 302 and page.url == f"/exports/{export.pk}/"
    assert "queued" in client.get(page.url).content.decode()
    jobs.execute(export.job_id)
    detail = client.get(page.url).content.decode()
    assert "intact over the" in detail and export.__class__.objects.get().sha256 in detail
    assert client.get(f"/exports/{export.pk}/download/").status_code == 200
    assert client.post("/exports/", {**PERIOD, "model": "no-such-model"}).status_code == 400
    key = html.unescape(client.get("/exports/signing-key/").content.decode())
    assert "ssh-ed25519" in key and 'namespaces="vigil-export@vigil"' in key


# The export lays rows out by hand when it can (the tests below hold it to the original algorithm, byte for byte):
# events whose strings hold everything json escapes or csv quotes, and events that hold none.
AWKWARD = [
    ("test.quote", 'Model "Q", v2', 'He said "no",\r\nthen\tleft \\ \x01 \x1f', {"note": ['a "b"', "c,d"]}),
    ("test.unicode", "Modèle é 模型 🚀", "€ – naïve", {"é": [None, "ünï ✓"], "z": 1, "aa": {"β": [], "a": {}}}),
    ("test.numbers", "plain", "", {"f": [0.1, 1e-07], "g": [12345.678, -2.5], "i": [10**20, -1], "b": [True, False]}),
    ("test.keys", "plain", "", {"note": [1, 2], "field": [3, 4], "b": {"longer": 1, "a": 2}, "": [None, {}]}),
    ("test.nested", "plain", "", {"list": [[1, [2, {"y": "x", "x": "y"}]], []], "s": "a\u2028b\x7f"}),
    ("test.empty", "", "", {}),
    ("test.names", "mine", "", {"source": [None, "Card panel"], "model": ["theirs", "mine"]}),
    # Nothing to escape or quote, but a spreadsheet would run it: written neutralised (the exact way).
    ("test.formula", "=HYPERLINK(http://evil.example/x)", "@SUM(1+1)", {"note": [None, "-1+2"]}),
]


def record_awkward(world):
    from unittest import mock

    from governance.core.request_context import RequestContext, reset, set_current

    for n, (action, name, reason, changes) in enumerate(AWKWARD):
        # The first one's request id needs quoting in CSV; the others are written the fast way, an IP address each.
        token = set_current(RequestContext("req-1,2" if n == 0 else f"req-{n}", "2001:db8::1" if n else "192.0.2.1"))
        try:
            audit_record(world.developer, action, world.mine, changes=changes, reason=reason, object_repr=name)
        finally:
            reset(token)
    audit_record(None, "test.system", world.mine, changes={"n": [1, 2]})  # no actor, no ip
    second = timezone.now().replace(microsecond=0)  # shown without microseconds, hashed with them
    with mock.patch("django.utils.timezone.now", return_value=second):
        audit_record(world.developer, "test.second", world.mine, changes={"x": [None, "y"]})


def reference(user, since, until) -> str:
    """The export as it was written before it was made fast: model instances, canonical_content(), csv.writer
    (through the one rule that neutralises text a spreadsheet could run as a formula)."""
    from governance.core.audit import GENESIS_HASH, compute_hash
    from governance.core.redaction import redact_events
    from governance.core.selectors import audit_event_list
    from risk.exports import audit_log

    events = list(AuditEvent.objects.filter(timestamp__gte=since, timestamp__lt=until).order_by("id"))
    expected = AuditEvent.objects.filter(id__lt=events[0].pk).order_by("-id").values_list("hash", flat=True).first()
    expected, verdicts = expected or GENESIS_HASH, {}
    for event in events:
        verdicts[event.pk] = event.prev_hash == expected and compute_hash(event) == event.hash
        expected = event.hash
    visible = set(audit_event_list(user).values_list("id", flat=True))
    out = io.StringIO()
    writer = cells.writer(out)
    writer.writerow(audit_log.COLUMNS)
    for e in redact_events(user, [e for e in events if e.pk in visible]):
        changes = json.dumps(e.changes, sort_keys=True, ensure_ascii=False)
        row = [e.id, e.timestamp.isoformat(), e.actor_username, e.action, e.object_type, e.object_id, e.object_repr]
        row += [changes, e.reason, e.request_id, e.ip_address or "", e.prev_hash, e.hash]
        writer.writerow([*row, "yes" if verdicts[e.pk] else "NO"])
    return out.getvalue()


def export(user, since, until) -> tuple[str, dict]:
    from risk.exports import audit_log

    out = io.StringIO()
    outcome = audit_log.write(user, {"since": since, "until": until}, out, lambda percent: None)
    return out.getvalue(), outcome


@pytest.mark.django_db
@pytest.mark.parametrize(("batch", "server_formats"), [(5000, True), (3, True), (3, False)])
def test_every_row_is_byte_for_byte_what_the_original_algorithm_writes(world, monkeypatch, batch, server_formats):
    """One slice or many (some of them empty); on PostgreSQL, formatted by the server or in Python."""
    from django.db.models import Max, Min

    from risk.exports import audit_log

    monkeypatch.setattr(audit_log, "BATCH", batch)
    if not server_formats:
        monkeypatch.setattr(audit_log, "_server_formats", lambda connection: False)
    record_awkward(world)
    since, until = timezone.now() - dt.timedelta(days=1), timezone.now() + dt.timedelta(days=1)
    # The fast way is taken for the rows whose strings hold nothing json escapes or csv quotes, and only for them.
    bounds = AuditEvent.objects.aggregate(first=Min("id"), last=Max("id"))
    rows = [row for rows in audit_log._slices(since, until, bounds["first"], bounds["last"]) for row in rows]
    assert len(rows) == AuditEvent.objects.count()
    for row in rows:
        assert row[3] == audit_log._plain_strings((*row[5:10], *row[11:13], row[13] or "")), row
    assert {row[6] for row in rows if not row[3]} == {"test.quote", "test.formula"}

    class Exact(str):  # counts the events checked the exact way
        calls = 0

        def __mod__(self, values):
            Exact.calls += 1
            return super().__mod__(values)

    monkeypatch.setattr(audit_log, "CANONICAL", Exact(audit_log.CANONICAL))
    for user in (world.compliance, world.developer, world.trader):
        Exact.calls = 0
        content, outcome = export(user, since, until)
        assert content == reference(user, since, until), user
        assert Exact.calls == 2  # the events whose strings need escaping or neutralising; the others the fast way
        assert outcome["chain"]["intact"] is True and outcome["rows"] == len(list(csv.reader(io.StringIO(content)))) - 1
    # The fast layout and the redacting one show an event both may see in full alike; names out of the developer's
    # scope are redacted for them only.
    everything = {row["id"]: row for row in csv.DictReader(io.StringIO(export(world.compliance, since, until)[0]))}
    theirs = {row["id"]: row for row in csv.DictReader(io.StringIO(export(world.developer, since, until)[0]))}
    awkward = [r for r in theirs.values() if r["action"].startswith("test.")]
    assert len(awkward) == len(AWKWARD) + 2
    for row in awkward:
        if row["action"] == "test.names":
            assert "Card panel" in everything[row["id"]]["changes"] and "Card panel" not in row["changes"]
        else:
            assert row == everything[row["id"]]
    second = next(r for r in everything.values() if r["action"] == "test.second")
    assert "." not in second["timestamp"] and "." in everything[str(int(second["id"]) - 1)]["timestamp"]


@pytest.mark.django_db
def test_an_event_hashed_over_unescaped_strings_is_not_verified(world):
    """The hash covers json's escapes: a forger who hashed the strings as they are is caught, as verify_chain would."""
    from governance.core.audit import canonical_content

    record_awkward(world)
    last = AuditEvent.objects.order_by("-id").first()
    forged = 'a "quoted" reason'
    last.reason = forged
    naive = canonical_content(last).replace(b'a \\"quoted\\" reason', forged.encode())
    assert naive != canonical_content(last)
    tamper(
        "UPDATE governance_auditevent SET reason = %s, hash = %s WHERE id = %s",
        [forged, hashlib.sha256(naive).hexdigest(), last.pk],
    )
    content, outcome = export(world.compliance, timezone.now() - dt.timedelta(days=1), timezone.now())
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [r["id"] for r in rows if r["hash_verified"] == "NO"] == [str(last.pk)]
    assert outcome["chain"]["first_broken_id"] == last.pk
    assert outcome["chain"]["problem"] == "content does not match its stored hash"


@pytest.mark.django_db
def test_an_export_past_its_keep_until_is_expired_before_its_file_is_removed(world, api, client):
    export = run(api, world.compliance)
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    detail = api.as_user(world.compliance).get(f"{URL}{export.pk}/").json()
    assert detail["status"] == "expired" and detail["download_url"] is None
    refused = api.as_user(world.compliance).get(f"{URL}{export.pk}/download/")
    assert refused.status_code == 409 and "expired on" in refused.json()["detail"]
    client.force_login(world.compliance)
    assert ">expired<" in client.get("/exports/").content.decode()
    page = client.get(f"/exports/{export.pk}/download/", follow=True).content.decode()
    assert "expired on" in page and 'data-testid="export-download"' not in page
    assert not AuditEvent.objects.filter(action="export.download").exists()
