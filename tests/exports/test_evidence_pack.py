"""The evidence pack of a model version, checked the way an auditor would, with standard tools only: sha256sum,
bagit.py --validate, ssh-keygen -Y verify and docs/verify_signature_hashes.py; one changed byte fails each check
that covers it. A pack is never handed out incomplete, and it holds only what its requester may see."""

import io
import json

import pytest
from django.core.files.storage import default_storage

from governance.core import jobs
from governance.core.models import Signature
from risk.exports import signing
from risk.exports.models import Export
from tests.exports.packs import URL, allowed_signers, checks, flip_one_byte, make_pack
from tests.factories import make_version


@pytest.mark.django_db
def test_a_pack_verifies_with_standard_tools_and_holds_the_whole_record(world, api, signed_version, tmp_path):
    bag = make_pack(api, world.auditor, signed_version, tmp_path)
    outcomes = checks(bag, allowed_signers(tmp_path))
    for name, outcome in outcomes.items():
        assert outcome.returncode == 0, (name, outcome.stdout, outcome.stderr)
    assert "Good" in outcomes["ssh-keygen"].stdout + outcomes["ssh-keygen"].stderr

    data = bag / "data"
    assert (data / "dossier.pdf").read_bytes().startswith(b"%PDF")
    signatures = json.loads((data / "records" / "signatures.json").read_text())
    meanings = {s["meaning_code"] for s in signatures}
    assert {"validated_with_conditions", "approved", "incident_closed"} <= meanings
    assert len(signatures) == Signature.objects.filter(content_hash__in=[s["content_hash"] for s in signatures]).count()
    assert outcomes["signatures"].stdout.count("ok     signature") == len(signatures)
    evidence = json.loads((data / "records" / "evidence.json").read_text())
    assert len(evidence) == signed_version.evidence.count() >= 2
    for row in evidence:
        assert (bag / row["path"]).is_file(), row
    version = json.loads((data / "records" / "version.json").read_text())
    assert version["conditions_of_use"] == "Rank only; never size positions."
    runs = json.loads((data / "records" / "validation-runs.json").read_text())
    assert runs and runs[0]["results"], "the run's results and thresholds are in the pack"
    assert (data / "records" / "validation-results.csv").read_text().startswith("run,test,metric,value,threshold")
    incidents_rows = json.loads((data / "records" / "incidents.json").read_text())
    assert incidents_rows[0]["root_cause"] == "A stale quote feed." and incidents_rows[0]["timeline"]
    info = (bag / "bag-info.txt").read_text()
    assert signing.current().fingerprint in info and "External-Identifier: EXP-" in info


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target, failing",
    [
        ("evidence", {"manifest", "manifest-sha512", "bagit", "signatures"}),
        ("signatures.json", {"manifest", "manifest-sha512", "bagit", "signatures"}),
        ("tagmanifest-sha256.txt", {"ssh-keygen", "tagmanifest", "bagit"}),
        ("bag-info.txt", {"tagmanifest", "bagit"}),
    ],
)
def test_one_changed_byte_fails_every_check_that_covers_it(world, api, signed_version, tmp_path, target, failing):
    bag = make_pack(api, world.compliance, signed_version, tmp_path)
    if target == "evidence":
        row = json.loads((bag / "data" / "records" / "evidence.json").read_text())[0]
        flip_one_byte(bag / row["path"], at=3)
    elif target == "signatures.json":
        path = bag / "data" / "records" / "signatures.json"
        text = path.read_text()
        content_hash = json.loads(text)[0]["content_hash"]
        changed = content_hash[:-1] + ("0" if content_hash[-1] != "0" else "1")
        path.write_text(text.replace(content_hash, changed, 1))
    else:
        path = bag / target
        flip_one_byte(path, at=len(path.read_bytes()) // 2)
    outcomes = checks(bag, allowed_signers(tmp_path))
    assert {name for name, outcome in outcomes.items() if outcome.returncode != 0} == failing


@pytest.mark.django_db
def test_a_pack_with_a_missing_or_altered_evidence_file_fails_with_the_reason(world, api, signed_version):
    evidence = signed_version.evidence.order_by("id").first()
    default_storage.delete(evidence.file.name)
    answer = api.as_user(world.compliance).post(
        URL, {"kind": "evidence_pack", "model": "mine", "version": signed_version.version}, format="json"
    )
    export = Export.objects.get(pk=answer.json()["id"])
    assert jobs.execute(export.job_id) == "failed"
    export.refresh_from_db()
    assert f"Evidence file {evidence.pk}" in export.job.error and "missing" in export.job.error
    assert not export.file and not export.sha256
    assert api.get(f"{URL}{export.pk}/download/").status_code == 409

    other = signed_version.evidence.order_by("id")[1]
    with default_storage.open(other.file.name, "wb") as handle:
        handle.write(b"not what was signed")
    default_storage.save(evidence.file.name, io.BytesIO(b"%PDF-1.4 evidence"))
    answer = api.post(URL, {"kind": "evidence_pack", "model": "mine", "version": signed_version.version}, format="json")
    export = Export.objects.get(pk=answer.json()["id"])
    assert jobs.execute(export.job_id) == "failed"
    assert "not the file recorded" in Export.objects.get(pk=export.pk).job.error


@pytest.mark.django_db
def test_a_pack_hides_names_its_requester_may_not_see(world, api, signed_version, tmp_path):
    bag = make_pack(api, world.owner, signed_version, tmp_path)
    version = json.loads((bag / "data" / "records" / "version.json").read_text())
    names = set(version["data_source_names"].values())
    assert names == {"Public feed", "a restricted data source"}
    for path in (bag / "data" / "records").iterdir():
        assert "Card panel" not in path.read_text(), path.name


@pytest.mark.django_db
def test_bad_requests_for_a_pack_name_the_field_and_change_nothing(world, api, signed_version):
    before = Export.objects.count()
    answer = api.as_user(world.compliance).post(URL, {"kind": "evidence_pack", "model": "mine"}, format="json")
    assert answer.status_code == 400 and "version" in answer.json()
    answer = api.post(URL, {"kind": "evidence_pack", "model": "mine", "version": "9.9"}, format="json")
    assert answer.status_code == 400 and "9.9" in answer.json()["version"][0]
    answer = api.post(URL, {"kind": "evidence_pack", "version": "1.0"}, format="json")
    assert answer.status_code == 400 and "model" in answer.json()
    # A model out of the requester's scope: 404, as on its page.
    answer = api.as_user(world.owner).post(
        URL, {"kind": "evidence_pack", "model": "theirs", "version": "1.0"}, format="json"
    )
    assert answer.status_code == 404
    # A trader sees a model's tradeable versions only: a draft is not theirs to export.
    make_version(world.developer, world.mine, label="6.0")
    answer = api.as_user(world.trader).post(
        URL, {"kind": "evidence_pack", "model": "mine", "version": "6.0"}, format="json"
    )
    assert answer.status_code == 400 and "6.0" in answer.json()["version"][0]
    assert Export.objects.count() == before
    answer = api.post(URL, {"kind": "evidence_pack", "model": "mine", "version": "5.0"}, format="json")
    assert answer.status_code == 202


@pytest.mark.django_db
def test_the_exports_page_asks_for_a_pack_from_the_version_page(world, browser_client, signed_version):
    page = browser_client.as_user(world.auditor).get(f"/models/mine/versions/{signed_version.version}/")
    link = f"/exports/?model=mine&amp;version={signed_version.version}#evidence-pack"
    assert link in page.content.decode()
    form = browser_client.get(f"/exports/?model=mine&version={signed_version.version}").context["pack_form"]
    assert form["model"].value() == "mine" and form["version"].value() == signed_version.version

    wrong = browser_client.post("/exports/", {"kind": "evidence_pack", "model": "mine", "version": "9.9"})
    assert wrong.status_code == 400 and "9.9" in str(wrong.context["pack_form"].errors["version"])
    hidden = browser_client.as_user(world.owner).post(
        "/exports/", {"kind": "evidence_pack", "model": "theirs", "version": "1.0"}
    )
    assert hidden.status_code == 400 and "No model you may see" in str(hidden.context["pack_form"].errors["model"])
    made = browser_client.as_user(world.auditor).post(
        "/exports/", {"kind": "evidence_pack", "model": "mine", "version": signed_version.version}
    )
    export = Export.objects.get(requested_by=world.auditor, kind="evidence_pack")
    assert made.status_code == 302 and made["Location"] == f"/exports/{export.pk}/"
    assert jobs.execute(export.job_id) == "succeeded"
    detail = browser_client.get(f"/exports/{export.pk}/").content.decode()
    assert "evidence files" in detail and 'data-testid="pack-verify"' in detail


@pytest.mark.django_db
def test_a_pack_holds_the_review_threads_of_the_version_and_its_records(world, api, signed_version, tmp_path):
    """Issue 24: every comment of the threads on the version and its incident, as written, with who wrote it."""
    from risk.exports import evidence_pack as ep
    from risk.incidents.models import Incident
    from risk.threads import services as threads

    incident = Incident.objects.get(version=signed_version)
    on_incident = threads.thread_open(
        world.owner, "incident", incident.pk, title="Was the feed checked?", body="@validator did the run see it?"
    )
    threads.comment_add(world.validator, on_incident, "No: the run read a **clean** file.")
    challenge = threads.thread_open(world.validator, "version", signed_version.pk, title="Sizing", body="Too big?")
    threads.thread_resolve(world.validator, challenge, "Answered by the conditions.")
    elsewhere = threads.thread_open(world.owner2, "version", world.theirs_v1.pk, title="Not this model", body="x")

    bag = make_pack(api, world.compliance, signed_version, tmp_path)
    rows = json.loads((bag / "data" / "records" / "threads.json").read_text())
    assert [r["id"] for r in rows] == [on_incident.pk, challenge.pk] and elsewhere.pk not in [r["id"] for r in rows]
    first = rows[0]
    assert first["on"] == f"incident #{incident.pk}" and not first["challenge"]
    assert [(c["by"], c["text"]) for c in first["comments"]] == [
        (ep.person(world.owner), "@validator did the run see it?"),
        (ep.person(world.validator), "No: the run read a **clean** file."),
    ]
    assert first["comments"][0]["mentions"] and rows[1]["challenge"] and rows[1]["status"] == "resolved"
    assert [c["kind"] for c in rows[1]["comments"]] == ["comment", "resolved"]
    assert (bag / "data" / "records" / "threads.csv").read_text().startswith("id,reference,version,on,title")


@pytest.mark.django_db
def test_a_pack_holds_who_acknowledged_the_card_before_use(world, api, tmp_path):
    """Issue 24: the gate's "acknowledged before use" leaves evidence: who, as what, the card hash they signed, their
    answers and the signature (found missing on the walk)."""
    from governance.core.policy import policy_publish
    from risk.gate import acknowledgements as acks
    from tests.factories import PASSWORD

    version = world.mine_v1  # in production: the card the gate asks for
    policy_publish(world.compliance, acknowledgement_required={"1": ["traders"], "2": ["traders"], "3": ["traders"]})
    limitations, hash_ = acks.current_card(version)
    answers = {q["id"]: q["answer"] for q in acks.questions(version, limitations, hash_)}
    made = acks.acknowledgement_record(world.trader, version, card_hash=hash_, answers=answers, password=PASSWORD)

    bag = make_pack(api, world.compliance, version, tmp_path)
    rows = json.loads((bag / "data" / "records" / "acknowledgements.json").read_text())
    assert [(r["username"], r["as"], r["card_hash"], r["signature_id"]) for r in rows] == [
        ("trader", "Trader of the desk", hash_, made.signature_id)
    ]
    assert rows[0]["signature_hash"] == made.signature.content_hash and rows[0]["answers"] == made.answers
    assert (bag / "data" / "records" / "acknowledgements.csv").read_text().startswith("id,version,person,username,as")
