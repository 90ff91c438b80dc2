"""Asking for an export from the page: the failing form is named at the top of the page, and the period's
errors say what is wrong with it (a reversed period is a reversed period, wherever it falls)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from models_registry.models import Model
from risk.exports import services
from risk.exports.models import Export
from tests.factories import make_model


@pytest.mark.django_db
def test_a_reversed_period_is_named_as_such(world, api):
    answer = api.as_user(world.auditor).post(
        "/api/v1/exports/", {"kind": "audit_log", "since": "2026-11-29", "until": "2000-01-01"}, format="json"
    )
    assert answer.status_code == 400 and answer.json()["until"] == ["Give an end after the start."]
    assert not Export.objects.exists()


@pytest.mark.django_db
def test_the_page_says_which_form_failed(world, browser_client):
    page = browser_client.as_user(world.auditor).post("/exports/", {"kind": "inventory", "as_of": "yesterday"})
    assert page.status_code == 400
    assert "The inventory was not asked for: see the errors in its form below." in page.content.decode()
    assert not Export.objects.exists()


def _datalist(page: str, name: str) -> set[str]:
    body = page.split(f'<datalist id="{name}">', 1)[1].split("</datalist>", 1)[0]
    return set(re.findall(r'<option value="([^"]*)"', body))


@pytest.mark.django_db
def test_the_forms_offer_only_the_models_and_versions_the_person_may_see(world, browser_client):
    pricing = make_model(world.compliance, key="fx-pricer", owner=world.owner, developers=[world.developer])
    Model.objects.filter(pk=pricing.pk).update(purpose="pricing")
    page = browser_client.as_user(world.trader).get("/exports/").content.decode()
    assert 'list="export-models"' in page and 'list="export-versions"' in page
    assert _datalist(page, "export-models") == {"mine"}  # their desk's tradeable model; never theirs, nor a draft
    assert "theirs" not in page and "fx-pricer" not in page
    assert _datalist(page, "export-versions") == {world.mine_v1.version}
    page = browser_client.as_user(world.compliance).get("/exports/").content.decode()
    assert {"mine", "theirs", "fx-pricer"} <= _datalist(page, "export-models")
    assert "fx-pricer" not in _datalist(page, "export-algorithmic-models") and "mine" in _datalist(
        page, "export-algorithmic-models"
    )


@pytest.mark.django_db
def test_your_exports_say_what_each_covered(world, browser_client):
    today = timezone.now().date()
    # A start already past at any hour the suite runs (a start in the future is refused), an end still to come.
    yesterday, tomorrow = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    asked = [
        services.export_request(world.compliance, "evidence_pack", model="mine", version=world.mine_v1.version),
        services.export_request(world.compliance, "mifid_17_2", model="mine"),
        services.export_request(world.compliance, "rts6_self_assessment", year=2026),
        services.export_request(world.compliance, "inventory", format="xlsx", as_of=""),
        services.export_request(world.compliance, "audit_log", since=f"{today}", until=f"{today}", actor="compliance"),
        services.export_request(
            world.compliance, "audit_log", since=f"{yesterday}T00:30:00Z", until=f"{tomorrow}T06:00:00Z", model="mine"
        ),
    ]
    page = browser_client.as_user(world.compliance).get("/exports/").content.decode()
    covers = re.findall(r'<td data-testid="export-covers">([^<]*)</td>', page)
    assert covers == [
        f"{yesterday} 00:30 to {tomorrow} 06:00 (UTC), model mine",
        f"{today} to {today} (UTC), actor compliance",
        "XLSX, as it stood when made",
        "year 2026",
        "model mine",
        f"mine version {world.mine_v1.version}",
    ]
    detail = browser_client.as_user(world.compliance).get(f"/exports/{asked[0].pk}/").content.decode()
    assert f"mine version {world.mine_v1.version}" in detail
