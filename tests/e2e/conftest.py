"""Browser tests: Playwright for Python driving Debian's Chromium (Playwright's own download cannot work here)."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("VIGIL_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (make browser)")
        pytest.skip(f"Chromium not found at {CHROMIUM}; run `make browser`")
    # Playwright's sync API runs an event loop in this thread; Django would otherwise refuse ORM calls here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


# Every page a browser test opens is held to Vigil's Content-Security-Policy: the browser reports each thing the
# policy refused (an inline script, a style, a source) and the test fails at its end naming them.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) =>
  window.vigilCspViolation(
    `${e.effectiveDirective} refused ${e.blockedURI || "inline"} on ${e.documentURI}` +
      ` (${e.sourceFile}:${e.lineNumber}:${e.columnNumber})`
  ));
"""


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    violations = []
    context.expose_binding("vigilCspViolation", lambda source, text: violations.append(text))
    context.add_init_script(_REPORT_VIOLATIONS)
    page = context.new_page()
    page.csp_violations = violations
    # A wait bound, not a speed target: generous, since the suite runs in parallel on a small machine.
    page.set_default_timeout(30000)
    yield page
    context.close()
    assert violations == [], "the Content-Security-Policy refused: " + "; ".join(violations)


def login(page, live_server, username, password):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/models/")
