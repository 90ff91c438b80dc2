"""A version walks from draft to production in a real browser, each step by the right person."""

import datetime as dt

import pytest

from models_registry.models import Model, ModelVersion
from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_version

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def act(page, action):
    """Open the action: a signing action (or the pilot) on its own page, a comment-only one in the panel."""
    link = page.locator(f"a[data-action={action}]")
    if link.count():
        link.click()
        return page.locator(f"form[data-action={action}]")
    page.click(f"details[data-action={action}] summary")
    return page.locator(f"details[data-action={action}] form")


def test_it_walks_a_version_from_draft_to_production(page, live_server, tmp_path):
    world = build_world()
    Model.objects.filter(pk=world.mine.pk).update(known_limitations="Untested in crises.")
    make_version(world.developer, world.mine, label="2.0")
    url = f"{live_server.url}/models/mine/versions/2.0/"
    report = tmp_path / "validation-report.pdf"
    report.write_bytes(b"%PDF-1.4 validation report")
    pilot = tmp_path / "pilot-results.md"
    pilot.write_text("# Pilot results\nNo breaches.")

    login(page, live_server, "developer", PASSWORD)
    page.goto(url)
    act(page, "submit").locator("button[type=submit]").click()
    assert page.is_visible("text=the version is now submitted")
    page.click("text=Log out")

    login(page, live_server, "validator", PASSWORD)
    page.goto(url)
    act(page, "start_validation").locator("button[type=submit]").click()
    page.select_option("form.filters select[name=kind]", "validation_report")
    page.set_input_files("form.filters input[name=file]", str(report))
    page.click("form.filters button[type=submit]")
    assert page.is_visible("text=validation-report.pdf attached")
    form = act(page, "validate")
    form.locator("input[name=outcomes_analysis_evidence]").first.check()
    form.locator("textarea[name=conceptual_soundness_na]").fill("Reviewed the economic rationale document.")
    form.locator("textarea[name=ongoing_monitoring_na]").fill("Monitoring plan reviewed with the desk.")
    form.locator("textarea[name=no_findings_justification]").fill("Reviewed lineage, backtest windows and code.")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    assert page.is_visible("text=the version is now validated")
    assert (
        page.locator("[data-testid=signature]")
        .first.inner_text()
        .startswith(f"Signed by {world.validator.get_full_name()} at")
    )
    page.click("text=Log out")

    login(page, live_server, "compliance", PASSWORD)
    page.goto(url)
    form = act(page, "approve_deployment")
    form.locator("input[name=password]").fill("not-my-password")
    form.locator("button[type=submit]").click()
    assert page.is_visible("text=nothing was signed")
    form = page.locator("form[data-action=approve_deployment]")  # its page again, as it was typed
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    assert page.is_visible("text=the version is now approved for deployment")
    page.click("text=Log out")

    login(page, live_server, "owner", PASSWORD)
    page.goto(url)
    form = act(page, "start_pilot")
    form.locator("input[name=max_notional]").fill("2000000")
    form.locator("input[name=instruments]").fill("AAPL, MSFT")
    form.locator("input[name=end_date]").fill((dt.date.today() + dt.timedelta(days=20)).isoformat())
    form.locator("button[type=submit]").click()
    assert page.is_visible("text=the version is now pilot")
    page.select_option("form.filters select[name=kind]", "pilot_results")
    page.set_input_files("form.filters input[name=file]", str(pilot))
    page.click("form.filters button[type=submit]")
    page.click("text=Log out")

    login(page, live_server, "compliance", PASSWORD)
    page.goto(url)
    form = act(page, "promote")
    form.locator("textarea[name=comment]").fill("Pilot clean.")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    assert page.is_visible("text=the version is now production")
    page.screenshot(path=str(tmp_path / "production.png"), full_page=True)
    assert ModelVersion.objects.get(model=world.mine, version="2.0").status == "production"
    assert Model.objects.get(pk=world.mine.pk).status == "production"
    history = page.locator("[data-testid=history] tbody tr").all_inner_texts()
    assert len(history) == 6
