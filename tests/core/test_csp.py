"""The Content-Security-Policy on every page and answer, and the hashes of plotly.js's own style elements kept in
step with the plotly.js Vigil serves (the on-screen report's nonce: tests/risk/test_validation_suite.py; pages under
the policy in Chromium: tests/e2e/test_browser_csp.py)."""

import base64
import hashlib
import re
from pathlib import Path

import plotly
import pytest

pytestmark = pytest.mark.django_db


def _sha256(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


def test_the_style_hashes_are_those_of_the_plotly_js_served(settings):
    bundle = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text()
    found = re.findall(r'document\.createElement\("style"\);e\.id="[0-9a-f]+",e\.textContent=\'([^\'\\]*)\'', bundle)
    assert len(found) == 1, "plotly.js adds a different set of style elements: look at them again"
    assert sorted(settings.PLOTLY_STYLE_HASHES) == sorted([_sha256(""), _sha256(found[0])])


def test_pages_and_answers_carry_the_policy(world, browser_client, api):
    page = browser_client.as_user(world.compliance).get("/models/")
    policy = page["Content-Security-Policy"]
    # Directives in any order (the header's meaning does not depend on it): name -> its sources.
    directives = {name: values for name, *values in (d.split() for d in policy.split(";") if d.strip())}
    assert directives["default-src"] == ["'self'"] and directives["script-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in policy
    assert [name for name, values in directives.items() if "'unsafe-inline'" in values] == ["style-src-attr"]
    assert "Content-Security-Policy" in api.as_user(world.compliance).get("/api/v1/models/")
    assert b"<script>" not in page.content and b" onclick=" not in page.content
