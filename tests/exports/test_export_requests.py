"""Asking for an export from the page: the failing form is named at the top of the page, and the period's
errors say what is wrong with it (a reversed period is a reversed period, wherever it falls)."""

import pytest

from risk.exports.models import Export


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
