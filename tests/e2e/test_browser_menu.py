"""The menu stays on one line at 1280 px for compliance, who has the most entries (issues 21, 22); its Governance
menu opens and closes from the keyboard."""

import os
import pathlib
import tempfile

import pytest

from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD

SHOTS = pathlib.Path(os.environ.get("VIGIL_SCREENSHOTS", tempfile.gettempdir()))
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The bar's entries as drawn: its links and its menus' summaries (a closed menu's links are not on the bar).
ROWS = (
    "new Set([...document.querySelectorAll('header.top nav > a, header.top nav > details > summary')]"
    ".map(a => Math.round(a.getBoundingClientRect().top))).size"
)


def test_compliances_menu_is_one_line_at_1280_px(chromium, live_server):
    build_world()
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        login(page, live_server, "compliance", PASSWORD)
        assert page.locator("header.top nav a").count() >= 11  # kill switch, service accounts, audit trail
        assert page.evaluate(ROWS) == 1
        # The person's name, alerts and log-out sit on that same line (the header is one row high).
        tops = page.evaluate("[...document.querySelectorAll('header.top > *')].map(e => e.getBoundingClientRect().top)")
        assert max(tops) - min(tops) < 12, tops
        page.screenshot(path=str(SHOTS / "menu-1280-compliance.png"))
        # Governance's pages from the keyboard: the menu opens on Enter, Escape closes it and gives the focus back.
        menu = page.get_by_test_id("governance-menu")
        assert not menu.get_by_test_id("audit-trail-link").is_visible()
        menu.locator("summary").focus()
        page.keyboard.press("Enter")
        assert menu.get_by_test_id("audit-trail-link").is_visible()
        assert page.evaluate(ROWS) == 1  # an open menu lies over the page, the bar stays one line
        page.keyboard.press("Escape")
        assert not menu.get_by_test_id("audit-trail-link").is_visible()
        assert page.evaluate("document.activeElement.textContent").startswith("Governance")
        # Their own pages open from their name.
        page.click("[data-testid=account-menu] summary")
        page.click("[data-testid=api-tokens-link]")
        page.wait_for_url(f"{live_server.url}/account/tokens/")
    finally:
        context.close()
