"""Single-line fields stay single-line: a title, name, key or one-line reason with a line break or another control
character is a 400 (or a form error) naming the field, and nothing is written. Prose fields keep their lines."""

import copy
import importlib

import pytest
from django import forms
from django.apps import apps
from rest_framework import serializers

from governance.core import single_line
from governance.core.models import AuditEvent
from models_registry.models import Model
from risk.incidents.models import Incident
from risk.monitoring.models import Trade
from risk.validation.models import Finding
from tests.models_registry.test_api_bad_input import VALID as NEW_MODEL

BAD = {
    "lf": "Fills\nfar away",
    "cr": "Fills\rfar away",
    "crlf": "Fills\r\nBcc: everyone",
    "tab": "Fills\tfar away",
    "escape": "Fills \x1b[31mfar away",
    "line-separator": "Fills\u2028far away",
    "next-line": "Fills\x85far away",
}
INCIDENT = {"model": "mine", "severity": "medium", "description": "Since 10:05\nthe fills are 30 bp away."}


def incident_title_api(api, world, value):
    return api.as_user(world.trader).post("/api/v1/incidents/", INCIDENT | {"title": value}, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize("value", BAD.values(), ids=BAD.keys())
def test_an_incident_title_with_a_line_break_or_control_character_is_a_400_naming_it(value, world, api):
    events = AuditEvent.objects.count()
    response = incident_title_api(api, world, value)
    assert response.status_code == 400 and "one line" in response.json()["title"][0], response.content
    assert not Incident.objects.exists() and AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_an_incident_title_keeps_to_one_line_on_the_page_too(world, browser_client):
    page = browser_client.as_user(world.trader).post("/incidents/new/", INCIDENT | {"title": BAD["crlf"]})
    assert page.status_code == 200 and "one line" in page.context["form"].errors["title"][0]
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_prose_keeps_its_lines_and_a_trailing_newline_is_trimmed(world, api):
    response = incident_title_api(api, world, "Fills far away\n")
    assert response.status_code == 201, response.content
    incident = Incident.objects.get()
    assert incident.title == "Fills far away" and incident.description == INCIDENT["description"]


FINDING = {"model": "mine", "version": "1.0", "severity": "high", "description": "Line one.\nLine two."}
FINDING |= {"owner": "developer", "due_date": "2099-01-01"}
TRADE = {"id": "t-1", "timestamp": "2026-01-05T10:00:00Z", "side": "buy", "quantity": 1, "price": 2, "pnl": 3}


# (name, persona, url, body with the bad value, where the answer names the field, what must not have been written)
ENDPOINTS = [
    ("finding-title", "validator", "/api/v1/findings/", lambda v: FINDING | {"title": v}, lambda b: b["title"],
     Finding),
    ("model-name", "compliance", "/api/v1/models/", lambda v: NEW_MODEL | {"name": v}, lambda b: b["name"], Model),
    ("model-key", "compliance", "/api/v1/models/", lambda v: NEW_MODEL | {"key": "fx\nsignal"}, lambda b: b["key"],
     Model),
    ("export-actor", "auditor", "/api/v1/exports/", lambda v: {"kind": "audit_log", "since": "2026-01-01",
     "until": "2026-02-01", "actor": v}, lambda b: b["actor"], AuditEvent),
    ("trade-instrument", "developer", "/api/v1/models/mine/monitoring/trades/",
     lambda v: {"trades": [TRADE | {"instrument": v}]}, lambda b: [e["error"] for e in b["trades"]], Trade),
    ("trade-id", "developer", "/api/v1/models/mine/monitoring/trades/",
     lambda v: {"trades": [TRADE | {"instrument": "SPY", "id": v}]}, lambda b: [e["error"] for e in b["trades"]],
     Trade),
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "url", "body", "named", "table"), [e[1:] for e in ENDPOINTS], ids=[e[0] for e in ENDPOINTS]
)
def test_other_single_line_fields_refuse_line_breaks_naming_the_field(persona, url, body, named, table, world, api):
    before = table.objects.count()
    response = api.as_user(getattr(world, persona)).post(url, body(BAD["lf"]), format="json")
    assert response.status_code == 400, response.content
    assert "one line" in " ".join(named(response.json()))
    assert table.objects.count() == before


def _project_classes(base):
    """Every subclass of `base` defined in Vigil's own apps (their forms, serializers and API modules loaded)."""
    for config in apps.get_app_configs():
        if config.name.startswith(("governance", "risk", "models_registry")):
            for module in ("forms", "inputs", "api.serializers", "api.views"):
                try:
                    importlib.import_module(f"{config.name}.{module}")
                except ModuleNotFoundError:
                    pass
    seen, todo = [], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith(("governance.", "risk.", "models_registry.")):
                seen.append(sub)
    return seen


def _single_line_text_fields():
    for form in _project_classes(forms.BaseForm):
        for name, field in getattr(form, "base_fields", {}).items():
            if isinstance(field, forms.CharField) and not single_line.is_multi_line_form_field(field):
                yield f"{form.__module__}.{form.__name__}.{name}", field.clean
    for serializer in _project_classes(serializers.Serializer):
        for name, field in getattr(serializer, "_declared_fields", {}).items():
            if isinstance(field, serializers.CharField) and not field.read_only:
                bound = copy.deepcopy(field)  # as a serializer's instance holds it
                bound.bind(name, serializers.Serializer())
                if not single_line.is_multi_line_api_field(bound):
                    yield f"{serializer.__module__}.{serializer.__name__}.{name}", bound.run_validation


@pytest.mark.django_db
def test_every_single_line_text_field_of_every_form_and_serializer_refuses_a_line_break():
    fields = dict(_single_line_text_fields())
    assert len(fields) > 50  # titles, names, keys, labels, usernames... across the apps
    let_through = []
    for name, clean in fields.items():
        try:
            clean("a\nb")
        except (forms.ValidationError, serializers.ValidationError) as refused:
            messages = refused.messages if isinstance(refused, forms.ValidationError) else [str(refused.detail)]
            if not any("one line" in m for m in messages):
                continue  # refused first for another reason (a choice, a pattern): still refused
        else:
            let_through.append(name)
    assert let_through == []


@pytest.mark.django_db
def test_a_search_term_is_a_query_not_a_field_and_answers_as_before(world, api):
    response = api.as_user(world.compliance).get("/api/v1/findings/", {"search": "look\nahead"})
    assert response.status_code == 200
