"""How fast a validation run's page loads in Chromium, as `make run` serves it (DEBUG off, collected and
compressed static files), and whether its charts fit their cards.

Sets up a throw-away demo in a temporary folder (SQLite), runs the demo's validation of eq-card-spend (returns,
prediction log, training sample, trial matrix: every chart), starts the web app, and opens the run page as the
validator: first load with an empty browser cache, then a reload. Prints the figures; asserts nothing.
Target (issue 9): first load under 1.5 s on this machine.

    .venv/bin/python bench/run_page.py          (VIGIL_BENCH_SCREENSHOT=run.png also saves the page)
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.e2e.conftest import ARGS, CHROMIUM  # noqa: E402  (the browser tests' own Chromium and flags)

PY = sys.executable
PASSWORD = "bench-password-123"

RUN_DEMO_VALIDATION = """
from django.contrib.auth import get_user_model
from governance.lifecycle import workflow
from models_registry.models import ModelVersion
from risk.validation import runs
from risk.validation.models import Evidence
validator = get_user_model().objects.get(username="validator")
version = ModelVersion.objects.select_related("model").get(model__key="eq-card-spend", version="1.0")
version = workflow.version_transition(validator, version, "start_validation")
files = {e.original_name.removeprefix("eq-card-spend-"): e for e in Evidence.objects.filter(version=version)}
runs.plan_save(validator, version, options={"split_date": "2025-01-01", "pbo_blocks": 8})
run = runs.run_start(validator, version, files["backtest.csv"], trial_returns=files["trials.csv"],
                     prediction_log=files["predictions.csv"], reference=files["training.csv"])
assert runs.run_execute(run.pk) == "succeeded"
print(run.pk)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env, *args, capture=False):
    result = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=900
    )
    return result.stdout if capture else None


def wait_up(url, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urlopen(url, timeout=2)  # noqa: S310 (a local URL)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the web app did not start at {url}")


def measure(page, url) -> dict:
    page.goto(url, wait_until="load")
    timing = page.evaluate(
        """() => {
        const n = performance.getEntriesByType("navigation")[0];
        const plotly = performance.getEntriesByType("resource").find(r => r.name.includes("plotly"));
        return {load: n.loadEventEnd, html: n.responseEnd,
                plotly_transfer: plotly ? plotly.transferSize : null,
                plotly_body: plotly ? plotly.decodedBodySize : null};
    }"""
    )
    page.wait_for_selector(".js-plotly-plot", timeout=10000)
    return timing


def chart_fit(page) -> list[tuple[str, float, float]]:
    """Each chart's width against the width of the card it sits in."""
    return page.evaluate(
        """() => [...document.querySelectorAll(".js-plotly-plot")].map(p => {
            const card = p.closest(".card") || p.parentElement;
            return [p.id || "chart", p.getBoundingClientRect().width, card.getBoundingClientRect().width];
        })"""
    )


def main():
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "VIGIL_VAR_DIR": tmp,
            "DJANGO_STATIC_ROOT": f"{tmp}/static",
            "DATABASE_URL": f"sqlite:///{tmp}/vigil.sqlite3",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789",
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        started = time.perf_counter()
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        manage(env, "seed_demo", "--password", PASSWORD)
        run_id = manage(env, "shell", "-c", RUN_DEMO_VALIDATION, capture=True).strip().splitlines()[-1]
        print(f"demo and its validation run set up in {time.perf_counter() - started:.1f} s")
        port = free_port()
        server = subprocess.Popen(
            [PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_up(f"{base}/health/")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                page = context.new_page()
                page.goto(f"{base}/login/")
                page.fill("input[name=username]", "validator")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state()
                url = f"{base}/validation-runs/{run_id}/"
                first = measure(page, url)
                fit = chart_fit(page)
                if os.environ.get("VIGIL_BENCH_SCREENSHOT"):  # a picture of the page, to look at
                    page.screenshot(path=os.environ["VIGIL_BENCH_SCREENSHOT"], full_page=True)
                second = measure(page, url)
                src = page.get_attribute("script[src*=plotly]", "src")
                headers = page.request.get(f"{base}{src}", headers={"Accept-Encoding": "gzip, br"}).headers
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
        print(
            f"run page, first load (empty cache): {first['load']:.0f} ms "
            f"(HTML in {first['html']:.0f} ms); target 1500 ms"
        )
        print(f"run page, reload (warm cache):      {second['load']:.0f} ms")
        print(
            f"plotly.js: {first['plotly_body'] / 1e6:.2f} MB unpacked, {first['plotly_transfer'] / 1e6:.2f} MB over "
            f"the wire (Content-Encoding: {headers.get('content-encoding', 'none')}); "
            f"on reload {second['plotly_transfer']} bytes transferred (Cache-Control: {headers.get('cache-control')})"
        )
        for name, width, card in fit:
            print(
                f"chart {name}: {width:.0f} px wide in a card of {card:.0f} px "
                f"({'fits' if width <= card else 'OVERFLOWS'})"
            )


if __name__ == "__main__":
    main()
