"""The menu stays on one line at 1280 px for compliance, who has the most entries (issue 21)."""

import pytest

from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD

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
        assert page.locator("header.top nav a").count() >= 11  # kill switch, service accounts, auditor access
        assert page.evaluate(ROWS) == 1
    finally:
        context.close()
