"""Evidence files: stored with their hash, sniffed from their bytes, served only as attachments to those allowed."""

import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.core.models import AuditEvent
from risk.validation.models import Evidence

PDF = b"%PDF-1.4\n% validation report\n"


def docx_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def parquet_bytes():
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"y_true": [0, 1], "y_pred": [1, 1]}), buffer)
    return buffer.getvalue()


def upload(api, user, name, content, kind="documentation", version="1.0"):
    return api.as_user(user).post(
        f"/api/v1/models/mine/versions/{version}/evidence/",
        {"file": SimpleUploadedFile(name, content), "kind": kind, "description": "test"},
        format="multipart",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name,content,content_type",
    [
        ("report.pdf", PDF, "application/pdf"),
        ("spec.docx", docx_bytes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("preds.csv", b"timestamp,y_true,y_pred\n2026-01-02,1,0\n", "text/csv"),
        ("notes.md", "# Überblick\n".encode(), "text/markdown"),
        ("nb.ipynb", b'{"cells": [], "metadata": {}}', "application/x-ipynb+json"),
        ("data.parquet", parquet_bytes(), "application/vnd.apache.parquet"),
    ],
)
def test_it_stores_accepted_files_with_their_hash(name, content, content_type, world, api):
    before = AuditEvent.objects.filter(action="evidence.add").count()
    response = upload(api, world.developer, name, content)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(content).hexdigest() and body["size"] == len(content)
    assert body["content_type"] == content_type and body["uploaded_by"] == "developer"
    assert AuditEvent.objects.filter(action="evidence.add").count() == before + 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name,content,message",
    [
        ("malware.exe", b"MZ\x90\x00", "not accepted"),
        ("fake.pdf", b"MZ\x90\x00 this is a program", "not a valid PDF"),
        ("fake.docx", b"PK\x03\x04 not really a zip", "not a valid DOCX"),
        ("binary.csv", b"a,b\n\x00\x01\x02", "not UTF-8 text"),
        ("latin1.csv", "café,1\n".encode("latin-1"), "not UTF-8 text"),
        ("empty.pdf", b"", "empty"),
        ("model.pkl", b"\x80\x04\x95", "not accepted"),
        ("data.parquet", b"PAR1....PAR1", "Parquet file cannot be read"),
    ],
)
def test_it_refuses_other_files_and_stores_nothing(name, content, message, world, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    before = Evidence.objects.count()
    response = upload(api, world.developer, name, content)
    assert response.status_code == 400
    assert message in " ".join(response.json()["file"])
    assert Evidence.objects.count() == before and not any(tmp_path.rglob("*.*")) and not list(tmp_path.rglob("*"))


@pytest.mark.django_db
def test_it_enforces_the_size_limit(world, api, settings):
    settings.VIGIL_EVIDENCE_MAX_MB = 1
    response = upload(api, world.developer, "big.csv", b"x" * (1024 * 1024 + 1))
    assert response.status_code == 400 and "larger than the limit of 1 MB" in response.json()["file"][0]


@pytest.mark.django_db
def test_it_serves_evidence_only_to_those_who_may_see_it(world, api):
    evidence_id = upload(api, world.developer, "report.pdf", PDF).json()["id"]
    url = f"/api/v1/models/mine/versions/1.0/evidence/{evidence_id}/"
    response = api.as_user(world.auditor).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment") and b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/octet-stream"
    assert api.as_user(world.developer2).get(url).status_code == 404
    assert api.as_user(world.trader).get(url).status_code == 404
    assert api.as_user(world.trader).get("/api/v1/models/mine/versions/1.0/evidence/").status_code == 403
    assert api.as_user(world.validator).get("/api/v1/models/mine/versions/1.0/evidence/").json()[0]["id"] == evidence_id


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona,expected",
    [("validator", 201), ("owner", 201), ("compliance", 403), ("auditor", 403), ("trader", 403), ("developer2", 404)],
)
def test_it_lets_the_team_and_validator_add_evidence(persona, expected, world, api):
    assert upload(api, getattr(world, persona), "report.pdf", PDF).status_code == expected
