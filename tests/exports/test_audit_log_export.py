"""The audit log export: a job that streams CSV of the period and scope the person may see, checks the hash chain
over the period, hashes the file, and records each request and download; bad input is a 400 naming the field."""

import csv
import datetime as dt
import hashlib
import html
import io

import pytest
from django.utils import timezone

from governance.core import jobs
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
