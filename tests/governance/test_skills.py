"""Skills kept current (issue 24): requirements, completions, what a lapse blocks and whom it warns."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from governance.core.exceptions import Conflict
from governance.core.models import AuditEvent, Notification
from governance.lifecycle import workflow
from governance.skills import access as skills_access
from governance.skills import selectors, services
from governance.skills.models import Completion, Duty, Requirement
from models_registry.models import ModelVersion
from risk.gate import access as gate_access
from tests.factories import PASSWORD, UserFactory
from tests.governance.lifecycle_helpers import attach, new_draft, signoff_for, to_validated
from tests.outbox import deliver

TODAY = dt.date(2026, 12, 7)
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def requirement(world, duty="validator", **values):
    fields = {"kind": "training", "title": f"{duty} training", "validity_months": 12} | values
    return services.requirement_create(world.compliance, duty=duty, **fields)


def complete(world, person, req, on):
    return services.completion_record(world.compliance, person=person, requirement=req, completed_on=on, evidence="C-1")


# --- Expiry arithmetic and status --------------------------------------------------------------------------------


def test_it_adds_months_to_the_same_day_or_the_months_last():
    assert selectors.expiry(dt.date(2026, 3, 15), 12) == dt.date(2027, 3, 15)
    assert selectors.expiry(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert selectors.expiry(dt.date(2027, 12, 31), 2) == dt.date(2028, 2, 29)
    assert selectors.expiry(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_it_says_current_due_soon_lapsed_and_missing_as_the_days_pass(world):
    req = requirement(world)
    assert [r.pk for r in selectors.lapsed(world.validator, Duty.VALIDATOR, world.mine)] == [req.pk]  # missing
    done = complete(world, world.validator, req, dt.date(2026, 1, 10))
    assert done.expires_on == dt.date(2027, 1, 10)
    assert selectors.lapsed(world.validator, Duty.VALIDATOR, world.mine) == []
    assert selectors.due_soon(world.validator, Duty.VALIDATOR) == []  # 34 days ahead
    soon = selectors.due_soon(world.validator, Duty.VALIDATOR, on=dt.date(2026, 12, 11))
    assert [(r.pk, r.holds_until) for r in soon] == [(req.pk, done.expires_on)]
    assert selectors.due_soon(world.validator, Duty.VALIDATOR, on=dt.date(2026, 12, 1)) == []
    # The day it expires it has lapsed.
    lapsed = selectors.lapsed(world.validator, Duty.VALIDATOR, world.mine, on=dt.date(2027, 1, 10))
    assert [(r.pk, r.holds_until) for r in lapsed] == [(req.pk, dt.date(2027, 1, 10))]
    assert selectors.lapsed(world.validator, Duty.VALIDATOR, world.mine, on=dt.date(2027, 1, 9)) == []
    statuses = {
        day: selectors.status_of(done.expires_on, day)
        for day in (dt.date(2026, 12, 10), dt.date(2026, 12, 11), dt.date(2027, 1, 10))
    }
    assert statuses == {
        dt.date(2026, 12, 10): "current",
        dt.date(2026, 12, 11): "due_soon",
        dt.date(2027, 1, 10): "lapsed",
    }


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_it_binds_a_validator_only_by_the_scope_of_their_models(world):
    other_type = "deep_learning" if world.mine.model_type != "deep_learning" else "svm"
    by_type = requirement(world, title="Deep nets", scope="model_type", model_type=other_type)
    on_theirs = requirement(world, title="Theirs only", scope="model", model=world.theirs)
    on_mine = requirement(world, title="Mine only", scope="model", model=world.mine)
    assert [r.pk for r in selectors.lapsed(world.validator, Duty.VALIDATOR, world.mine)] == [on_mine.pk]
    assert {r.pk for r in selectors.lapsed(world.validator2, Duty.VALIDATOR)} == {on_theirs.pk}
    assert by_type.pk not in {line.requirement.pk for line in selectors.person_lines(world.validator)}


# --- Writes: compliance only, audited, bad input refused whole -----------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_only_compliance_defines_requirements_and_records_completions(world):
    for person in (world.validator, world.auditor, world.owner, world.trader):
        with pytest.raises(PermissionDenied):
            services.requirement_create(person, duty="validator", kind="training", title="X", validity_months=12)
    assert not Requirement.objects.exists()
    req = requirement(world)
    with pytest.raises(PermissionDenied):
        services.completion_record(
            world.validator, person=world.validator, requirement=req, completed_on=TODAY, evidence="mine"
        )
    compliance2 = UserFactory(username="compliance2", roles=["compliance"])
    kill = requirement(world, duty="kill_switch", title="Kill switch drill")
    with pytest.raises(ValidationError) as refused:
        complete(world, world.compliance, kill, TODAY)  # nobody certifies themselves
    assert "person" in refused.value.message_dict
    complete(world, compliance2, kill, TODAY)
    assert Completion.objects.count() == 1
    actions = list(AuditEvent.objects.filter(action__startswith="skills.").values_list("action", "actor_username"))
    assert actions == [
        ("skills.requirement_created", "compliance"),
        ("skills.requirement_created", "compliance"),
        ("skills.completion_recorded", "compliance"),
    ]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_it_names_every_bad_field_and_writes_nothing(world):
    with pytest.raises(ValidationError) as refused:
        services.requirement_create(
            world.compliance, duty="pilot", kind="exam", title=" ", validity_months=0, scope="model"
        )
    assert set(refused.value.message_dict) == {"duty", "kind", "title", "validity_months", "model"}
    req = requirement(world)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.completion_record(
            world.compliance,
            person=world.trader,
            requirement=req,
            completed_on=TODAY + dt.timedelta(days=1),
            evidence="",
        )
    assert set(refused.value.message_dict) == {"person", "completed_on", "evidence"}
    assert not Completion.objects.exists() and AuditEvent.objects.count() == before
    services.requirement_retire(world.compliance, req, "Replaced by the new curriculum.")
    with pytest.raises(Conflict):
        complete(world, world.validator, req, TODAY)
    assert selectors.lapsed(world.validator, Duty.VALIDATOR, world.mine) == []  # retired: binds nobody


# --- What a lapse blocks ---------------------------------------------------------------------------------------------


def in_validation(world):
    version = workflow.version_transition(world.developer, new_draft(world), "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    return version, attach(world.validator, version, "validation_report")


@pytest.mark.django_db
def test_a_validator_whose_training_lapsed_cannot_sign_and_signs_once_it_is_current(world):
    version, report = in_validation(world)
    req = requirement(world, title="Model validation training")
    complete(world, world.validator, req, dt.date.today() - dt.timedelta(days=400))
    lapsed_on = selectors.expiry(dt.date.today() - dt.timedelta(days=400), 12)
    for action in workflow.SIGNOFF_ACTIONS:
        available = {a.action: a for a in workflow.available_actions(world.validator, version)}
        assert not available[action].allowed
        assert any(
            "“Model validation training”" in reason and f"lapsed on {lapsed_on:%Y-%m-%d}" in reason
            for reason in available[action].reasons
        ), available[action].reasons
    with pytest.raises(Conflict) as refused:
        workflow.version_transition(
            world.validator, version, "validate", password=PASSWORD, signoff=signoff_for(version, report)
        )
    assert any("Model validation training" in r for r in refused.value.reasons)
    assert ModelVersion.objects.get(pk=version.pk).status == "in_validation"
    complete(world, world.validator, req, dt.date.today() - dt.timedelta(days=3))
    signed = workflow.version_transition(
        world.validator, version, "validate", password=PASSWORD, signoff=signoff_for(version, report)
    )
    assert signed.status == "validated"


@pytest.mark.django_db
def test_compliance_whose_requirement_lapsed_cannot_approve(world):
    version = to_validated(world, new_draft(world))
    requirement(world, duty="compliance", title="Model risk policy certification")
    with pytest.raises(Conflict) as refused:
        workflow.version_transition(world.compliance, version, "approve_deployment", password=PASSWORD)
    assert any("Model risk policy certification" in r and "never been completed" in r for r in refused.value.reasons)
    assert ModelVersion.objects.get(pk=version.pk).status == "validated"


@pytest.mark.django_db
def test_a_lapsed_kill_switch_drill_warns_but_never_stops_the_kill_switch(world, browser_client):
    from risk.gate import killswitch  # the gate is above skills: only the test reads both

    requirement(world, duty="kill_switch", title="Kill switch drill")
    assert [line.status for line in selectors.needs_attention(world.compliance)] == ["missing"]
    stop = killswitch.kill_switch_engage(
        world.compliance,
        scope="model",
        model=world.mine,
        reason="Runaway orders on the primary venue.",
        password=PASSWORD,
    )
    assert stop.pk and ModelVersion.objects.get(pk=world.mine_v1.pk).status == "suspended"
    page = browser_client.as_user(world.compliance).get("/inbox/")
    assert "Kill switch drill" in page.content.decode()


@pytest.mark.django_db
def test_the_kill_switch_duty_follows_the_gates_rule(world):
    for person in (world.compliance, world.validator, world.trader, world.auditor, world.admin):
        assert skills_access.holds_duty(person, Duty.KILL_SWITCH) == gate_access.uses_kill_switch(person), person


# --- Warnings ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_daily_warning_tells_each_person_once_before_and_once_after_a_lapse(world):
    req = requirement(world, title="Model validation training")
    with time_machine.travel(NOW, tick=False):
        complete(world, world.validator, req, dt.date(2026, 1, 1))  # lapses 2027-01-01: 25 days ahead
        assert services.warn_expiring() == {"due_soon": 1, "lapsed": 0}
        assert services.warn_expiring() == {"due_soon": 0, "lapsed": 0}
        deliver()
        assert services.warn_expiring() == {"due_soon": 0, "lapsed": 0}
    told = list(
        Notification.objects.filter(user=world.validator, kind="skill_expiry").values_list("message", flat=True)
    )
    assert told == [
        "Your Model validation training lapses on 2027-01-01: renew it before then. "
        "Until it is current again you cannot sign."
    ]
    assert [m.to for m in mail.outbox if "Model validation training" in m.subject] == [[world.validator.email]]
    with time_machine.travel(dt.datetime(2027, 1, 2, 6, tzinfo=dt.UTC), tick=False):
        assert services.warn_expiring() == {"due_soon": 0, "lapsed": 1}
        deliver()
        assert services.warn_expiring() == {"due_soon": 0, "lapsed": 0}
        # A newer completion ends the warnings of the older one.
        complete(world, world.validator, req, dt.date(2027, 1, 2))
        assert services.warn_expiring() == {"due_soon": 0, "lapsed": 0}
    assert Notification.objects.filter(user=world.validator, kind="skill_expiry").count() == 2


# --- Pages and API -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_skills_page_is_compliances_to_write_and_auditors_to_read(world, browser_client):
    req = requirement(world, title="Model validation training")
    complete(world, world.validator, req, dt.date(2026, 1, 1))
    assert browser_client.as_user(world.validator).get("/skills/").status_code == 404
    assert browser_client.as_user(world.validator).post("/skills/requirements/new/", {}).status_code == 404
    auditor = browser_client.as_user(world.auditor)
    page = auditor.get("/skills/")
    assert (
        page.status_code == 200
        and "Due soon" in page.content.decode()
        and "requirement-form" not in page.content.decode()
    )
    body = {"duty": "trader", "kind": "certification", "title": "Algo cert", "validity_months": "12", "scope": "any"}
    assert auditor.post("/skills/requirements/new/", body).status_code == 403
    compliance = browser_client.as_user(world.compliance)
    bad = compliance.post("/skills/requirements/new/", body | {"validity_months": "0", "scope": "model", "model": ""})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'data-field="validity_months"' in html and 'data-field="model"' in html
    assert Requirement.objects.count() == 1
    assert compliance.post("/skills/requirements/new/", body).status_code == 302
    assert Requirement.objects.filter(title="Algo cert", duty="trader").exists()
    record = {"requirement": req.pk, "person": "validator", "completed_on": "2026-12-01", "evidence": "Cert 77"}
    assert compliance.post("/skills/completions/new/", record | {"person": "nobody"}).status_code == 400
    assert compliance.post("/skills/completions/new/", record).status_code == 302
    mine = browser_client.as_user(world.validator).get("/skills/me/").content.decode()
    assert "Model validation training" in mine and "Current" in mine and "2027-12-01" in mine


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_api_scopes_reads_and_refuses_writes_but_compliances(world, api):
    on_theirs = requirement(world, title="Theirs only", scope="model", model=world.theirs)
    anyone = requirement(world, title="Everyone's")
    complete(world, world.validator2, on_theirs, dt.date(2026, 6, 1))
    validator = api.as_user(world.validator)
    listed = {row["title"] for row in validator.get("/api/v1/skills/requirements/").json()["results"]}
    assert listed == {"Everyone's"}
    assert validator.get(f"/api/v1/skills/requirements/{on_theirs.pk}/").status_code == 404
    assert (
        validator.patch(f"/api/v1/skills/requirements/{on_theirs.pk}/", {"title": "x"}, format="json").status_code
        == 404
    )
    assert (
        validator.patch(f"/api/v1/skills/requirements/{anyone.pk}/", {"title": "x"}, format="json").status_code == 403
    )
    assert validator.get("/api/v1/skills/completions/").json()["count"] == 0
    assert api.as_user(world.validator2).get("/api/v1/skills/completions/").json()["count"] == 1
    assert api.as_user(world.auditor).get("/api/v1/skills/completions/").json()["count"] == 1
    body = {"duty": "trader", "kind": "certification", "title": "Algo cert", "validity_months": 12}
    assert api.as_user(world.auditor).post("/api/v1/skills/requirements/", body, format="json").status_code == 403
    compliance = api.as_user(world.compliance)
    bad = compliance.post("/api/v1/skills/requirements/", body | {"validity_months": 500}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"validity_months"}
    bad = compliance.post("/api/v1/skills/requirements/", body | {"scope": "model"}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"model"}
    assert compliance.post("/api/v1/skills/requirements/", body, format="json").status_code == 201
    record = {"person": "trader", "requirement": anyone.pk, "completed_on": "2026-12-01", "evidence": "x"}
    refused = compliance.post("/api/v1/skills/completions/", record, format="json")
    assert refused.status_code == 400 and set(refused.json()) == {"person"}  # a trader holds no validator duty
    record["person"] = "validator"
    done = compliance.post("/api/v1/skills/completions/", record, format="json")
    assert done.status_code == 201 and done.json()["expires_on"] == "2027-12-01"
    validator = api.as_user(world.validator)  # one client: as_user changes who it is
    mine = {row["requirement"]["title"]: row["status"] for row in validator.get("/api/v1/skills/me/").json()}
    assert mine == {"Everyone's": "current"}
    compliance = api.as_user(world.compliance)
    changed = compliance.patch(f"/api/v1/skills/requirements/{anyone.pk}/", {"validity_months": 6}, format="json")
    assert changed.status_code == 200 and changed.json()["validity_months"] == 6
    bad = compliance.patch(f"/api/v1/skills/requirements/{anyone.pk}/", {"scope": "model"}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"model"}


@pytest.mark.django_db
def test_the_evidence_pack_carries_the_skills_of_who_validated_approved_and_trades(world):
    from risk.exports import evidence_pack  # exports is above skills: only the test reads both

    validation = requirement(world, title="Model validation training")
    trading = requirement(world, duty="trader", kind="certification", title="Algorithmic trading certification")
    complete(world, world.validator, validation, dt.date.today() - dt.timedelta(days=10))
    rows = evidence_pack.records(world.mine_v1, world.compliance)["skills"]
    got = {(row["username"], row["part"], row["requirement"], row["status"]) for row in rows}
    assert got == {
        ("validator", "validated", "Model validation training", "current"),
        ("trader", "trades", "Algorithmic trading certification", "missing"),
    }
    assert [c["evidence"] for row in rows for c in row["completions"]] == ["C-1"]
    assert trading.pk in {row["requirement_id"] for row in rows}


@pytest.mark.django_db
def test_the_kill_switch_page_warns_of_a_lapsed_drill_and_still_offers_the_switch(world, browser_client):
    requirement(world, duty="kill_switch", title="Kill switch drill")
    html = browser_client.as_user(world.compliance).get("/kill-switch/").content.decode()
    assert 'data-testid="lapsed-drills"' in html and "never stops you pulling the kill switch" in html
    assert 'data-testid="engage"' in html  # the engage form is still there
    auditor = browser_client.as_user(world.auditor).get("/kill-switch/").content.decode()
    assert 'data-testid="lapsed-drills"' not in auditor


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_change_of_validity_is_audited_and_leaves_recorded_expiries_alone(world):
    req = requirement(world, title="Model validation training")
    done = complete(world, world.validator, req, dt.date(2026, 6, 1))
    services.requirement_change(world.compliance, req, validity_months=24, reason="Two-year curriculum.")
    event = AuditEvent.objects.get(action="skills.requirement_changed")
    assert event.changes == {"validity_months": [12, 24]} and event.reason == "Two-year curriculum."
    assert Completion.objects.get(pk=done.pk).expires_on == dt.date(2027, 6, 1)
    assert complete(world, world.validator, req, dt.date(2026, 12, 1)).expires_on == dt.date(2028, 12, 1)
    with pytest.raises(PermissionDenied):
        services.requirement_change(world.auditor, req, validity_months=6)
    with pytest.raises(ValidationError) as refused:
        services.requirement_change(world.compliance, req, scope="model_type")
    assert set(refused.value.message_dict) == {"model_type"}
    assert Requirement.objects.get(pk=req.pk).validity_months == 24


@pytest.mark.django_db
def test_the_matrix_binds_as_applicable_does_and_its_queries_do_not_grow_with_people(
    world, django_assert_max_num_queries
):
    """Each cell binds exactly where `applicable` says; the page reads a fixed number of queries (it read two per
    person and duty before)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.skills import selectors
    from governance.skills import services as skills
    from tests.factories import UserFactory

    skills.requirement_create(world.compliance, duty="validator", kind="training", title="All", validity_months=12)
    skills.requirement_create(
        world.compliance,
        duty="trader",
        scope="model",
        model=world.mine,
        kind="card_reading",
        title="Mine",
        validity_months=12,
    )
    skills.requirement_create(
        world.compliance,
        duty="validator",
        scope="model_type",
        model_type=world.theirs.model_type,
        kind="training",
        title="Their type",
        validity_months=12,
    )
    requirements, rows = selectors.matrix()
    for row in rows:
        expected = set()
        for duty in skills_access.duties_of(row.person):
            expected |= set(selectors.applicable(row.person, duty).values_list("pk", flat=True))
        assert {r.pk for r, cell in zip(requirements, row.cells, strict=True) if cell} == expected, row.person
    with CaptureQueriesContext(connection) as few:
        selectors.matrix()
    for n in range(5):
        UserFactory(username=f"extra-trader-{n}", roles=["trader"], desk=world.desk)
        UserFactory(username=f"extra-validator-{n}", roles=["validator"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        selectors.matrix()
