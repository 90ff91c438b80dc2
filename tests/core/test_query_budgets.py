"""Query budgets: signing a version, and pages whose cost must not grow with the number of versions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.lifecycle import workflow
from tests.factories import PASSWORD, make_version
from tests.governance.lifecycle_helpers import attach, new_draft, signoff_for

# 25, plus the lifecycle.transition event apps above the lifecycle follow, plus one statement for each of the
# three audited changes to the version or its model that moves the model's gate generation (risk/gate), plus the
# three reads of signing's own controls (issue 21): the signer's lock (the signing throttle), the policy's second-
# factor requirement for their roles, and their authenticators; plus the one read of the validator's skills that
# are not current for the model (governance/skills, issue 24).
SIGNING_BUDGET = 33


def queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return result, len(ctx.captured_queries)


@pytest.mark.django_db
def test_signing_a_version_stays_within_its_query_budget(world):
    version = new_draft(world)
    version = workflow.version_transition(world.developer, version, "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    report = attach(world.validator, version, "validation_report")
    signoff = signoff_for(version, report)
    moved, count = queries(
        lambda: workflow.version_transition(
            world.validator, version, "validate", password=PASSWORD, signoff=signoff, comment="Sound."
        )
    )
    print(f"signing a version: {count} queries")
    assert moved.status == "validated"
    assert count <= SIGNING_BUDGET


def _page_queries(client, url):
    client.get(url)  # warm the session and caches
    response, count = queries(lambda: client.get(url))
    assert response.status_code == 200
    return count


def _add_versions(world, n, start=0):
    for i in range(start, start + n):
        make_version(world.developer, world.mine, label=f"9.{i}")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["developer", "compliance", "validator"])
def test_the_model_page_costs_the_same_with_5_and_50_versions(world, browser_client, persona):
    client = browser_client.as_user(getattr(world, persona))
    _add_versions(world, 4)
    five = _page_queries(client, "/models/mine/")
    _add_versions(world, 45, start=4)
    fifty = _page_queries(client, "/models/mine/")
    print(f"model page as {persona}: {five} queries with 5 versions, {fifty} with 50")
    assert five == fifty


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["developer", "compliance", "validator", "trader"])
def test_the_version_page_costs_the_same_whatever_the_model_has(world, browser_client, persona):
    client = browser_client.as_user(getattr(world, persona))
    one = _page_queries(client, "/models/mine/versions/1.0/")
    _add_versions(world, 20)
    for i in range(5):
        attach(world.developer, world.mine_v1, "documentation", f"doc-{i}.md")
    many = _page_queries(client, "/models/mine/versions/1.0/")
    print(f"version page as {persona}: {one} queries, {many} with 20 more versions and 5 more files")
    assert one == many


# Queries each panel may spend to build and render, whatever the version holds. The lifecycle panel evaluates
# every open action's checks (with their reasons) and verifies each signature against the database.
# The validation panel reads the last scheduled-validation check and the top features of the latest run: one each.
PANEL_BUDGETS = {"lifecycle": 16, "evidence": 6, "findings": 6, "validation": 8}


def _panel_queries(panel, request, version):
    from django.template.loader import get_template

    def build_and_render():
        context = panel.context(request, version)
        if context is not None:
            get_template(panel.template).render({"model": version.model, "version": version, **context}, request)
        return context

    return queries(build_and_render)[1]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["developer", "validator", "compliance", "trader"])
def test_each_version_panel_has_its_own_budget_that_does_not_grow(world, rf, persona):
    from governance.core import panels
    from models_registry.models import ModelVersion
    from risk.validation import findings as finding_services

    user = getattr(world, persona)
    request = rf.get("/models/mine/versions/1.0/")
    request.user = user
    version = ModelVersion.objects.select_related("model").get(pk=world.mine_v1.pk)
    registered = panels.panels_for(panels.VERSION_PAGE)
    assert {p.name for p in registered} >= {"lifecycle", "evidence", "findings", "validation"}
    for panel in registered:
        _panel_queries(panel, request, version)  # warm the per-process caches (permission ids, content types)
    before = {p.name: _panel_queries(p, request, version) for p in registered}
    for i in range(6):
        attach(world.developer, version, "documentation", f"more-{i}.md")
        finding_services.finding_raise(
            world.validator,
            version,
            severity="low",
            title=f"Note {i}",
            description="Minor.",
            owner=world.developer,
            due_date=version.created_at.date().replace(year=2099),
        )
    after = {p.name: _panel_queries(p, request, version) for p in registered}
    print(f"panels as {persona}: {after}")
    assert after == before
    assert all(after[name] <= PANEL_BUDGETS[name] for name in PANEL_BUDGETS), after


@pytest.mark.django_db
def test_the_model_page_with_monitors_costs_the_same_with_two_and_eight_evaluations(world, browser_client):
    """Twenty-odd monitors each with a chart of its history: one query for every history, not one each."""
    import datetime as dt

    from django.utils import timezone

    from risk.monitoring import evaluation, proposals
    from risk.monitoring.models import Monitor

    proposals.propose(world.mine_v1)
    monitors = list(Monitor.objects.filter(version=world.mine_v1))
    now = timezone.now().replace(microsecond=0)
    client = browser_client.as_user(world.validator)
    for hours in range(2):  # two: a page with some history has its redaction reads too
        for monitor in monitors:
            evaluation.evaluate(monitor, now - dt.timedelta(hours=hours))
    once = _page_queries(client, "/models/mine/?section=monitoring")
    for hours in range(2, 8):
        for monitor in monitors:
            evaluation.evaluate(monitor, now - dt.timedelta(hours=hours))
    many = _page_queries(client, "/models/mine/?section=monitoring")
    print(f"model page with {len(monitors)} monitors: {once} queries after two evaluations, {many} after eight")
    assert len(monitors) > 10 and once == many


@pytest.mark.django_db
def test_the_schedules_page_costs_the_same_with_more_schedules(world, browser_client):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from risk.monitoring.monitors import SCHEDULE_TASK

    client = browser_client.as_user(world.compliance)
    before = _page_queries(client, "/monitoring/schedules/")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    for i in range(5):
        PeriodicTask.objects.create(name=f"Monitoring: extra {i}", task=SCHEDULE_TASK, interval=every)
    after = _page_queries(client, "/monitoring/schedules/")
    print(f"schedules page: {before} queries, {after} with five more schedules")
    assert before == after
