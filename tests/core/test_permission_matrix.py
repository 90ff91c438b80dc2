"""The permission matrix, generated: every persona against every read and validation action, API and pages.

Expectations are never written cell by cell: they come from the rule table below (README, "Who does what";
tests/models_registry/test_permission_matrix.py's VISIBLE map), so a cell reads as the rule it follows.
Out of scope answers 404, never 403, in the API and the pages; in scope but not allowed answers 403.
After the generated families come the rules that each have a test of their own (segregation of duties).
"""

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from governance.core.audit import audit_type
from governance.core.models import Signature
from governance.lifecycle import workflow
from governance.skills import services as skill_services
from governance.skills.models import Completion, Requirement
from models_registry import services as registry_services
from models_registry.models import Model, ModelVersion
from risk.gate import acknowledgements as acks
from risk.gate.models import Acknowledgement
from risk.monitoring import proposals
from risk.threads import services as thread_services
from risk.threads.models import Comment, Thread
from risk.validation import findings as finding_services
from risk.validation import plans
from risk.validation import services as evidence_services
from risk.validation.models import Finding, ValidationRun
from tests.core.personas import EXTRA_PERSONAS, WORLD_PERSONAS, build_personas
from tests.factories import PASSWORD, UserFactory
from tests.governance.lifecycle_helpers import attach, new_draft, signoff_for, to_validated
from tests.snapshots import snapshot

# --- The rule table -----------------------------------------------------------------------------------

MODELS = ("mine", "theirs", "draft-on-desk")
VERSIONED = ("mine", "theirs")  # each has version 1.0, in production; draft-on-desk has no version
SEES_ALL = {"compliance", "auditor", "admin"}
# Who sees a model by their part in it: owner, developers, assigned validator, or a hand grant.
PART = {
    "mine": {"developer", "owner", "validator", "validator_granted"},
    "theirs": {"developer2", "owner2", "validator2"},
    "draft-on-desk": {"developer", "owner"},
}
ASSIGNED_VALIDATOR = {"mine": "validator", "theirs": "validator2"}
# Traders see the tradeable (approved, pilot, production) models and versions of their desk, and no
# validation work (evidence, plans, runs, findings) nor anyone's audit trail but their own.
TRADER_DESK = {"trader": "sys-eq", "trader_other_desk": "rates"}
DESK = {"mine": "sys-eq", "theirs": "rates", "draft-on-desk": "sys-eq"}
TRADEABLE = {"mine", "theirs"}
# The restricted data source (the card panel) is owned by owner2.
READS_RESTRICTED_SOURCE = SEES_ALL | {"owner2"}

PERSONAS = sorted(WORLD_PERSONAS + EXTRA_PERSONAS)


def sees(persona, key) -> bool:
    """The model, and its tradeable (here: all) versions."""
    if persona in SEES_ALL or persona in PART[key]:
        return True
    return TRADER_DESK.get(persona) == DESK[key] and key in TRADEABLE


def sees_work_in_progress(persona, key) -> bool:
    """A version that is not tradeable yet (submitted, in validation): traders never see one."""
    return sees(persona, key) and persona not in TRADER_DESK


def reads_validation_work(persona, key) -> bool:
    return sees(persona, key) and persona not in TRADER_DESK


def reads_audit_of(persona, key) -> bool:
    return persona in SEES_ALL or (persona not in TRADER_DESK and sees(persona, key))


# Expected status of a GET, by the kind of thing it reads.
def in_scope(key):
    return lambda persona: 200 if sees(persona, key) else 404


def validation_work_on(key):
    """Evidence list, plan, run list of a version: 404 out of scope, 403 to traders (visible, not theirs)."""
    return lambda persona: 404 if not sees(persona, key) else 200 if reads_validation_work(persona, key) else 403


def validation_object_on(key):
    """A finding or a run is itself out of scope for whoever may not read the version's validation work."""
    return lambda persona: 200 if reads_validation_work(persona, key) else 404


def everyone(persona):
    return 200


def restricted_source(persona):
    return 200 if persona in READS_RESTRICTED_SOURCE else 404


def chain_verifiers(persona):
    return 200 if persona in SEES_ALL else 403


def webhook_readers(persona):
    """Compliance manages receivers, auditors read them (by role: an administrator holds neither)."""
    return 200 if persona in {"compliance", "auditor"} else 404


def asks_about_trader(persona):
    return 200 if persona in SEES_ALL | {"trader"} else 400


def acknowledges(key):
    """The acknowledgement page of a card: the traders of the model's desk (its head: none in the scene); 403 to
    others who see the version, 404 to the rest."""
    return lambda persona: 404 if not sees(persona, key) else 200 if TRADER_DESK.get(persona) == DESK[key] else 403


V = "versions/1.0"
API_READS = [
    *[(f"model-{k}", f"/api/v1/models/{k}/", in_scope(k)) for k in MODELS],
    *[(f"versions-{k}", f"/api/v1/models/{k}/versions/", in_scope(k)) for k in MODELS],
    *[(f"version-{k}", f"/api/v1/models/{k}/{V}/", in_scope(k)) for k in VERSIONED],
    ("data-source-public", "/api/v1/data-sources/{source_public}/", everyone),
    ("data-source-restricted", "/api/v1/data-sources/{source_restricted}/", restricted_source),
    *[(f"evidence-{k}", f"/api/v1/models/{k}/{V}/evidence/", validation_work_on(k)) for k in VERSIONED],
    *[(f"plan-{k}", f"/api/v1/models/{k}/{V}/validation-plan/", validation_work_on(k)) for k in VERSIONED],
    *[(f"runs-{k}", f"/api/v1/models/{k}/{V}/validation-runs/", validation_work_on(k)) for k in VERSIONED],
    *[
        (f"evidence-file-{k}", f"/api/v1/models/{k}/{V}/evidence/{{evidence_{k}}}/", validation_object_on(k))
        for k in VERSIONED
    ],
    *[(f"run-{k}", f"/api/v1/validation-runs/{{run_{k}}}/", validation_object_on(k)) for k in VERSIONED],
    *[(f"finding-{k}", f"/api/v1/findings/{{finding_{k}}}/", validation_object_on(k)) for k in VERSIONED],
    *[(f"transitions-{k}", f"/api/v1/models/{k}/{V}/transitions/", in_scope(k)) for k in VERSIONED],
    # The model card follows the version, traders of its desk included (issue 24): JSON and Markdown.
    *[(f"card-{k}", f"/api/v1/models/{k}/{V}/card/", in_scope(k)) for k in VERSIONED],
    *[(f"card-md-{k}", f"/api/v1/models/{k}/{V}/card/?format=md", in_scope(k)) for k in VERSIONED],
    # Who acknowledged a card, and its comprehension check, follow the version too.
    *[(f"card-acks-{k}", f"/api/v1/models/{k}/{V}/card/acknowledgements/", in_scope(k)) for k in VERSIONED],
    ("audit-events", "/api/v1/audit-events/", everyone),
    ("audit-verify", "/api/v1/audit-events/verify/", chain_verifiers),
    # Monitoring follows the model: whoever sees it reads its monitors and series, traders included.
    *[(f"monitors-{k}", f"/api/v1/models/{k}/monitoring/monitors/", in_scope(k)) for k in VERSIONED],
    *[(f"series-{k}", f"/api/v1/models/{k}/monitoring/series/?metric=pnl", in_scope(k)) for k in VERSIONED],
    # The gate follows the model; the kill switch is compliance's and the auditors' (a list: 403 to others).
    *[(f"gate-{k}", f"/api/v1/gate/{k}/", in_scope(k)) for k in MODELS],
    ("gate-desk", "/api/v1/gate/?desk=sys-eq", everyone),
    # One person's answer (?user=): about themselves, or anyone for those who see everything; 400 naming `user`
    # for everyone else, absent or hidden alike (a desk's head and service account are tested on their own).
    ("gate-user", "/api/v1/gate/mine/?user=trader", asks_about_trader),
    ("gate-desk-user", "/api/v1/gate/?desk=sys-eq&user=trader", asks_about_trader),
    ("kill-switch", "/api/v1/kill-switch/", chain_verifiers),
    ("kill-switch-tests", "/api/v1/kill-switch/tests/", chain_verifiers),
    ("incidents", "/api/v1/incidents/", everyone),
    # Review threads follow their record: a thread on a run is validation work (none for traders).
    ("threads", "/api/v1/threads/", everyone),
    *[(f"thread-run-{k}", f"/api/v1/threads/{{thread_run_{k}}}/", validation_object_on(k)) for k in VERSIONED],
    *[(f"thread-version-{k}", f"/api/v1/threads/{{thread_version_{k}}}/", in_scope(k)) for k in VERSIONED],
    # Alerts follow their model; webhook receivers are compliance's and the auditors' (404 to anyone else);
    # exports are each person's own, and the signing key is public.
    ("alerts", "/api/v1/alerts/", everyone),
    ("alert-mutes", "/api/v1/alerts/mutes/", everyone),
    ("webhooks", "/api/v1/webhooks/", webhook_readers),
    ("exports", "/api/v1/exports/", everyone),
    ("signing-key", "/api/v1/exports/signing-key/", everyone),
    # Skills (issue 24): requirements everyone reads but one model's, which follows the model; completions are
    # each person's own (compliance, auditors, administrators read all: a list); each reads their own status.
    ("skill-requirements", "/api/v1/skills/requirements/", everyone),
    *[(f"skill-requirement-{k}", f"/api/v1/skills/requirements/{{requirement_{k}}}/", in_scope(k)) for k in VERSIONED],
    ("skill-requirement-any", "/api/v1/skills/requirements/{requirement_any}/", everyone),
    ("skill-completions", "/api/v1/skills/completions/", everyone),
    ("my-skills", "/api/v1/skills/me/", everyone),
]
PAGE_READS = [
    *[(f"model-{k}", f"/models/{k}/", in_scope(k)) for k in MODELS],
    *[(f"version-{k}", f"/models/{k}/{V}/", in_scope(k)) for k in VERSIONED],
    *[(f"card-{k}", f"/models/{k}/{V}/card/", in_scope(k)) for k in VERSIONED],
    *[(f"card-pdf-{k}", f"/models/{k}/{V}/card.pdf", in_scope(k)) for k in VERSIONED],
    *[(f"card-acknowledge-{k}", f"/models/{k}/{V}/card/acknowledge/", acknowledges(k)) for k in VERSIONED],
    ("data-source-public", "/data-sources/{source_public}/", everyone),
    ("data-source-restricted", "/data-sources/{source_restricted}/", restricted_source),
    *[(f"evidence-download-{k}", f"/evidence/{{evidence_{k}}}/download/", validation_object_on(k)) for k in VERSIONED],
    ("findings", "/findings/", everyone),
    *[(f"finding-{k}", f"/findings/{{finding_{k}}}/", validation_object_on(k)) for k in VERSIONED],
    *[(f"run-{k}", f"/validation-runs/{{run_{k}}}/", validation_object_on(k)) for k in VERSIONED],
    ("inbox", "/inbox/", everyone),
    ("policy", "/policy/", everyone),
    ("monitoring", "/monitoring/", everyone),
    ("monitoring-schedules", "/monitoring/schedules/", everyone),
    *[(f"monitor-{k}", f"/monitoring/monitors/{{monitor_{k}}}/", in_scope(k)) for k in VERSIONED],
    ("kill-switch", "/kill-switch/", lambda persona: 200 if persona in SEES_ALL else 404),
    ("incidents", "/incidents/", everyone),
    *[(f"thread-run-{k}", f"/threads/{{thread_run_{k}}}/", validation_object_on(k)) for k in VERSIONED],
    *[(f"thread-version-{k}", f"/threads/{{thread_version_{k}}}/", in_scope(k)) for k in VERSIONED],
    # Auditors read incidents; everyone else may report one.
    ("incident-new", "/incidents/new/", lambda persona: 403 if persona == "auditor" else 200),
    ("service-accounts", "/service-accounts/", lambda persona: 200 if persona == "compliance" else 404),
    ("alerts", "/alerts/", everyone),
    ("alert-settings", "/alerts/settings/", everyone),
    ("webhooks", "/alerts/webhooks/", webhook_readers),
    ("exports", "/exports/", everyone),
    ("signing-key", "/exports/signing-key/", everyone),
    ("auditor-access", "/auditor-access/", webhook_readers),
    ("audit-trail", "/audit/", chain_verifiers),  # the firm-wide trail: a page, so 403 (not 404) to others
    ("api-tokens", "/account/tokens/", everyone),  # each person's own tokens
    ("two-factor", "/account/two-factor/", everyone),  # each person's own authenticator
    ("skills", "/skills/", lambda persona: 200 if persona in SEES_ALL else 404),  # the firm's people and requirements
    ("my-skills", "/skills/me/", everyone),
]

# Cells where the application itself is wrong, {(family, row, persona): reason}: a test fails while such a cell
# still answers as the rule says, so the entry is removed the day the defect is fixed.
# (The version page's audit timeline once showed traders validation work; it now reads the audit API's scope.)
KNOWN_DEFECTS: dict[tuple[str, str, str], str] = {}


def rows(table):
    """One test per row of `table` (name, what to request, expectation by persona); the test asks every persona
    and compares the whole row at once, so a failure names each wrong cell and the scene is restored once per row
    instead of once per cell."""
    return [pytest.param(name, target, expect, id=name) for name, target, expect in table]


# A row asks all 13 personas (13 requests, a page render each for the pages): over a second by design.
ROW = pytest.mark.slow(reason="one test per row asks every persona")


def assert_row(family, name, answer):
    """`answer(persona)` is called for every persona, each with an empty cache (as in a test of its own)."""
    got, expected = {}, {}
    for persona in PERSONAS:
        cache.clear()
        got[persona], expected[persona] = answer(persona)
    wrong = {
        p: f"got {got[p]!r}, the rule says {expected[p]!r}"
        for p in PERSONAS
        if got[p] != expected[p] and (family, name, p) not in KNOWN_DEFECTS
    }
    fixed = [p for p in PERSONAS if (family, name, p) in KNOWN_DEFECTS and got[p] == expected[p]]
    assert not wrong, f"{family} {name}: " + "; ".join(f"{p}: {text}" for p, text in wrong.items())
    assert not fixed, f"{family} {name}: fixed, remove from KNOWN_DEFECTS: {fixed}"


# --- The scene: world, the extra personas, and validation work on both production versions -------------

TODAY = dt.date.today()
RETURNS_CSV = b"timestamp,return\n2026-01-02,0.010\n2026-01-05,-0.004\n2026-01-06,0.007\n"


class Scene:
    def __init__(self, world):
        self.world = world
        self.people = build_personas(world)
        self.ids = {"source_public": world.public_source.pk, "source_restricted": world.restricted_source.pk}
        for key, version, team_member in (
            ("mine", world.mine_v1, world.developer),
            ("theirs", world.theirs_v1, world.developer2),
        ):
            validator = getattr(world, ASSIGNED_VALIDATOR[key])
            finding = finding_services.finding_raise(
                validator,
                version,
                severity="medium",
                title=f"Stale features in {key}",
                description="Two features lag by a day.",
                owner=team_member,
                due_date=TODAY + dt.timedelta(days=14),
            )
            dataset = evidence_services.evidence_add(
                validator, version, file=SimpleUploadedFile("returns.csv", RETURNS_CSV), kind="dataset"
            )
            # A run from the version's validation, before it was signed (the services refuse new plans and runs
            # on a version in production, so the record is written as it stands in the database).
            proposal = plans.proposed_plan(version.model)
            run = ValidationRun.objects.create(
                version=version,
                dataset=dataset,
                requested_by=validator,
                input_sha256=dataset.sha256,
                plan_snapshot={**proposal, "claimed_performance": version.claimed_performance},
            )
            self.ids.update({f"finding_{key}": finding.pk, f"run_{key}": run.pk, f"evidence_{key}": dataset.pk})
            self.ids[f"monitor_{key}"] = proposals.propose(version)[0].pk
            # Review threads (issue 24): a validator's challenge on the run (validation work), the owner's on the
            # version.
            on_run = thread_services.thread_open(
                validator, "run", run.pk, title=f"Window of {key}", body="Why 20 days?"
            )
            owner = world.owner if key == "mine" else world.owner2
            on_version = thread_services.thread_open(owner, "version", version.pk, title=f"Sizing {key}", body="Big?")
            self.ids.update({f"thread_run_{key}": on_run.pk, f"thread_version_{key}": on_version.pk})
            requirement = skill_services.requirement_create(
                world.compliance,
                duty="trader",  # a validator's would stop the scene's signatures until completed
                scope="model",
                model=version.model,
                kind="card_reading",
                title=f"Card of {key}",
                validity_months=12,
            )
            self.ids[f"requirement_{key}"] = requirement.pk
        self.ids["requirement_any"] = skill_services.requirement_create(
            world.compliance, duty="kill_switch", kind="training", title="Kill switch drill", validity_months=12
        ).pk

    def url(self, template):
        return template.format(**self.ids)


@pytest.fixture
def scene(world, request):
    """Built once per session, restored for each cell (tests/snapshots.py)."""
    return snapshot("permission-matrix-scene", lambda: Scene(world), request)


# --- Reads: status of every endpoint and page for every persona ----------------------------------------


@ROW
@pytest.mark.django_db
@pytest.mark.parametrize("name,url,expect", rows(API_READS))
def test_it_answers_api_reads_in_scope_and_404_outside(name, url, expect, scene, api):
    def answer(persona):
        response = api.as_user(scene.people[persona]).get(scene.url(url))
        return response.status_code, expect(persona)

    assert_row("api", name, answer)


@ROW
@pytest.mark.django_db
@pytest.mark.parametrize("name,url,expect", rows(PAGE_READS))
def test_it_answers_page_reads_in_scope_and_404_outside(name, url, expect, scene, browser_client):
    def answer(persona):
        return browser_client.as_user(scene.people[persona]).get(scene.url(url)).status_code, expect(persona)

    assert_row("page", name, answer)


# --- Dashboards: every widget's CSV, drill-down list and API answer (issue 22) -------------------------------
# By rule, not by asking the widget: the firm's pages are for those who see everything; each widget of My dashboard is
# for the role it serves. A widget registered without a rule here fails test_every_widget_has_a_rule_in_the_matrix.

FIRM_PAGES = {"overview", "monitoring", "incidents"}
VALIDATORS = {"validator", "validator2", "validator_granted"}
TRADERS = set(TRADER_DESK)
OWNERS_AND_DEVELOPERS = {"owner", "owner2", "developer", "developer2"}
MINE_READERS = {
    "my-assignments": VALIDATORS,
    "my-run-outcomes": VALIDATORS,
    "my-desk-models": TRADERS,
    "my-pilot-limits": TRADERS,
    "my-monitors": OWNERS_AND_DEVELOPERS,
    "my-open-findings": OWNERS_AND_DEVELOPERS,
}


def widget_readers(widget) -> set[str]:
    return SEES_ALL if widget.page in FIRM_PAGES else MINE_READERS.get(widget.key, set())


def widget_rows():
    from governance.core import widgets

    return [pytest.param(w.key, id=w.key) for w in widgets.all_widgets()]


@ROW
@pytest.mark.django_db
@pytest.mark.parametrize("key", widget_rows())
def test_it_answers_each_widget_to_its_readers_and_404_to_everyone_else(key, scene, browser_client, api):
    from governance.core import widgets

    widget = widgets.get(key)

    def answer(persona):
        person = scene.people[persona]
        pages = browser_client.as_user(person)
        got = (
            pages.get(f"/dashboards/widgets/{key}/csv/").status_code,
            pages.get(f"/dashboards/widgets/{key}/records/").status_code,
            api.as_user(person).get(f"/api/v1/dashboards/widgets/{key}/").status_code,
            api.as_user(person).get(f"/api/v1/dashboards/widgets/{key}/?format=csv").status_code,
        )
        expected = (200,) * 4 if persona in widget_readers(widget) else (404,) * 4
        return got, expected

    assert_row("widget", key, answer)


def test_every_widget_has_a_rule_in_the_matrix():
    from governance.core import widgets

    unruled = [w.key for w in widgets.all_widgets() if w.page not in FIRM_PAGES and w.key not in MINE_READERS]
    assert unruled == [], "add each to MINE_READERS (who reads it, by rule)"


# --- Lists: exactly what is in scope, nothing more, nothing less ---------------------------------------


def list_models(scene, api, pages):
    return {row["key"] for row in api.get("/api/v1/models/?page_size=100").json()["results"]}


def list_model_pages(scene, api, pages):
    return {m.key for m in pages.get("/models/").context["page"]}


def list_versions(scene, api, pages):
    out = {}
    for key in MODELS:
        response = api.get(f"/api/v1/models/{key}/versions/")
        out[key] = {row["version"] for row in response.json()["results"]} if response.status_code == 200 else 404
    return out


def list_data_sources(scene, api, pages):
    return {row["name"] for row in api.get("/api/v1/data-sources/?page_size=100").json()["results"]}


def list_findings(scene, api, pages):
    return {row["model"] for row in api.get("/api/v1/findings/?page_size=100").json()["results"]}


def list_finding_pages(scene, api, pages):
    return {f.version.model.key for f in pages.get("/findings/").context["page"]}


def list_audited_models(scene, api, pages):
    """Models whose own audit events (their registration, at least) the persona may read."""
    out = set()
    for key in MODELS:
        model = Model.objects.get(key=key)
        query = f"object_type={audit_type(model)}&object_id={model.pk}"
        if api.get(f"/api/v1/audit-events/?{query}").json()["count"]:
            out.add(key)
    return out


def list_audited_findings(scene, api, pages):
    out = set()
    for key in VERSIONED:
        finding = Finding.objects.get(pk=scene.ids[f"finding_{key}"])
        query = f"object_type={audit_type(finding)}&object_id={finding.pk}"
        if api.get(f"/api/v1/audit-events/?{query}").json()["count"]:
            out.add(key)
    return out


def list_version_page_contents(scene, api, pages):
    """What each visible version page shows of its validation work, and whether it offers to raise a finding."""
    out = {}
    for key in VERSIONED:
        response = pages.get(f"/models/{key}/{V}/")
        if response.status_code == 200:
            html = response.content.decode()
            shown = {"finding": f"Stale features in {key}", "evidence": "returns.csv", "raise-form": "Raise a finding"}
            out[key] = {part for part, text in shown.items() if text in html}
    return out


def expected_version_page_contents(persona):
    return {
        k: ({"finding", "evidence"} if reads_validation_work(persona, k) else set())
        | ({"raise-form"} if persona == ASSIGNED_VALIDATOR[k] else set())
        for k in VERSIONED
        if sees(persona, k)
    }


def list_threads(scene, api, pages):
    """Which of the scene's threads the API lists: (model, what it is on)."""
    names = {scene.ids[f"thread_{on}_{k}"]: f"{on}-{k}" for k in VERSIONED for on in ("run", "version")}
    return {names[row["id"]] for row in api.get("/api/v1/threads/?page_size=100").json()["results"]}


def expected_threads(persona):
    return {f"run-{k}" for k in VERSIONED if reads_validation_work(persona, k)} | {
        f"version-{k}" for k in VERSIONED if sees(persona, k)
    }


LISTS = [
    ("api-models", list_models, lambda p: {k for k in MODELS if sees(p, k)}),
    ("page-models", list_model_pages, lambda p: {k for k in MODELS if sees(p, k)}),
    (
        "api-versions",
        list_versions,
        lambda p: {k: ({"1.0"} if k in VERSIONED else set()) if sees(p, k) else 404 for k in MODELS},
    ),
    (
        "api-data-sources",
        list_data_sources,
        lambda p: {"Public feed"} | ({"Card panel"} if p in READS_RESTRICTED_SOURCE else set()),
    ),
    ("api-findings", list_findings, lambda p: {k for k in VERSIONED if reads_validation_work(p, k)}),
    ("page-findings", list_finding_pages, lambda p: {k for k in VERSIONED if reads_validation_work(p, k)}),
    ("api-audit-models", list_audited_models, lambda p: {k for k in MODELS if reads_audit_of(p, k)}),
    ("api-audit-findings", list_audited_findings, lambda p: {k for k in VERSIONED if reads_validation_work(p, k)}),
    ("page-version-contents", list_version_page_contents, expected_version_page_contents),
    ("api-threads", list_threads, expected_threads),
]


@ROW
@pytest.mark.django_db
@pytest.mark.parametrize("name,read,expect", rows(LISTS))
def test_it_lists_exactly_what_is_in_scope(name, read, expect, scene, api, browser_client):
    def answer(persona):
        user = scene.people[persona]
        return read(scene, api.as_user(user), browser_client.as_user(user)), expect(persona)

    assert_row("list", name, answer)


# --- Validation actions on `mine`: only its assigned validator; 403 in scope, 404 outside --------------


def raise_finding(scene, client):
    body = {
        "model": "mine",
        "version": "1.0",
        "severity": "low",
        "title": "Unstable hyperparameters",
        "description": "Depth changes the sign of the signal.",
        "owner": "developer",
        "due_date": (TODAY + dt.timedelta(days=7)).isoformat(),
    }
    before = Finding.objects.count()
    response = client.post("/api/v1/findings/", body, format="json")
    return response, Finding.objects.count() == before + 1


def close_finding(scene, client):
    pk = scene.ids["finding_mine"]
    response = client.post(
        f"/api/v1/findings/{pk}/actions/", {"action": "close", "comment": "Verified."}, format="json"
    )
    return response, Finding.objects.get(pk=pk).status == "closed"


def submitted_version(scene):
    return workflow.version_transition(scene.world.developer, new_draft(scene.world), "submit")


def start_validation(scene, client):
    version = submitted_version(scene)
    url = "/api/v1/models/mine/versions/2.0/transitions/"
    response = client.post(url, {"action": "start_validation"}, format="json")
    return response, ModelVersion.objects.get(pk=version.pk).status == "in_validation"


def sign_validated(scene, client):
    version = workflow.version_transition(scene.world.validator, submitted_version(scene), "start_validation")
    body = {"action": "validate", "password": PASSWORD, "signoff": signoff_for(version, attach_report(scene, version))}
    response = client.post("/api/v1/models/mine/versions/2.0/transitions/", body, format="json")
    return response, ModelVersion.objects.get(pk=version.pk).status == "validated"


def attach_report(scene, version):
    return attach(scene.world.validator, version, "validation_report")


def only_the_validator(in_scope_, success):
    """The assigned validator succeeds; anyone else gets 403 when the target is in their scope, 404 otherwise."""
    return lambda p: success if p == ASSIGNED_VALIDATOR["mine"] else 403 if in_scope_(p) else 404


def resolve_challenge(scene, client):
    """The validator's challenge on mine's run: only a validator (its opener, the model's) resolves it."""
    pk = scene.ids["thread_run_mine"]
    response = client.post(f"/api/v1/threads/{pk}/resolve/", {"note": "Settled."}, format="json")
    return response, Thread.objects.get(pk=pk).status == "resolved"


def comment_on_thread(scene, client):
    pk = scene.ids["thread_version_mine"]
    before = Comment.objects.filter(thread_id=pk).count()
    response = client.post(f"/api/v1/threads/{pk}/comments/", {"body": "Seen."}, format="json")
    return response, Comment.objects.filter(thread_id=pk).count() == before + 1


def open_thread_on_run(scene, client):
    body = {"target_kind": "run", "target_id": scene.ids["run_mine"], "title": "Question", "body": "Why?"}
    before = Thread.objects.count()
    response = client.post("/api/v1/threads/", body, format="json")
    return response, Thread.objects.count() == before + 1


def takes_part_in(in_scope_, success):
    """Whoever sees the record writes in its threads, but auditors (they read); 404 out of scope."""
    return lambda p: 404 if not in_scope_(p) else 403 if p == "auditor" else success


ACTIONS = [
    ("raise-finding", raise_finding, only_the_validator(lambda p: sees(p, "mine"), 201)),
    ("close-finding", close_finding, only_the_validator(lambda p: reads_validation_work(p, "mine"), 200)),
    ("start-validation", start_validation, only_the_validator(lambda p: sees_work_in_progress(p, "mine"), 200)),
    ("sign-validated", sign_validated, only_the_validator(lambda p: sees_work_in_progress(p, "mine"), 200)),
    ("resolve-challenge", resolve_challenge, only_the_validator(lambda p: reads_validation_work(p, "mine"), 200)),
    ("comment-on-thread", comment_on_thread, takes_part_in(lambda p: sees(p, "mine"), 201)),
    ("open-thread-on-run", open_thread_on_run, takes_part_in(lambda p: reads_validation_work(p, "mine"), 201)),
]


def define_requirement(scene, client):
    body = {"duty": "trader", "kind": "training", "title": "Model validation training", "validity_months": 12}
    response = client.post("/api/v1/skills/requirements/", body, format="json")
    return response, Requirement.objects.filter(title="Model validation training").exists()


def record_completion(scene, client):
    body = {
        "person": "trader",
        "requirement": scene.ids["requirement_mine"],
        "completed_on": TODAY.isoformat(),
        "evidence": "Read it.",
    }
    response = client.post("/api/v1/skills/completions/", body, format="json")
    return response, Completion.objects.filter(evidence="Read it.").exists()


def retire_requirement(scene, client):
    pk = scene.ids["requirement_mine"]
    response = client.post(f"/api/v1/skills/requirements/{pk}/retire/", {"reason": "Superseded."}, format="json")
    return response, not Requirement.objects.get(pk=pk).active


def only_compliance(in_scope_, success):
    """Compliance writes skills (nobody certifies themselves: compliance records the trader's); anyone else gets
    403 when the target is in their scope, 404 otherwise."""
    return lambda p: success if p == "compliance" else 403 if in_scope_(p) else 404


SKILL_ACTIONS = [
    ("define-requirement", define_requirement, only_compliance(everyone, 201)),
    ("record-completion", record_completion, only_compliance(everyone, 201)),
    ("retire-requirement", retire_requirement, only_compliance(lambda p: sees(p, "mine"), 200)),
]


def _acting(scene, api, act, expect):
    """Each persona acts inside a savepoint that is rolled back after it: every attempt starts from the scene."""

    def answer(persona):
        with transaction.atomic():
            response, done = act(scene, api.as_user(scene.people[persona]))
            transaction.set_rollback(True)
        expected = expect(persona)
        return (response.status_code, done), (expected, expected < 300)

    return answer


@ROW
@pytest.mark.django_db
@pytest.mark.parametrize("name,act,expect", rows(SKILL_ACTIONS))
def test_it_lets_only_compliance_write_skills(name, act, expect, scene, api):
    assert_row("action", name, _acting(scene, api, act, expect))


@ROW
@pytest.mark.django_db
@pytest.mark.parametrize("name,act,expect", rows(ACTIONS))
def test_it_lets_only_the_assigned_validator_do_validation_work(name, act, expect, scene, api):
    assert_row("action", name, _acting(scene, api, act, expect))


def acknowledge_card(scene, client):
    version = scene.world.mine_v1
    limitations, hash_ = acks.current_card(version)
    answers = {q["id"]: q["answer"] for q in acks.questions(version, limitations, hash_)}
    body = {"card_hash": hash_, "answers": answers, "password": PASSWORD}
    response = client.post("/api/v1/models/mine/versions/1.0/card/acknowledgements/", body, format="json")
    return response, Acknowledgement.objects.filter(version=version).exists()


@ROW
@pytest.mark.django_db
def test_it_lets_only_the_desk_acknowledge_a_card(scene, api):
    """Acknowledging a card: the traders of its desk (201); 403 to others who see it, 404 to the rest."""

    def answer(persona):
        with transaction.atomic():
            response, done = acknowledge_card(scene, api.as_user(scene.people[persona]))
            transaction.set_rollback(True)
        expected = 404 if not sees(persona, "mine") else 201 if persona == "trader" else 403
        return (response.status_code, done), (expected, expected < 300)

    assert_row("action", "acknowledge-card", answer)


# --- Rules with a test of their own ----------------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_validation_work_to_a_validator_who_only_sees_the_model(scene, api):
    """Rule 1: seeing a model (a hand grant) is not being its validator: no finding, closure, start or sign."""
    granted = api.as_user(scene.people["validator_granted"])
    assert granted.get("/api/v1/models/mine/").status_code == 200
    assert granted.get(f"/api/v1/findings/{scene.ids['finding_mine']}/").status_code == 200
    for act in (raise_finding, close_finding):
        response, done = act(scene, granted)
        assert response.status_code == 403 and not done, act.__name__
    version = submitted_version(scene)
    url = "/api/v1/models/mine/versions/2.0/transitions/"
    assert granted.get(url).json()["available_actions"] == []
    assert granted.post(url, {"action": "start_validation"}, format="json").status_code == 403
    assert ModelVersion.objects.get(pk=version.pk).status == "submitted"
    version = workflow.version_transition(scene.world.validator, version, "start_validation")
    signoff = signoff_for(version, attach_report(scene, version))
    for action in ("validate", "validate_with_conditions", "reject"):
        body = {"action": action, "password": PASSWORD, "signoff": {**signoff, "conditions": "c"}, "comment": "c"}
        assert granted.post(url, body, format="json").status_code == 403, action
    assert ModelVersion.objects.get(pk=version.pk).status == "in_validation"
    assert not Signature.objects.filter(signer=scene.people["validator_granted"]).exists()
    # The same requests from the assigned validator go through: the role, not the request, was refused.
    validator = api.as_user(scene.world.validator)
    body = {"action": "validate", "password": PASSWORD, "signoff": signoff}
    assert validator.post(url, body, format="json").status_code == 200
    response, done = close_finding(scene, validator)
    assert response.status_code == 200 and done


@pytest.mark.django_db
def test_it_never_lets_the_person_who_submitted_a_version_approve_it(world, api):
    """Rule 2: submit is the team's, approval compliance's. A person holding both roles, who submitted as a
    developer and has since left the team, is still refused the approval, with the reason (409)."""
    both = UserFactory(username="dev_and_compliance", roles=["developer", "compliance"])
    registry_services.model_update(world.compliance, world.mine, developers=[world.developer, both])
    version = new_draft(world)
    url = "/api/v1/models/mine/versions/2.0/transitions/"
    assert api.as_user(both).post(url, {"action": "submit"}, format="json").status_code == 200
    registry_services.model_update(world.compliance, Model.objects.get(pk=world.mine.pk), developers=[world.developer])
    version = workflow.version_transition(world.validator, ModelVersion.objects.get(pk=version.pk), "start_validation")
    report = attach(world.validator, version, "validation_report")
    workflow.version_transition(
        world.validator, version, "validate", password=PASSWORD, signoff=signoff_for(version, report)
    )

    response = api.as_user(both).post(url, {"action": "approve_deployment", "password": PASSWORD}, format="json")
    assert response.status_code == 409, response.content
    reasons = response.json()["reasons"]
    assert len(reasons) == 1 and "You submitted this version" in reasons[0], reasons
    assert ModelVersion.objects.get(pk=version.pk).status == "validated"
    assert not Signature.objects.filter(signer=both, meaning="approved").exists()
    # Tier 2 needs one approval: any other compliance officer gives it.
    response = api.as_user(world.compliance).post(
        url, {"action": "approve_deployment", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "approved"


@pytest.mark.django_db
def test_it_needs_two_different_approvers_on_a_tier_1_model(world, api):
    """Rule 3: four eyes. The same officer cannot approve twice; the version waits in 'validated'."""
    compliance2 = UserFactory(username="compliance2", roles=["compliance"])
    registry_services.model_update(
        world.compliance, world.mine, tier_override=1, tier_override_justification="Feeds the firm's VaR."
    )
    version = to_validated(world, new_draft(world))
    assert Model.objects.get(pk=world.mine.pk).risk_tier == 1
    url = "/api/v1/models/mine/versions/2.0/transitions/"
    approve = {"action": "approve_deployment", "password": PASSWORD}

    first = api.as_user(world.compliance).post(url, approve, format="json")
    assert first.status_code == 200 and first.json()["status"] == "validated"
    again = api.as_user(world.compliance).post(url, approve, format="json")
    assert again.status_code == 409
    assert any("already approved" in reason for reason in again.json()["reasons"])
    assert ModelVersion.objects.get(pk=version.pk).status == "validated"
    assert Signature.objects.filter(meaning="approved", object_id=str(version.pk)).count() == 1

    second = api.as_user(compliance2).post(url, approve, format="json")
    assert second.status_code == 200 and second.json()["status"] == "approved"
    signers = Signature.objects.filter(meaning="approved", object_id=str(version.pk)).values_list("signer", flat=True)
    assert sorted(signers) == sorted([world.compliance.pk, compliance2.pk])


@pytest.mark.django_db
def test_it_hides_all_of_mine_from_a_trader_of_another_desk(scene, api, browser_client):
    """Rule 4: `mine` trades on sys-eq; a rates trader gets 404 everywhere on it, yet sees `theirs`."""
    trader = scene.people["trader_other_desk"]
    client, pages = api.as_user(trader), browser_client.as_user(trader)
    for url in [
        "/api/v1/models/mine/",
        "/api/v1/models/mine/versions/",
        "/api/v1/models/mine/versions/1.0/",
        "/api/v1/models/mine/versions/1.0/transitions/",
        "/api/v1/models/mine/versions/1.0/evidence/",
    ]:
        assert client.get(url).status_code == 404, url
    for url in ["/models/mine/", "/models/mine/versions/1.0/"]:
        assert pages.get(url).status_code == 404, url
    assert {row["key"] for row in client.get("/api/v1/models/").json()["results"]} == {"theirs"}
    assert client.get("/api/v1/models/theirs/").status_code == 200
    assert pages.get("/models/theirs/").status_code == 200


@pytest.mark.django_db
def test_it_answers_404_on_mine_to_the_owner_of_another_model(scene, api, browser_client):
    """Rule 5: owner2 owns `theirs` only; `mine` does not exist for them, not even to be refused (403)."""
    owner_other = scene.people["owner_other"]
    client, pages = api.as_user(owner_other), browser_client.as_user(owner_other)
    assert client.get("/api/v1/models/mine/").status_code == 404
    assert client.patch("/api/v1/models/mine/", {"name": "Taken over"}, format="json").status_code == 404
    assert client.get("/api/v1/models/mine/versions/1.0/").status_code == 404
    assert client.post("/api/v1/models/mine/versions/1.0/transitions/", {"action": "suspend"}).status_code == 404
    assert client.get(f"/api/v1/findings/{scene.ids['finding_mine']}/").status_code == 404
    assert pages.get("/models/mine/").status_code == 404
    assert pages.get("/models/mine/edit/").status_code == 404
    assert Model.objects.get(key="mine").name != "Taken over"
    assert client.get("/api/v1/models/theirs/").status_code == 200
