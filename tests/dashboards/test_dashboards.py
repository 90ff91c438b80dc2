"""Dashboards (issue 22): the widget registry, the pages, each widget's CSV, drill-down and API, drawn from one set
of rows, through the access registry. The inventory's widgets (models_registry/widgets.py) are the subject here;
each app's own widgets have their tests beside these."""

import csv
import datetime as dt
import io
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.core import widgets
from governance.core.models import UserProfile
from governance.core.widgets import Dimension, Filters, RecordColumn, Widget
from models_registry.models import Model
from models_registry.widgets import DUE_BUCKETS, INVENTORY, INVENTORY_BY_DESK, VALIDATION_COVERAGE, VALIDATION_DUE
from risk.dashboards import charts, selectors
from tests.factories import DeskFactory, make_model

INVENTORY_WIDGETS = (INVENTORY, INVENTORY_BY_DESK, VALIDATION_COVERAGE, VALIDATION_DUE)


def today() -> dt.date:
    return timezone.now().date()


def set_fields(model, **fields):
    """Put a model in a state for the test (its lifecycle and tiering are tested where they are made)."""
    Model.objects.filter(pk=model.pk).update(**fields)


def csv_table(response) -> tuple[dict, list[list[str]]]:
    """The CSV's header (name -> value) and its table (header row first)."""
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    blank = lines.index([])
    return {row[0]: row[1] for row in lines[:blank]}, lines[blank + 1 :]


# --- One set of rows: chart, table, CSV, API and drill-down agree ------------------------------------------------


@pytest.fixture
def random_firm(world):
    """The world plus 14 models in seeded random states: tiers, statuses, desks, types and validation dates."""
    rng = random.Random(22)
    desks = [world.desk, world.other_desk, DeskFactory(code="fx", name="FX", business_line="Macro")]
    statuses = ["draft", "submitted", "in_validation", "approved", "pilot", "production", "suspended", "retired"]
    for n in range(14):
        model = make_model(
            world.compliance, key=f"random-{n}", owner=world.owner, developers=[world.developer], desk=rng.choice(desks)
        )
        validated = rng.choice([None, today() - dt.timedelta(days=rng.randint(30, 700))])
        set_fields(
            model,
            risk_tier=rng.choice([1, 2, 3]),
            status=rng.choice(statuses),
            model_type=rng.choice(["gradient_boosting", "deep_learning", "rule_based"]),
            last_validated_at=validated,
            next_validation_due=rng.choice([None, today() + dt.timedelta(days=rng.randint(-120, 200))]),
        )
    return world


def random_filters(rng) -> list[dict]:
    out = [{}]
    for _ in range(7):
        chosen = {}
        if rng.random() < 0.5:
            chosen["desk"] = rng.choice(["sys-eq", "rates", "fx"])
        if rng.random() < 0.5:
            chosen["tier"] = str(rng.choice([1, 2, 3]))
        if rng.random() < 0.4:
            chosen["model_type"] = rng.choice(["gradient_boosting", "deep_learning", "rule_based"])
        if rng.random() < 0.3:
            chosen["business_unit"] = rng.choice(["Macro", "Equities"])
        out.append(chosen)
    return out


@pytest.mark.django_db
def test_chart_table_csv_api_and_drill_down_count_the_same_records(random_firm, browser_client, api):
    """For random filters, every widget: the sum of the chart = the table's total = the CSV's rows = the API's rows
    = the records its drill-downs list, row by row, and the records are exactly the models the filters select."""
    client = browser_client.as_user(random_firm.compliance)
    api_client = api.as_user(random_firm.compliance)
    for params in random_filters(random.Random(7)):
        for widget in INVENTORY_WIDGETS:
            form_filters = Filters(
                as_of=today(),
                desk=params.get("desk", ""),
                tier=int(params["tier"]) if "tier" in params else None,
                model_type=params.get("model_type", ""),
                business_unit=params.get("business_unit", ""),
            )
            drawn = selectors.drawn(random_firm.compliance, widget, form_filters)
            figure = charts.figure(widget, drawn.rows, drawn.drill_urls)
            chart_sum = (
                sum(sum(trace["x" if widget.chart == "hbar" else "y"]) for trace in figure["data"]) if figure else 0
            )
            assert chart_sum == drawn.total, (widget.key, params)

            _header, table = csv_table(client.get(drawn.csv_url))
            assert sum(int(row[len(widget.dimensions)]) for row in table[1:]) == drawn.total
            assert len(table) - 1 == len(drawn.rows)

            answer = api_client.get(f"/api/v1/dashboards/widgets/{widget.key}/", params).json()
            assert [row["count"] for row in answer["rows"]] == [row["count"] for row in drawn.rows]

            drilled = 0
            for row, url in zip(drawn.rows, drawn.drill_urls, strict=True):
                page = client.get(url)
                assert page.status_code == 200
                assert page.context["page"].paginator.count == row["count"], (widget.key, params, row)
                drilled += row["count"]
            assert drilled == drawn.total
            everything = client.get(drawn.all_url).context["page"].paginator.count
            assert everything == drawn.total

        # The inventory widget counts exactly the models the filters select.
        expected = Model.objects.all()
        if "desk" in params:
            expected = expected.filter(desk__code=params["desk"])
        if "tier" in params:
            expected = expected.filter(risk_tier=int(params["tier"]))
        if "model_type" in params:
            expected = expected.filter(model_type=params["model_type"])
        if "business_unit" in params:
            expected = expected.filter(desk__business_line=params["business_unit"])
        assert widgets.total(INVENTORY.rows(random_firm.compliance, Filters(as_of=today(), **_typed(params)))) == (
            expected.count()
        )


def _typed(params: dict) -> dict:
    return {**params, "tier": int(params["tier"])} if "tier" in params else params


# --- The inventory's widgets count what they say -----------------------------------------------------------------


@pytest.mark.django_db
def test_validation_due_buckets_fall_on_their_boundaries(world):
    """Overdue by exactly 30 days is "up to 30", by 31 "more than 30"; due in exactly 30 days is "within 30"."""
    day = today()
    cases = {
        "b-over-30": (day - dt.timedelta(days=31), "overdue_over_30"),
        "b-30": (day - dt.timedelta(days=30), "overdue"),
        "b-yesterday": (day - dt.timedelta(days=1), "overdue"),
        "b-today": (day, "due_30"),
        "b-in-30": (day + dt.timedelta(days=30), "due_30"),
        "b-in-31": (day + dt.timedelta(days=31), "due_60"),
        "b-in-90": (day + dt.timedelta(days=90), "due_90"),
        "b-in-91": (day + dt.timedelta(days=91), "later"),
    }
    for key, (due, _bucket) in cases.items():
        model = make_model(world.compliance, key=key, owner=world.owner, developers=[world.developer])
        set_fields(model, next_validation_due=due)
    set_fields(world.draft_on_desk, status="retired")  # retired models are not counted
    found = dict(VALIDATION_DUE.records(world.compliance, Filters(as_of=day)).values_list("key", "due"))
    assert {key: found[key] for key in cases} == {key: bucket for key, (_due, bucket) in cases.items()}
    assert world.draft_on_desk.key not in found
    rows = VALIDATION_DUE.rows(world.compliance, Filters(as_of=day))
    assert [row["due"] for row in rows] == [code for code, _label in DUE_BUCKETS]  # zeros shown, in order
    caption = VALIDATION_DUE.caption(rows, Filters(as_of=day))
    assert caption.startswith("3 of ") and "1 by more than a month" in caption


@pytest.mark.django_db
def test_coverage_counts_models_in_use_by_whether_their_validation_is_in_date(world):
    day = today()
    set_fields(
        world.mine, last_validated_at=day - dt.timedelta(days=100), next_validation_due=day + dt.timedelta(days=1)
    )
    set_fields(
        world.theirs, last_validated_at=day - dt.timedelta(days=400), next_validation_due=day - dt.timedelta(days=1)
    )
    # Approved but not yet in pilot: the gate does not let it trade, so it is not in use.
    set_fields(world.draft_on_desk, status="approved", last_validated_at=day - dt.timedelta(days=10))
    rows = VALIDATION_COVERAGE.rows(world.compliance, Filters(as_of=day))
    by_key = dict(VALIDATION_COVERAGE.records(world.compliance, Filters(as_of=day)).values_list("key", "coverage"))
    assert by_key == {"mine": "in_date", "theirs": "expired"}
    assert widgets.total(rows) == 2
    assert VALIDATION_COVERAGE.caption(rows, Filters(as_of=day)).startswith("50% of the 2 models in use")


# --- Who sees what --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["trader", "developer", "validator", "owner", "outsider"])
def test_people_without_the_firm_dashboards_learn_nothing_of_them(world, browser_client, api, persona):
    user = getattr(world, persona)
    client = browser_client.as_user(user)
    for url in (
        "/dashboards/overview/",
        f"/dashboards/widgets/{INVENTORY.key}/csv/",
        f"/dashboards/widgets/{INVENTORY.key}/records/",
        f"/dashboards/widgets/{INVENTORY.key}/records/?risk_tier=1",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get("/dashboards/no-such-page/").status_code == 404
    answer = api.as_user(user).get("/api/v1/dashboards/widgets/")
    assert answer.status_code == 200 and INVENTORY.key not in {w["id"] for w in answer.json()}
    assert api.as_user(user).get(f"/api/v1/dashboards/widgets/{INVENTORY.key}/").status_code == 404
    as_csv = api.as_user(user).get(f"/api/v1/dashboards/widgets/{INVENTORY.key}/?format=csv")
    assert as_csv.status_code == 404 and as_csv["Content-Type"] == "application/json"  # an error is never a CSV


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["compliance", "auditor", "admin"])
def test_compliance_auditors_and_administrators_see_the_firm_overview(world, browser_client, persona):
    page = browser_client.as_user(getattr(world, persona)).get("/dashboards/overview/")
    assert page.status_code == 200
    assert [d.widget.key for d in page.context["widgets"]][:4] == [w.key for w in INVENTORY_WIDGETS]
    assert page.context["widgets"][0].total == 3
    assert b'data-testid="dashboards-link"' in page.content


@pytest.mark.django_db
def test_a_senior_manager_without_a_role_sees_the_overview_counting_only_what_they_may_see(world, browser_client):
    UserProfile.objects.update_or_create(user=world.outsider, defaults={"senior_manager": True})
    page = browser_client.as_user(world.outsider).get("/dashboards/overview/")
    assert page.status_code == 200
    assert page.context["widgets"][0].total == 0  # no grant on any model
    world.outsider.refresh_from_db()
    from models_registry.services import model_grant_access

    model_grant_access(world.compliance, world.theirs, world.outsider, reason="Board member reviewing rates")
    page = browser_client.as_user(world.outsider).get("/dashboards/overview/")
    assert page.context["widgets"][0].total == 1
    records = browser_client.as_user(world.outsider).get(page.context["widgets"][0].all_url)
    assert [values[0] for values, _link in records.context["records"]] == ["theirs"]


# --- Bad input --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("tier=9", "tier"),
        ("desk=no-such-desk", "desk"),
        ("model_type=crystal_ball", "model_type"),
        ("business_unit=Nowhere", "business_unit"),
        ("since=2026-02-30", "since"),
        ("since=2026-06-01&until=2026-05-01", "until"),
        ("until=2999-01-01", "until"),
    ],
)
def test_a_bad_filter_is_a_400_naming_its_field_everywhere(world, browser_client, api, query, field):
    client = browser_client.as_user(world.compliance)
    page = client.get(f"/dashboards/overview/?{query}")
    assert page.status_code == 400
    assert f'data-field="{field}"'.encode() in page.content  # the error beside its field
    assert page.context["widgets"] == []
    for url in (f"/dashboards/widgets/{INVENTORY.key}/csv/", f"/dashboards/widgets/{INVENTORY.key}/records/"):
        answer = client.get(f"{url}?{query}")
        assert answer.status_code == 400 and f'data-field="{field}"'.encode() in answer.content
    answer = api.as_user(world.compliance).get(f"/api/v1/dashboards/widgets/{INVENTORY.key}/?{query}")
    assert answer.status_code == 400 and field in answer.json()


@pytest.mark.django_db
def test_a_drill_down_to_a_value_the_widget_does_not_have_is_a_400(world, browser_client):
    client = browser_client.as_user(world.compliance)
    answer = client.get(f"/dashboards/widgets/{VALIDATION_DUE.key}/records/?due=someday")
    assert answer.status_code == 400 and b'data-field="due"' in answer.content
    assert client.get(f"/dashboards/widgets/{INVENTORY.key}/records/?risk_tier=4").status_code == 400
    assert client.get("/dashboards/widgets/no-such-widget/records/").status_code == 404


# --- Files people open --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_csv_names_the_widget_its_filters_and_when_and_neutralises_formulas(world, browser_client):
    """A desk named like a formula is text in the CSV (an apostrophe in front), as in every file Vigil writes."""
    desk = DeskFactory(code="formula", name='=HYPERLINK("http://evil","Rates")', business_line="Macro")
    make_model(world.compliance, key="on-formula-desk", owner=world.owner, developers=[world.developer], desk=desk)
    client = browser_client.as_user(world.compliance)
    response = client.get(f"/dashboards/widgets/{INVENTORY_BY_DESK.key}/csv/?business_unit=Macro")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="vigil-inventory-by-desk_business_unit-Macro_'
    )
    header, table = csv_table(response)
    assert header == {
        "Widget": INVENTORY_BY_DESK.title,
        "Filters": "business unit Macro",
        "As of": header["As of"],
        "Key fact": '1 model across 1 desk; =HYPERLINK("http://evil","Rates") holds the most (1).',
    }
    assert header["As of"].endswith(" UTC")
    assert table[0] == ["Desk", "Tier", "Models", "Records"]
    assert table[1][0] == '\'=HYPERLINK("http://evil","Rates")'
    assert table[1][2] == "1"


@pytest.mark.django_db
def test_the_api_answers_the_documented_shape_and_csv(world, api):
    client = api.as_user(world.compliance)
    listed = client.get("/api/v1/dashboards/widgets/").json()
    assert {"id": INVENTORY.key, "title": INVENTORY.title, "page": "overview"} in listed
    answer = client.get(f"/api/v1/dashboards/widgets/{VALIDATION_DUE.key}/", {"desk": "sys-eq"}).json()
    assert set(answer) == {"id", "title", "caption", "as_of", "filters", "columns", "rows"}
    assert answer["filters"] == {"desk": "sys-eq"}
    assert answer["columns"] == [{"key": "due", "label": "Next validation"}, {"key": "count", "label": "Models"}]
    assert all(row["drill_url"].startswith("http://testserver/dashboards/widgets/") for row in answer["rows"])
    as_csv = client.get(f"/api/v1/dashboards/widgets/{VALIDATION_DUE.key}/", {"desk": "sys-eq", "format": "csv"})
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    assert as_csv["Content-Disposition"].startswith('attachment; filename="vigil-validation-due_desk-sys-eq_')
    options = client.options(f"/api/v1/dashboards/widgets/{VALIDATION_DUE.key}/?format=csv")
    assert options.status_code == 200 and "Content-Disposition" not in options  # no rows, no file (was a 500)
    _header, table = csv_table(as_csv)
    assert [int(row[1]) for row in table[1:]] == [row["count"] for row in answer["rows"]]


# --- Cost ----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_overview_costs_the_same_queries_whatever_the_number_of_models(world, browser_client):
    client = browser_client.as_user(world.compliance)
    client.get("/dashboards/overview/")  # warm: the session, the person's roles

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/dashboards/overview/").status_code == 200
        return len(captured)

    before = queries()
    for n in range(6):
        make_model(world.compliance, key=f"more-{n}", owner=world.owner, developers=[world.developer])
    assert queries() == before


# --- The registry ----------------------------------------------------------------------------------------------------


def test_a_dimension_may_not_take_a_filters_name():
    clashing = Widget(
        key="clash",
        page=widgets.OVERVIEW,
        title="Clash",
        order=1,
        records=lambda user, filters: Model.objects.none(),
        dimensions=(Dimension("tier", "Tier"),),
        caption=lambda rows, filters: "",
        record_columns=(RecordColumn("key", "Model"),),
        record_link=lambda record: "/",
        visible=lambda user: True,
    )
    with pytest.raises(ValueError, match="filter"):
        widgets.register(clashing)
    assert widgets.get("clash") is None


def test_medians_and_90th_percentiles_are_of_the_groups_values():
    assert widgets._summarise([5, 1, 3], "median") == 3
    assert widgets._summarise([4, 1, 3, 2], "median") == 2.5
    assert widgets._summarise(list(range(1, 11)), "p90") == 9  # nearest rank: the 9th of 10
    assert widgets._summarise([None, None], "median") is None
    assert widgets._summarise([2, 4], "mean") == 3


@pytest.mark.django_db
def test_filters_are_described_in_words_people_read(world, browser_client):
    client = browser_client.as_user(world.compliance)
    page = client.get("/dashboards/overview/?desk=sys-eq&model_type=gradient_boosting").content.decode()
    assert "Desk Systematic Equities; type gradient boosting." in page
    records = client.get(f"/dashboards/widgets/{INVENTORY.key}/records/?desk=sys-eq&risk_tier=2").content.decode()
    assert "Desk Systematic Equities" in records and '<strong data-testid="drill-count">2 models</strong>' in records
    one = client.get(f"/dashboards/widgets/{INVENTORY.key}/records/?desk=rates").content.decode()
    assert '<strong data-testid="drill-count">1 model</strong>' in one
    _header, _table = csv_table(client.get(f"/dashboards/widgets/{INVENTORY.key}/csv/?desk=sys-eq"))
    assert _header["Filters"] == "desk Systematic Equities"


@pytest.mark.django_db
def test_a_person_is_offered_the_desks_of_the_models_they_see(world, browser_client, api):
    trader = browser_client.as_user(world.trader)
    form = trader.get("/dashboards/mine/").context["form"]
    # One desk seen: "Any desk" would show what their desk shows, so only their desk is offered (and its line).
    assert [code for code, _name in form.fields["desk"].choices] == ["sys-eq"]
    assert len(form.fields["business_unit"].choices) == 1 and form.fields["business_unit"].choices[0][0]
    assert "Any desk" not in trader.get("/dashboards/mine/").content.decode()
    assert trader.get("/dashboards/mine/?desk=sys-eq").status_code == 200
    answer = trader.get("/dashboards/mine/?desk=rates")
    assert answer.status_code == 400 and b'data-field="desk"' in answer.content  # not offered: a bad value
    assert api.as_user(world.trader).get("/api/v1/dashboards/widgets/my-desk-models/?desk=rates").status_code == 400
    compliance = browser_client.as_user(world.compliance).get("/dashboards/overview/").context["form"]
    assert [code for code, _name in compliance.fields["desk"].choices] == ["", "rates", "sys-eq"]


def test_a_pilot_limit_used_at_0_percent_is_drawn_against_its_whole_scale():
    from risk.gate.widgets import MY_PILOT_LIMITS

    rows = [{"pilot_of": "eq-a 1.0", "count": 1, "used": 0.0}, {"pilot_of": "eq-b 1.0", "count": 1, "used": 42.0}]
    figure = charts.figure(MY_PILOT_LIMITS, rows, ["/a", "/b"])
    (bars,) = figure["data"]
    assert bars["text"] == ["0.0 %", "42.0 %"]
    assert bars["textposition"] == ["outside", "auto"]  # a bar of 0 has no inside: its figure is beside the axis
    assert figure["layout"]["xaxis"]["range"] == [0, 100]
    # The row's label keeps its distance from the "0.0 %" written beside the axis (they read as one, issue 22).
    assert figure["layout"]["yaxis"]["ticklabelstandoff"] >= 10
    assert all(len(line) <= 20 for line in figure["layout"]["xaxis"]["title"]["text"].split("<br>"))  # fits a phone
    assert figure["layout"]["legend"]["maxheight"] > figure["layout"]["height"]  # never a scroll box
