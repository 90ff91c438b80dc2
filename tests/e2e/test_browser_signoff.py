"""In a browser: a validator's sign-off over a run with a failed test is refused, then accepted once a finding
is raised from the test (and the rest are disposed of); compliance then reads what it approves."""

import datetime as dt

import pytest

from models_registry.models import Model
from risk.validation.plans import label_for_test
from tests.base import build_world
from tests.e2e.conftest import login
from tests.factories import PASSWORD
from tests.governance.lifecycle_helpers import graded_in_validation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


CONTROLS_WITHOUT_A_LABEL = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && !(e.id && document.querySelector(`label[for="${e.id}"]`))
               && !e.closest('label') && !e.getAttribute('aria-label'))
  .map(e => e.name)"""
DUPLICATE_IDS = """() => { const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  return ids.filter((id, i) => ids.indexOf(id) !== i); }"""


def assert_page_is_accessible(page):
    assert page.evaluate(DUPLICATE_IDS) == []
    assert page.evaluate(CONTROLS_WITHOUT_A_LABEL) == []


def fill_signoff(form, report, password):
    for element in ("conceptual_soundness", "ongoing_monitoring", "outcomes_analysis"):
        form.locator(f"input[name={element}_evidence][value='{report.pk}']").check()
    form.locator("textarea[name=no_findings_justification]").fill("Reviewed the data, the code and the run.")
    form.locator("input[name=password]").fill(password)


def test_a_failed_test_blocks_the_signoff_until_a_finding_is_raised_from_it(page, live_server):
    world = build_world()
    version, run, report = graded_in_validation(world)
    failed = [r["test"] for r in run.results if r["outcome"] == "fail"]
    assert failed
    url = f"{live_server.url}/models/mine/versions/5.0/"

    login(page, live_server, "validator", PASSWORD)
    page.goto(url)
    assert_page_is_accessible(page)
    page.click("a[data-action=validate]")  # the sign-off has a page of its own, beside what it signs
    assert_page_is_accessible(page)
    subject = page.locator("[data-testid=cited-run]").inner_text()
    assert f"Run #{run.pk}" in subject and f"{label_for_test(failed[0])}:" in subject
    form = page.locator("form[data-action=validate]")
    fill_signoff(form, report, PASSWORD)
    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        form.locator("button[type=submit]").click()
    assert refused.value.status == 400
    assert page.is_visible(f"text={label_for_test(failed[0])} failed in validation run #{run.pk}")
    # The page comes back as it was typed (never the password), with every problem beside its field.
    form = page.locator("form[data-action=validate]")
    assert form.is_visible()
    assert form.locator("textarea[name=no_findings_justification]").input_value().startswith("Reviewed the data")
    assert form.locator(f"input[name=outcomes_analysis_evidence][value='{report.pk}']").is_checked()
    assert form.locator("input[name=password]").input_value() == ""
    # Each failed test's problem sits beside its own box, in the same round as every other problem.
    assert form.locator("textarea[name^=disposition_] + ul.errorlist li").count() >= len(failed)
    assert Model.objects.get(pk=world.mine.pk).versions.get(version="5.0").status == "in_validation"

    # Raise a finding from the failed test on the run page: the form arrives filled in with the run and test.
    page.goto(f"{live_server.url}/validation-runs/{run.pk}/")
    row = page.locator("[data-testid=results] tbody tr").filter(has=page.locator(f'td[data-test="{failed[0]}"]'))
    row.locator("[data-testid=raise-finding]").click()
    finding = page.locator("#raise-finding form")
    finding.locator("select[name=severity]").select_option("medium")
    developer = world.developer
    finding.locator("select[name=owner]").select_option(label=f"{developer.get_full_name()} ({developer.username})")
    finding.locator("input[name=due_date]").fill((dt.date.today() + dt.timedelta(days=30)).isoformat())
    finding.locator("button[type=submit]").click()
    assert page.is_visible("text=Finding raised")

    page.goto(url)
    page.click("a[data-action=validate]")
    form = page.locator("form[data-action=validate]")
    fill_signoff(form, report, PASSWORD)
    for textarea in form.locator("textarea[name^=disposition_]").all():
        textarea.fill("Immaterial for the desk's use: the score only ranks positions.")
    for box in form.locator("input[name^=acknowledge_]").all():
        box.check()
    form.locator("button[type=submit]").click()
    assert page.is_visible("text=the version is now validated")
    page.click("text=Log out")

    login(page, live_server, "compliance", PASSWORD)
    page.goto(url)
    assert_page_is_accessible(page)
    summary = page.locator("[data-testid=approval-summary]")
    assert summary.is_visible()
    text = summary.inner_text()
    assert f"#{run.pk}:" in text and f"{label_for_test(failed[0])} failed: finding" in text and "Open findings" in text
