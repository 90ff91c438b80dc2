"""In a browser: a monitor's breach opens an incident, the governance policy suspends the live version, the gate
answers blocked, and compliance rolls the model back from the incident to the version it superseded."""

import datetime as dt
import re
from pathlib import Path

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import expect

from governance.core import events
from models_registry.models import ModelVersion
from risk.incidents import services
from risk.incidents.models import Incident
from risk.monitoring import evaluation, proposals
from risk.monitoring.models import Monitor
from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_version, token_for
from tests.risk import monitoring_data as data
from tests.risk.test_incidents import publish_response

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/e2e-incidents")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def gate_answer(live_server, token):
    """What a trading system is told: the gate's API, over HTTP, with a token."""
    response = requests.get(
        f"{live_server.url}/api/v1/gate/mine/", headers={"Authorization": f"Token {token}"}, timeout=15
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_breach_opens_an_incident_the_policy_suspends_the_gate_blocks_and_compliance_rolls_back(page, live_server):
    world = build_world()  # mine 1.0 in production
    newer = make_version(world.developer, world.mine, label="1.1", status="production")  # 1.0 retired, superseded
    assert ModelVersion.objects.get(pk=world.mine_v1.pk).status == "retired"
    proposals.propose(newer)  # its monitors (as at pilot; the outbox already did, this adds nothing then)
    events.deliver_pending()
    world.mine.refresh_from_db()
    severity = services.SEVERITY_BY_TIER[world.mine.risk_tier]  # what a breach of this model's monitor opens
    policy = publish_response(world, suspend=[severity])
    monitor = Monitor.objects.get(version=newer, measure="hit_rate")
    now = timezone.now().replace(microsecond=0)
    data.trades(world.developer, newer, 200, start=now - dt.timedelta(days=5), win_rate=0.1)
    trader_token = token_for(world.trader)
    assert gate_answer(live_server, trader_token)["allowed"] is True

    # The monitor's evaluation records a breach; the outbox hands it to the incidents app and the policy acts.
    result = evaluation.evaluate(monitor, now)
    assert result.outcome == "breach"
    events.deliver_pending()
    incident = Incident.objects.get()
    assert incident.monitor == monitor and incident.version == newer and incident.severity == severity
    assert ModelVersion.objects.get(pk=newer.pk).status == "suspended"

    login(page, live_server, "compliance", PASSWORD)

    # The incident log lists it with its severity, detected by a monitor.
    page.goto(f"{live_server.url}/incidents/")
    row = page.locator("[data-testid=incidents] tbody tr").filter(has_text=incident.reference)
    expect(row).to_have_count(1)
    expect(row.locator(f".badge.severity-{severity}")).to_have_text(severity.capitalize())
    cells = row.locator("td")
    expect(cells.nth(1)).to_have_text("mine 1.1")
    expect(cells.nth(3)).to_have_text("Open")
    expect(cells.nth(4)).to_have_text("a monitor")
    expect(cells.nth(6)).to_have_text("Hit rate in breach on mine 1.1")
    shot(page, "01-incident-list")

    # Its page: the monitor's breach opened it, and the policy suspended the version.
    row.get_by_role("link", name=incident.reference).click()
    page.wait_for_url(f"{live_server.url}/incidents/{incident.pk}/")
    expect(page.locator("h1")).to_contain_text(incident.reference)
    expect(page.get_by_test_id("severity")).to_have_text(severity.capitalize())
    expect(page.get_by_test_id("status")).to_have_text("Open")
    expect(page.locator("dl.record")).to_contain_text("a monitor (1 breach linked)")
    entries = page.locator("[data-testid=entries] tbody tr")
    expect(entries).to_have_count(2)
    opened = entries.nth(0)
    expect(opened.locator("td").nth(1)).to_have_text("A monitor")
    expect(opened.locator("td").nth(2)).to_have_text("Opened")
    expect(opened.locator("td").nth(3)).to_contain_text("below its breach threshold")
    suspended = entries.nth(1)
    expect(suspended.locator("td").nth(1)).to_have_text("Vigil (governance policy)")
    expect(suspended.locator("td").nth(2)).to_have_text("Policy action")
    rule = f"policy v{policy.version}: a {severity} incident on a tier {world.mine.risk_tier} model"
    expect(suspended.locator("td").nth(3)).to_have_text(f"Version 1.1 suspended under {rule}.")
    shot(page, "02-incident-detail")

    # The model page: the gate answers blocked because the version is suspended; the open incident is listed.
    page.get_by_role("link", name="mine", exact=True).click()
    page.wait_for_url(f"{live_server.url}/models/mine/")
    gate = page.locator("section[data-panel=gate]")
    expect(gate.get_by_test_id("gate-answer")).to_have_text("blocked")
    expect(gate).to_contain_text("Version concerned: 1.1 (suspended); none may be used now.")
    # The reason names the incident and the policy that stopped it.
    expect(gate.get_by_test_id("gate-reasons")).to_contain_text("Suspended: Version 1.1 was suspended on")
    expect(gate.get_by_test_id("gate-reasons")).to_contain_text(f"by the governance policy: {incident.reference}")
    versions = page.get_by_test_id("version-table")
    expect(versions.locator("tr").filter(has_text=re.compile(r"^\s*1\.1")).locator(".badge")).to_have_text("Suspended")
    shot(page, "03-model-gate-blocked")
    page.get_by_test_id("section-nav").get_by_role("link", name="Incidents").click()  # its own section
    incidents_panel = page.locator("section[data-panel=incidents]")
    expect(incidents_panel.get_by_test_id("open-incidents")).to_contain_text(incident.reference)

    # What a trading system is told, over the API.
    blocked = gate_answer(live_server, trader_token)
    assert blocked["allowed"] is False and blocked["version"] == "1.1" and blocked["status"] == "suspended"
    assert [r["code"] for r in blocked["reasons"]] == ["suspended"]
    assert blocked["reasons"][0]["incident"] == incident.reference

    # Compliance rolls back from the incident page (the lifecycle's rollback signs nothing: a reason is all it asks).
    page.goto(f"{live_server.url}/incidents/{incident.pk}/")
    form = page.get_by_test_id("rollback")
    expect(form).to_contain_text("Retire version 1.1 and return the model to its previous approved version")
    form.locator("textarea[name=comment]").fill("Hit rate collapsed on 1.1; 1.0 traded cleanly for a year.")
    shot(page, "04-rollback-form")
    expect(form.get_by_test_id("rollback-to")).to_have_text("1.0")
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    form.get_by_role("button", name="Roll back to 1.0").click()
    expect(page.locator("text=mine rolled back: see the timeline")).to_be_visible()
    assert dialogs == ["Retire 1.1 and put 1.0 back in production?"]
    action = page.locator("[data-testid=entries] tbody tr").filter(has_text="Corrective action")
    expect(action).to_have_count(1)
    expect(action.locator("td").nth(1)).to_have_text(world.compliance.get_full_name())
    expect(action.locator("td").nth(3)).to_have_text(
        "Rolled back from 1.1 to 1.0: Hit rate collapsed on 1.1; 1.0 traded cleanly for a year."
    )
    expect(page.get_by_test_id("rollback")).to_have_count(0)  # nothing left to roll back
    shot(page, "05-incident-rolled-back")

    page.get_by_role("link", name="mine", exact=True).click()
    page.wait_for_url(f"{live_server.url}/models/mine/")
    gate = page.locator("section[data-panel=gate]")
    expect(gate.get_by_test_id("gate-answer")).to_have_text("allowed")
    expect(gate).to_contain_text("Version to use: 1.0 (production).")
    expect(gate.get_by_test_id("gate-reasons")).to_have_count(0)
    versions = page.get_by_test_id("version-table")
    expect(versions.locator("tr").filter(has_text=re.compile(r"^\s*1\.0")).locator(".badge")).to_have_text("Production")
    expect(versions.locator("tr").filter(has_text=re.compile(r"^\s*1\.1")).locator(".badge")).to_have_text("Retired")
    shot(page, "06-model-gate-allowed")

    assert ModelVersion.objects.get(pk=world.mine_v1.pk).status == "production"
    assert ModelVersion.objects.get(pk=newer.pk).status == "retired"
    allowed = gate_answer(live_server, trader_token)
    assert allowed["allowed"] is True and allowed["version"] == "1.0" and allowed["status"] == "production"
    assert allowed["reasons"] == []
    assert Incident.objects.get(pk=incident.pk).is_open  # rolling back is an action, not the closure
