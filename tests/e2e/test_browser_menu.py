"""The menu stays on one line at 1280 px for compliance, who has the most entries (issue 21)."""

import os
import pathlib
import tempfile

import pytest

from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD

SHOTS = pathlib.Path(os.environ.get("VIGIL_SCREENSHOTS", tempfile.gettempdir()))
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROWS = (
    "new Set([...document.querySelectorAll('header.top nav a')]"
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
        # Their own pages open from their name.
        page.click("[data-testid=account-menu] summary")
        page.click("[data-testid=api-tokens-link]")
        page.wait_for_url(f"{live_server.url}/account/tokens/")
    finally:
        context.close()
