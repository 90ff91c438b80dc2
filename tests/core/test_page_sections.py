"""The model and version pages in sections (issue 21): each section builds only its own panels and stays within a
query budget on a richly populated model; the section nav says where the reader is; a section with nothing for
the reader says so; an unknown section is a 400 that names the parameter; links elsewhere land on the section
that now holds what they point at."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.core import panels
from tests.factories import PASSWORD
from tests.governance.lifecycle_helpers import attach

# Queries each section may spend, as compliance (who sees every panel) on the model built by `rich` below,
# counted after a first render has filled the per-process caches: what each section spent when it was split out,
# plus two. Before issue 21 the model page built every panel on every request.
MODEL_BUDGETS = {
    "overview": 18,
    "monitoring": 17,
    "incidents": 12,
    "alerts": 11,
    "threads": 16,
    "attestations": 11,
    "lineage": 15,
    "history": 12,
}
VERSION_BUDGETS = {"overview": 32, "history": 11}  # overview +1: the review threads panel (issue 24)


@pytest.fixture
def rich(world):
    """`mine` with monitors and their history, an incident, an alert, a risk, a hand grant, evidence and a
    finding: every section has something to show."""
    from models_registry import services as inventory
    from models_registry.risk_register import risk_add
    from risk.incidents import services as incidents
    from risk.monitoring import evaluation, proposals
    from risk.monitoring.models import Monitor
    from risk.validation import findings

    proposals.propose(world.mine_v1)
    now = timezone.now().replace(microsecond=0)
    for monitor in Monitor.objects.filter(version=world.mine_v1):
        for hours in range(3):
            evaluation.evaluate(monitor, now - dt.timedelta(hours=hours))
    incidents.incident_report(
        world.owner, world.mine, title="Fills off", description="Fills far from the model.", severity="high"
    )
    risk_add(
        world.owner,
        world.mine,
        kind="regulatory",
        title="Regime change",
        description="Breaks in a new regime.",
        likelihood=2,
        impact=4,
        residual_likelihood=1,
        residual_impact=3,
        owner=world.developer,
        next_review=dt.date(2099, 1, 1),
    )
    inventory.model_grant_access(world.compliance, world.mine, world.trader, "Reads its signals.")
    attach(world.developer, world.mine_v1, "documentation", "notes.md")
    findings.finding_raise(
        world.validator,
        world.mine_v1,
        severity="low",
        title="Thin sample",
        description="Few rows.",
        owner=world.developer,
        due_date=dt.date(2099, 1, 1),
    )
    # Review threads on the version (a validator's challenge, resolved) and on the incident.
    from risk.incidents.models import Incident
    from risk.threads import services as threads

    for n in range(3):
        thread = threads.thread_open(world.validator, "version", world.mine_v1.pk, title=f"Q{n}", body="@developer?")
        threads.comment_add(world.developer, thread, "Answered.")
        threads.thread_resolve(world.validator, thread)
    threads.thread_open(world.owner, "incident", Incident.objects.get().pk, title="Feed?", body="Stale?")
    return world


def _count(client, url):
    client.get(url)  # warm the session and the per-process caches (permission ids, content types)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return response, len(ctx.captured_queries)


def _url(base, section):
    return base if section == "overview" else f"{base}?section={section}"


@pytest.mark.slow(reason="builds monitors with three evaluations each, then renders nine sections twice")
@pytest.mark.django_db
def test_each_section_of_the_model_and_version_pages_keeps_its_query_budget(rich, browser_client):
    client = browser_client.as_user(rich.compliance)
    assert [s.key for s in panels.sections_for(panels.MODEL_PAGE)] == list(MODEL_BUDGETS)
    assert [s.key for s in panels.sections_for(panels.VERSION_PAGE)] == list(VERSION_BUDGETS)
    spent = {}
    for page, base, budgets in (
        ("model", "/models/mine/", MODEL_BUDGETS),
        ("version", "/models/mine/versions/1.0/", VERSION_BUDGETS),
    ):
        for section, budget in budgets.items():
            response, count = _count(client, _url(base, section))
            assert f'data-testid="section-{section}"' in response.content.decode()
            spent[f"{page} {section}"] = count
            assert count <= budget, (page, section, count)
    print(f"queries per section: {spent}")
    page = client.get("/models/mine/?section=monitoring").content.decode()
    assert page.count('data-testid="monitor-') > 10 and "plotly-chart" in page  # the section was rich


@pytest.mark.django_db
def test_a_section_builds_only_its_own_panels(world, rf):
    request = rf.get("/models/mine/")
    request.user = world.compliance
    names = {}
    for section in panels.sections_for(panels.MODEL_PAGE):
        names[section.key] = [p.name for p in panels.build(panels.MODEL_PAGE, request, world.mine, section.key)]
    assert names["overview"] == ["gate"]
    assert "monitoring" not in names["overview"] and "attestations" not in names["overview"]
    assert names["incidents"] == ["incidents"] and names["alerts"] == ["alerts"]
    assert names["lineage"] == [] and names["history"] == []
    version_names = {
        s.key: [p.name for p in panels.build(panels.VERSION_PAGE, request, world.mine_v1, s.key)]
        for s in panels.sections_for(panels.VERSION_PAGE)
    }
    # The version page keeps its panels together: signing off rests on the evidence and runs beside it.
    assert version_names == {"overview": ["lifecycle", "evidence", "findings", "validation", "threads"], "history": []}
    assert names["threads"] == ["threads"]


@pytest.mark.django_db
def test_the_nav_marks_the_current_section_and_an_empty_section_says_so(world, browser_client):
    trader = browser_client.as_user(world.trader)
    page = trader.get("/models/mine/?section=monitoring").content.decode()
    assert 'data-section="monitoring" aria-current="page"' in page
    assert page.count('aria-current="page"') == 1
    # No monitor yet (none proposed): the section says so rather than showing nothing.
    assert 'data-testid="section-empty"' in page and "No monitor that you may see" in page
    overview = trader.get("/models/mine/").content.decode()
    assert 'data-section="overview" aria-current="page"' in overview
    assert 'data-testid="section-empty"' not in overview


@pytest.mark.django_db
def test_an_unknown_section_is_a_400_that_names_the_parameter(world, browser_client):
    response = browser_client.as_user(world.owner).get("/models/mine/?section=nope")
    assert response.status_code == 400
    assert "section: this page has no section" in response.content.decode()


@pytest.mark.django_db
def test_links_to_the_monitoring_and_attestations_land_on_their_sections(world, browser_client):
    from governance.lifecycle.models import Attestation
    from risk.monitoring import proposals

    proposals.propose(world.mine_v1)
    overview = browser_client.as_user(world.compliance).get("/monitoring/").content.decode()
    assert "/models/mine/?section=monitoring" in overview
    attestation = Attestation.objects.create(
        model=world.mine, year=2026, owner=world.owner, due_date=dt.date(2026, 12, 31)
    )
    response = browser_client.as_user(world.owner).post(
        f"/models/mine/attestations/{attestation.pk}/sign/", {"statement": "", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"].endswith("/models/mine/?section=attestations")
