"""The inventory as of any past moment, rebuilt from the audit trail: records change over several days, and the
extract for each day matches what the inventory was that day; today's extract has the same columns; CSV and XLSX."""

import csv
import datetime as dt
import io
from contextlib import contextmanager
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from governance.core import jobs
from governance.lifecycle import workflow
from models_registry import services as inventory
from risk.exports.inventory import HEADERS
from risk.exports.models import Export
from tests.factories import make_model

URL = "/api/v1/exports/"
NOW = timezone.now()


@contextmanager
def on(day: int):
    """Act `day` days before now (the audit trail records that time)."""
    moment = NOW - dt.timedelta(days=day)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield moment


def extract(api, user, **body) -> list[dict]:
    answer = api.as_user(user).post(URL, {"kind": "inventory", **body}, format="json")
    assert answer.status_code == 202, answer.json()
    export = Export.objects.get(pk=answer.json()["id"])
    assert jobs.execute(export.job_id) == "succeeded", export.job.error
    content = b"".join(api.as_user(user).get(f"{URL}{export.pk}/download/").streaming_content)
    if body.get("format") == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(content), read_only=True).active
        lines = [[("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
        return [dict(zip(lines[0], line, strict=True)) for line in lines[1:]]
    return list(csv.DictReader(io.StringIO(content.decode())))


def by_key(rows) -> dict[str, dict]:
    return {r["Model key"]: r for r in rows}


@pytest.mark.django_db
def test_the_extract_for_each_past_day_matches_the_inventory_that_day(world, api):
    # Day 10: a model is registered; day 6 it is renamed and its owner changes; day 3 its live version is
    # suspended; day 1 it is renamed again. The world's models were registered just now (day 0).
    with on(10) as day10:
        late = make_model(
            world.compliance,
            key="alpha-late",
            owner=world.owner,
            developers=[world.developer],
            desk=world.desk,
            validator=world.validator,
        )
        inventory.model_update(world.compliance, late, name="Alpha v1", reason="Its name.")
    with on(6) as day6:
        inventory.model_update(world.compliance, late, name="Alpha v2", owner=world.owner2, reason="Desk reshuffle.")
    with on(5):
        from tests.factories import make_version

        version = make_version(world.developer, late, label="1.0", status="production")
    with on(3) as day3:
        workflow.version_transition(world.compliance, version, workflow.Action.SUSPEND, comment="Odd fills.")
    with on(1):
        inventory.model_update(world.compliance, late, name="Alpha v3", reason="Final name.")

    def as_of(moment):
        return by_key(extract(api, world.compliance, as_of=(moment + dt.timedelta(hours=1)).isoformat()))

    at10, at6, at3 = as_of(day10), as_of(day6), as_of(day3)
    assert set(at10) == {"alpha-late"}, "the world's models did not exist ten days ago"
    assert at10["alpha-late"]["Name"] == "Alpha v1" and at10["alpha-late"]["Owner"] == world.owner.get_full_name()
    assert at10["alpha-late"]["Versions in production"] == ""
    assert at6["alpha-late"]["Name"] == "Alpha v2" and at6["alpha-late"]["Owner"] == world.owner2.get_full_name()
    assert at3["alpha-late"]["Versions in production"] == "" and at3["alpha-late"]["Name"] == "Alpha v2"
    day4 = as_of(NOW - dt.timedelta(days=4))
    assert day4["alpha-late"]["Versions in production"] == "1.0"
    today = by_key(extract(api, world.compliance))
    assert today["alpha-late"]["Name"] == "Alpha v3" and {"mine", "theirs"} <= set(today)
    assert list(today["mine"]) == HEADERS
    assert today["mine"]["Versions in production"] == "1.0" and today["mine"]["Desk"] == world.desk.name


@pytest.mark.django_db
def test_the_xlsx_has_the_same_rows_and_a_person_gets_only_what_they_see(world, api):
    csv_rows = extract(api, world.compliance)
    xlsx_rows = extract(api, world.compliance, format="xlsx")
    assert [r["Model key"] for r in xlsx_rows] == [r["Model key"] for r in csv_rows]
    assert xlsx_rows[0]["Status"] == csv_rows[0]["Status"]
    trader = {r["Model key"] for r in extract(api, world.trader)}
    assert "mine" in trader and "theirs" not in trader and "draft-on-desk" not in trader


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [({"as_of": "2999-01-01"}, "as_of"), ({"as_of": "2001-01-01"}, "as_of"), ({"format": "pdf"}, "format")],
)
def test_a_date_in_the_future_or_before_the_first_record_is_refused(world, api, body, field):
    answer = api.as_user(world.compliance).post(URL, {"kind": "inventory", **body}, format="json")
    assert answer.status_code == 400 and field in answer.json()
    assert not Export.objects.exists()


@pytest.mark.django_db
def test_the_page_asks_for_an_extract_as_of_a_date(world, client):
    client.force_login(world.auditor)
    bad = client.post("/exports/", {"kind": "inventory", "as_of": "2199-01-01", "format": "xlsx"})
    assert bad.status_code == 400 and "in the future" in bad.content.decode()
    asked = client.post("/exports/", {"kind": "inventory", "as_of": "", "format": "xlsx"})
    export = Export.objects.get()
    assert asked.status_code == 302 and export.params == {"format": "xlsx", "as_of": None}
    jobs.execute(export.job_id)
    page = client.get(asked.url).content.decode()
    assert "the moment it was made" in page and ".xlsx" in page


def _workbook(api, user, **body):
    from openpyxl import load_workbook

    answer = api.as_user(user).post(URL, {"kind": "inventory", "format": "xlsx", **body}, format="json")
    export = Export.objects.get(pk=answer.json()["id"])
    assert jobs.execute(export.job_id) == "succeeded", export.job.error
    content = b"".join(api.as_user(user).get(f"{URL}{export.pk}/download/").streaming_content)
    return load_workbook(io.BytesIO(content)), Export.objects.get(pk=export.pk)


@pytest.mark.django_db
def test_the_xlsx_says_what_it_is_and_types_its_cells(world, api):
    world.validator.first_name = world.validator.last_name = ""  # no name: shown by username
    world.validator.save()
    inventory.model_update(world.compliance, world.mine, next_validation_due=dt.date(2027, 3, 31), reason="Due.")
    as_of = timezone.now()
    book, export = _workbook(api, world.compliance, as_of=as_of.isoformat())
    sheet, about = book.worksheets
    assert sheet.title == f"Inventory as of {as_of:%Y-%m-%d}" and export.file_name.startswith("vigil-inventory-as-of-")
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["B"].width >= 30
    header = [c.value for c in sheet[1]]
    assert header == HEADERS and all(c.font.b for c in sheet[1])
    mine = next(dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2) if row[0].value == "mine")
    assert mine["Tier"].data_type == "n" and isinstance(mine["Tier"].value, int)
    assert mine["Tier"].number_format == '"Tier "0'
    assert mine["Next validation due"].is_date and mine["Next validation due"].value.date() == dt.date(2027, 3, 31)
    assert mine["Next validation due"].number_format == "yyyy-mm-dd"
    assert mine["Owner"].value == world.owner.get_full_name() and mine["Validator"].value == world.validator.username
    assert all(c.data_type == "s" for c in (mine["Model key"], mine["Name"], mine["Status"]))
    facts = {row[0].value: row[1].value for row in about.iter_rows()}
    assert facts["As of (UTC)"].startswith(f"{as_of:%Y-%m-%d %H:%M:%S}")
    assert facts["Made by Vigil instance"] == settings.VIGIL_INSTANCE_NAME and facts["Export"] == export.reference
    assert facts["Asked for by"] == world.compliance.get_full_name() and facts["Models"] == export.rows
    today, _ = _workbook(api, world.compliance)
    assert today.worksheets[0].title == "Inventory" and dict(today.worksheets[1].values)["As of (UTC)"] == (
        "when it was made"
    )
