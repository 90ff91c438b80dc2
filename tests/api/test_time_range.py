"""Every time and date Vigil takes lies from 1970-01-01 to 2200-01-01 (UTC): outside it an endpoint answers 400
naming the field and the range, and writes nothing (a year-1 time with an offset used to answer 500 in seven
endpoints, moving it to UTC overflowed). A point stored before the rule no longer breaks its metric's series."""

import datetime as dt

import pytest

from governance.core import moments
from governance.core.models import AuditEvent, UserProfile
from models_registry.models import ModelVersion
from risk.exports.models import Export
from risk.monitoring.models import IngestBatch, MetricPoint, Prediction, Trade
from risk.validation.models import Finding, ValidationPlan
from tests.factories import make_version

YEAR_1 = "0001-01-01T00:30:00+01:00"  # in the year 0 once moved to UTC
YEAR_9999 = "9999-12-31T23:30:00-01:00"  # in the year 10000 once moved to UTC
NAIVE = "2026-01-05T10:00:00"
MONITORING = "/api/v1/models/mine/monitoring"
PLAN = "/api/v1/models/mine/versions/2.0/validation-plan/"


def point(when):
    return {"points": [{"metric": "accuracy", "timestamp": when, "value": 0.5}]}


def trade(when):
    row = {"id": "t-1", "timestamp": when, "instrument": "SPY", "side": "buy", "quantity": 1, "price": 2, "pnl": 3}
    return {"trades": [row]}


def prediction(when):
    return {"predictions": [{"id": "p-1", "timestamp": when, "features": {"x": 1.0}, "prediction": 1.0}]}


def row_field(kind):
    return lambda body: {e["field"] for e in body[kind]} == {"timestamp"} and body[kind][0]["error"]


def field(name):
    return lambda body: body.get(name) and " ".join(body[name])


# (name, persona, method, url, body for a value, the message it must answer naming the field, takes naive times)
ENDPOINTS = [
    ("points", "developer", "post", f"{MONITORING}/points/", point, row_field("points"), False),
    ("trades", "developer", "post", f"{MONITORING}/trades/", trade, row_field("trades"), False),
    ("predictions", "developer", "post", f"{MONITORING}/predictions/", prediction, row_field("predictions"), False),
    ("series", "compliance", "get", f"{MONITORING}/series/", lambda v: {"metric": "accuracy", "since": v},
     field("since"), True),
    ("export-since", "auditor", "post", "/api/v1/exports/", lambda v: {"kind": "audit_log", "since": v,
     "until": "2026-11-01"}, field("since"), True),
    ("export-until", "auditor", "post", "/api/v1/exports/", lambda v: {"kind": "audit_log", "since": "2026-01-01",
     "until": v}, field("until"), True),
    ("export-as-of", "auditor", "post", "/api/v1/exports/", lambda v: {"kind": "inventory", "as_of": v},
     field("as_of"), True),
    ("plan-split-date", "validator", "put", PLAN, None, lambda body: "split_date" in " ".join(body["options"])
     and " ".join(body["options"]), True),
    ("finding-due-date", "validator", "post", "/api/v1/findings/", lambda v: {"model": "mine", "version": "1.0",
     "severity": "high", "title": "Look-ahead", "description": "Uses the close.", "owner": "developer",
     "due_date": v[:10]}, field("due_date"), True),
    ("audit-events-since", "compliance", "get", "/api/v1/audit-events/", lambda v: {"since": v}, field("since"), True),
]  # fmt: skip


def written():
    tables = (IngestBatch, MetricPoint, Trade, Prediction, Export, Finding, AuditEvent)
    plans = tuple(ValidationPlan.objects.values_list("options", flat=True).order_by("pk"))
    return tuple(table.objects.count() for table in tables), plans


@pytest.fixture
def in_validation(world):
    return make_version(world.developer, world.mine, label="2.0", status="in_validation")


CASES = [
    pytest.param(*endpoint[1:6], value, id=f"{endpoint[0]}-{name}")
    for endpoint in ENDPOINTS
    for name, value in (("year-1", YEAR_1), ("year-9999", YEAR_9999), ("naive", NAIVE))
    if value != NAIVE or not endpoint[6]  # an input that reads a time without a zone as UTC is not asked one
]


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "method", "url", "body", "answer", "value"), CASES)
def test_a_time_outside_the_range_is_a_400_naming_the_field_and_writes_nothing(
    persona, method, url, body, answer, value, world, api, in_validation
):
    client = api.as_user(getattr(world, persona))
    if body is None:  # the validation plan: its options carry the split date
        plan = client.get(url).json()
        body = lambda v: plan | {"options": plan.get("options", {}) | {"split_date": v}}  # noqa: E731
    before = written()
    if method == "get":
        response = client.get(url, body(value))
    else:
        response = getattr(client, method)(url, body(value), format="json")
    assert response.status_code == 400, response.content[:300]
    message = answer(response.json())
    assert message, response.json()
    expected = "time zone" if value == NAIVE else moments.RANGE_TEXT
    assert expected in message
    assert written() == before


@pytest.mark.django_db
def test_the_edges_of_the_range_are_taken(world, api):
    client = api.as_user(world.developer)
    inside = point("1970-01-01T00:00:00Z")
    assert client.post(f"{MONITORING}/points/", inside, format="json").status_code == 201
    series = api.as_user(world.compliance).get(f"{MONITORING}/series/", {"metric": "accuracy", "until": "2199-12-31"})
    assert series.status_code == 200 and series.json()["points"] == [["1970-01-01T00:00:00Z", 0.5]]
    edge = {"metric": "accuracy", "since": "2200-01-01T00:00:00Z"}
    assert api.as_user(world.compliance).get(f"{MONITORING}/series/", edge).status_code == 400


@pytest.mark.django_db
def test_a_form_refuses_a_time_outside_the_range_beside_its_field(world, browser_client):
    auditor = world.auditor
    page = browser_client.as_user(world.compliance).post(
        "/auditor-access/", {"user": auditor.pk, "access_from": "0001-01-01T00:30", "access_until": ""}
    )
    assert page.status_code == 400
    form = next(row["form"] for row in page.context["rows"] if row["person"] == auditor)
    assert moments.RANGE_TEXT in " ".join(form.errors["access_from"])
    assert not UserProfile.objects.filter(user=auditor, access_from__isnull=False).exists()


@pytest.mark.django_db
def test_a_point_stored_before_the_rule_is_left_out_of_its_series_and_counted(world, api):
    client = api.as_user(world.developer)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rows = [
        {"metric": "accuracy", "timestamp": (now - dt.timedelta(minutes=i)).isoformat(), "value": i} for i in (2, 1)
    ]
    assert client.post(f"{MONITORING}/points/", {"points": rows}, format="json").status_code == 201
    batch = IngestBatch.objects.get()
    version = ModelVersion.objects.get(pk=batch.version_id)
    year_1 = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    MetricPoint.objects.create(version=version, batch=batch, metric="accuracy", timestamp=year_1, value=99.0)
    reader = api.as_user(world.compliance)
    for query in ({}, {"step": 60}):
        series = reader.get(f"{MONITORING}/series/", {"metric": "accuracy"} | query).json()
        assert [value for _, value in series["points"]] == [2.0, 1.0]
        assert series["out_of_range"] == 1
