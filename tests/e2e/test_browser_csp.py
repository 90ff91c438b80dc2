"""Under Vigil's Content-Security-Policy the pages still work in Chromium: plotly charts draw, the scripts that show
and hide fields, ask before a destructive form and submit filters run from static files, and Swagger UI loads. The
`page` fixture fails the test on anything the policy refused (tests/e2e/conftest.py)."""

import datetime as dt

import pytest
from django.utils import timezone

from models_registry.service_accounts import service_account_create
from risk.monitoring import evaluation, proposals
from risk.monitoring.models import Monitor
from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD
from tests.risk import monitoring_data as data

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_pages_with_charts_and_scripts_work_under_the_policy(page, live_server):
    # Several seconds: a live server, Chromium and six pages, two of them drawing plotly charts.
    world = build_world()
    proposals.propose(world.mine_v1)
    monitor = Monitor.objects.get(version=world.mine_v1, measure="hit_rate", stream="")
    now = timezone.now().replace(microsecond=0)
    data.trades(world.developer, world.mine_v1, 200, start=now - dt.timedelta(days=5), win_rate=0.5)
    evaluation.evaluate(monitor, now)
    login(page, live_server, "compliance", PASSWORD)

    answer = page.goto(f"{live_server.url}/monitoring/monitors/{monitor.pk}/")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src-attr")[0]
    page.wait_for_selector("[data-testid=monitor-chart] .main-svg")
    page.goto(f"{live_server.url}/models/mine/?section=monitoring")  # each monitor's history is drawn
    page.wait_for_selector(f"#monitor-{monitor.pk} .main-svg")

    # The kill switch form shows the model field for one model and the desk field for a desk.
    page.goto(f"{live_server.url}/kill-switch/")
    form = page.locator("[data-testid=engage]")
    form.locator("input[name=scope][value=desk]").check()
    assert form.locator("[name=desk]").is_visible() and not form.locator("[name=model]").is_visible()
    form.locator("input[name=scope][value=model]").check()
    assert form.locator("[name=model]").is_visible() and not form.locator("[name=desk]").is_visible()

    # A filter submits on change.
    page.goto(f"{live_server.url}/monitoring/")
    with page.expect_navigation():
        page.select_option("#id_outcome", "ok")
    assert "outcome=ok" in page.url

    # Rotating a service account's token asks first; dismissing changes nothing.
    account, _token = service_account_create(world.compliance, name="Desk robot", desk=world.desk)
    page.goto(f"{live_server.url}/service-accounts/")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("text=Rotate token")
    assert asked and "Rotate the token of Desk robot?" in asked[0]
    assert page.url.endswith("/service-accounts/")

    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .information-container")
