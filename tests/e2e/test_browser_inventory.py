"""Two people log in with a real browser and see what their role allows, no more."""

import pytest

from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def table_keys(page):
    return set(page.locator("[data-testid=model-table] tbody tr td:first-child a").all_inner_texts())


def test_it_shows_each_role_its_own_inventory(page, live_server, tmp_path):
    build_world()
    login(page, live_server, "compliance", PASSWORD)
    assert table_keys(page) == {"mine", "theirs", "draft-on-desk"}
    assert "Compliance officer" in page.inner_text("header")
    page.click("text=theirs")
    assert page.locator("h1").inner_text().startswith("Model")
    page.get_by_test_id("section-nav").get_by_role("link", name="Lineage and access").click()
    page.wait_for_url(f"{live_server.url}/models/theirs/?section=lineage")
    assert page.is_visible("text=Access granted by hand")
    page.screenshot(path=str(tmp_path / "compliance.png"), full_page=True)
    page.click("text=Log out")

    login(page, live_server, "developer2", PASSWORD)
    assert table_keys(page) == {"theirs"}
    response = page.goto(f"{live_server.url}/models/mine/")
    assert response.status == 404
    assert page.is_visible("text=nothing you may see")


def test_it_filters_and_shows_form_errors_in_the_browser(page, live_server):
    build_world()
    login(page, live_server, "developer", PASSWORD)
    assert table_keys(page) == {"mine", "draft-on-desk"}
    page.select_option("#id_status", "draft")
    page.click("text=Apply")
    assert table_keys(page) == {"draft-on-desk"}

    page.click("text=Register a model")
    page.fill("#id_key", "mine")  # taken
    page.fill("#id_name", "Duplicate")
    page.select_option("#id_purpose", "alpha")
    page.select_option("#id_desk", label="Systematic Equities")
    page.select_option("#id_model_type", "random_forest")
    page.select_option("#id_owner", label=page.locator("#id_owner option").nth(1).inner_text())
    page.fill("#id_intended_use", "Testing")
    page.click("button:has-text('Register')")
    error = page.locator("[data-field=key]")
    assert "already exists" in error.inner_text()
    page.fill("#id_key", "browser-made")
    page.click("button:has-text('Register')")
    page.wait_for_url(f"{live_server.url}/models/browser-made/")
    page.get_by_test_id("section-nav").get_by_role("link", name="History").click()
    assert page.is_visible("text=Model: create")
