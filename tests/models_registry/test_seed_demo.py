import datetime as dt
import hashlib
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command

from governance.core import access as perms
from governance.core.audit import verify_chain
from governance.core.models import AuditEvent
from models_registry.models import DataSource, Model, ModelVersion
from tests.conftest import DEMO_PASSWORD

pytestmark = [
    pytest.mark.slow(
        reason="seeds the whole demo firm (25 models walked through the signed lifecycle) as make run does, once per "
        "session (the demo_firm snapshot)"
    ),
]

User = get_user_model()
DEMO_USERS = [
    "developer",
    "developer2",
    "owner",
    "validator",
    "validator2",
    "compliance",
    "compliance2",
    "auditor",
    "trader",
    "admin",
]


@pytest.mark.django_db
def test_it_builds_a_believable_firm_and_is_idempotent(demo_firm):
    counts = (
        Model.objects.count(),
        ModelVersion.objects.count(),
        DataSource.objects.count(),
        User.objects.count(),
        AuditEvent.objects.count(),
    )
    call_command("seed_demo", password="demo-password-123")
    assert (
        Model.objects.count(),
        ModelVersion.objects.count(),
        DataSource.objects.count(),
        User.objects.count(),
        AuditEvent.objects.count(),
    ) == counts
    assert 20 <= counts[0] <= 30
    assert set(DEMO_USERS) <= set(User.objects.values_list("username", flat=True))
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="trader").check_password("demo-password-123")
    assert set(Model.objects.values_list("purpose", flat=True)) >= {"alpha", "execution", "risk", "pricing"}
    assert set(Model.objects.values_list("risk_tier", flat=True)) == {1, 2, 3}
    assert DataSource.objects.filter(kind="alternative", classification="restricted").exists()
    assert verify_chain().intact
    # What seeding told people is delivered and read: demo users start from their queue, not a backlog.
    from governance.core.models import Event, Notification

    assert Notification.objects.exists() and not Notification.objects.filter(read_at__isnull=True).exists()
    assert not Event.objects.filter(status="pending").exists()


@pytest.mark.django_db
def test_it_gives_every_role_something_to_see(demo_firm, client):
    # Every version in validation carries the files its run reads: each choice of its validator's run form
    # offers one (a returns file, the training sample, the prediction log, the trial returns, as the plan reads).
    from risk.validation import runs as validation

    in_validation = ModelVersion.objects.filter(status="in_validation").select_related("model__validator")
    assert in_validation.count() >= 3
    for version in in_validation:
        validation.plan_save(version.model.validator, version)
        client.force_login(version.model.validator)
        page = client.get(f"/models/{version.model.key}/versions/{version.version}/").content.decode()
        form = re.search(r'data-testid="run-form">(.*?)</form>', page, re.S)
        assert form, version
        choices = dict(re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', form.group(1), re.S))
        assert {"dataset", "reference"} <= set(choices), version
        assert all(re.search(r'<option value="\d+">', options) for options in choices.values()), (version, choices)
    visible = {u.username: perms.restrict(Model.objects.all(), u).count() for u in User.objects.all()}
    total = Model.objects.count()
    assert visible["compliance"] == visible["auditor"] == visible["admin"] == total
    for name in ["developer", "developer2", "owner", "validator", "validator2", "trader"]:
        assert 0 < visible[name] < total, name
    restricted = DataSource.objects.get(classification="restricted")
    developer, developer2 = User.objects.get(username="developer"), User.objects.get(username="developer2")
    assert perms.can(developer, perms.VIEW, restricted) and not perms.can(developer2, perms.VIEW, restricted)


@pytest.mark.django_db
def test_it_prints_generated_passwords_that_work(capsys, settings, tmp_path):
    # The people and the report of a first seed without --password, and of a second: the history between them
    # (minutes of it) adds nothing to what this checks, and the demo_firm tests run the whole command.
    from governance.demo.management.commands.seed_demo import Command

    settings.VAR_DIR = tmp_path
    command = Command()
    command._report(command._users(None), None)
    out = capsys.readouterr().out
    logins = dict(line.split() for line in out.splitlines() if line.startswith("  "))
    assert set(DEMO_USERS) <= set(logins)
    assert User.objects.get(username="validator").check_password(logins["validator"])
    command._report(command._users(None), None)  # a second run keeps the passwords and prints them again
    again = dict(line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("  "))
    assert again == logins
    assert User.objects.get(username="validator").check_password(logins["validator"])


@pytest.mark.django_db
@pytest.mark.parametrize("seed_fails", [False, True])
def test_it_signs_with_a_quick_hash_but_stores_every_password_with_the_configured_hasher(
    seed_fails, capsys, settings, tmp_path, monkeypatch
):
    # The real seed only differs in what _seed builds between setting the passwords and returning.
    from django.contrib.auth.hashers import identify_hasher

    from governance.demo.management.commands.seed_demo import Command

    settings.VAR_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    seen = {}

    def seed(command, password, logins):
        logins.update(command._users(password))
        user = User.objects.get(username="validator")
        seen["while seeding"] = identify_hasher(user.password).algorithm
        seen["signs"] = user.check_password(password)
        if seed_fails:
            raise RuntimeError("a step of the history failed")

    monkeypatch.setattr(Command, "_seed", seed)
    if seed_fails:
        with pytest.raises(RuntimeError):
            Command().handle(password=DEMO_PASSWORD)
    else:
        Command().handle(password=DEMO_PASSWORD)
    assert seen == {"while seeding": "md5", "signs": True}
    stored = {identify_hasher(u.password).algorithm for u in User.objects.all()}
    assert stored == {"pbkdf2_sha256"}
    assert User.objects.get(username="validator").check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_it_links_feeder_models_and_shows_what_breaks(demo_firm):
    from governance.core.models import Desk
    from models_registry import selectors
    from tests.factories import UserFactory

    compliance = User.objects.get(username="compliance")
    vwap = Model.objects.get(key="exec-vwap-eq")
    assert [m.key for m in selectors.upstream_models(compliance, vwap)] == ["exec-impact-model"]
    var = Model.objects.get(key="risk-var-hs")
    impact = {m.key for m in selectors.impact_of_model(compliance, var)}
    assert impact == {"exec-impact-model", "exec-vwap-eq", "exec-smart-router", "risk-stress-ml"}
    # A trader sees only the part of the blast radius that is on their desk and tradeable: the demo trader
    # (Systematic Equities) none of it; a trader of the execution desk its three tradeable execution models,
    # not the stress generator (another desk, still in validation).
    trader = User.objects.get(username="trader")
    assert {m.key for m in selectors.impact_of_model(trader, var)} == set()
    exec_trader = UserFactory(username="exec-trader", roles=["trader"], desk=Desk.objects.get(code="exec"))
    assert {m.key for m in selectors.impact_of_model(exec_trader, var)} == {
        "exec-impact-model",
        "exec-vwap-eq",
        "exec-smart-router",
    }


@pytest.mark.django_db
def test_the_demo_validation_path_runs_end_to_end(demo_firm):
    from governance.lifecycle import workflow
    from risk.validation import plans
    from risk.validation import runs as validation
    from risk.validation.models import Evidence

    cost = "cost_breakeven_multiple"
    version = ModelVersion.objects.select_related("model").get(model__key="eq-card-spend", version="1.0")
    validator = User.objects.get(username="validator")
    version = workflow.version_transition(validator, version, "start_validation")
    files = {e.original_name.removeprefix("eq-card-spend-"): e for e in Evidence.objects.filter(version=version)}
    plan = validation.plan_save(validator, version, options={"split_date": "2025-01-01", "pbo_blocks": 8})
    assert plan.template == "strategy_classifier"  # a random-forest alpha signal: returns and predictions
    run = validation.run_start(
        validator,
        version,
        files["backtest.csv"],
        trial_returns=files["trials.csv"],
        prediction_log=files["predictions.csv"],
        reference=files["training.csv"],
    )
    assert validation.run_execute(run.pk) == "succeeded"
    run.refresh_from_db()
    outcomes = {r["test"]: r["outcome"] for r in run.results}
    assert {"sharpe", "sharpe_gap", "deflated_sharpe", "pbo", "sharpe_high_vol", "precision", "recall"} <= set(outcomes)
    assert {"psi card_spend_z", "ks momentum_z", "accuracy_gap", "accuracy_high_vol"} <= set(outcomes)
    # Every test the demo's files can feed is graded: nothing the demo shows is skipped but what needs the model
    # (this version has no ONNX file, and the run says so), attributions, or costs (its backtest has no positions).
    skipped = {r["test"]: r.get("reason") for r in run.results if r["outcome"] == "skipped"}
    needs_model = plans.MODEL_METRICS
    assert [t for t in skipped if not t.startswith("re-perform") and t not in needs_model | {cost}] == []
    assert {skipped[t] for t in needs_model} == {"the model could not be run: no ONNX file was chosen for this run"}
    assert skipped[cost] == "the plan states no cost per unit of turnover (cost_per_turnover)"
    assert outcomes["challenger_margin"] in ("pass", "warn", "fail")  # the training sample is enough for it
    assert outcomes["scenario_max_drawdown"] in ("pass", "warn", "fail")  # March 2023 and August 2024 are inside
    assert run.report.kind == "validation_report"


@pytest.mark.django_db
def test_the_random_forest_alpha_model_ships_as_onnx_and_its_signed_run_re_performs_it(demo_firm):
    from governance.core.models import Signature
    from governance.demo import demo_model
    from risk.validation.models import ValidationRun

    version = ModelVersion.objects.get(model__key=demo_model.MODEL_KEY, version="1.1")
    signature = Signature.objects.get(object_id=str(version.pk), meaning__startswith="validated")
    run = ValidationRun.objects.get(pk=signature.payload["validation_run"]["id"])
    assert (
        run.model.kind == "model_onnx"
        and run.model.sha256 == hashlib.sha256(demo_model.MODEL_FILE.read_bytes()).hexdigest()
    )
    assert [run.model.pk, run.model.sha256] in signature.payload["evidence"]  # the signature pins the file
    reproduce = next(r for r in run.results if r["metric"] == "predictions_reproduce")
    assert (reproduce["outcome"], reproduce["value"]) == ("pass", 0)
    assert reproduce["reason"].startswith("all 756 rows reproduce (compared y_pred exactly and y_score within")
    # The model Vigil runs is explained and challenged: importance of both features, the challenger fitted on the
    # training sample the forest was built from.
    outcomes = {r["metric"]: r["outcome"] for r in run.results}
    assert outcomes["importance_significant"] in ("pass", "fail") and outcomes["perturbation_drop"] != "skipped"
    assert set(run.charts["importance"]["feature"]) == set(demo_model.FEATURES)
    assert run.charts["challenger"]["complexity"] == run.version.model.complexity_rating


def test_the_demo_onnx_model_is_what_its_script_builds():
    from governance.demo import build_onnx_model, demo_model

    assert build_onnx_model.build() == demo_model.MODEL_FILE.read_bytes()
    assert len(demo_model.MODEL_FILE.read_bytes()) < 50_000  # few shallow trees


@pytest.mark.django_db
def test_every_demo_version_got_where_it_is_through_the_lifecycle(demo_firm):
    from governance.core.policy import policy_in_force
    from governance.core.signatures import verify
    from governance.lifecycle import workflow
    from governance.lifecycle.models import PilotPlan

    assert not AuditEvent.objects.filter(action__endswith="status_seeded").exists()  # no status set by hand
    moved = ModelVersion.objects.exclude(status="draft").prefetch_related("transitions")
    assert moved.count() >= 20
    for version in moved:
        steps = sorted(version.transitions.all(), key=lambda t: (t.at, t.id))
        assert steps[0].action == "submit" and steps[0].from_status == "draft", version
        assert all(a.to_status == b.from_status for a, b in zip(steps, steps[1:], strict=False)), version
        assert steps[-1].to_status == version.status, version
    policy = policy_in_force()
    production = ModelVersion.objects.filter(status="production").select_related("model")
    assert production.count() >= 5
    for version in production:
        signed = version_signatures(version)
        meanings = [s.meaning for s in signed]
        assert meanings.count("validated") + meanings.count("validated_with_conditions") == 1, version
        assert meanings.count("approved") == policy.approvals_for(version.model.risk_tier), version
        assert all(verify(s)[0] for s in signed), version
        assert PilotPlan.objects.filter(version=version).exists(), version
    # A production model with an earlier production version rolls back to it, as compliance would.
    current = production.filter(version="1.1").first()
    assert current is not None
    compliance = User.objects.get(username="compliance")
    workflow.version_transition(compliance, current, "rollback", comment="Demo rollback.")
    assert ModelVersion.objects.get(model=current.model, version="1.0").status == "production"


@pytest.mark.django_db
def test_every_decision_cites_a_policy_published_before_it(demo_firm):
    # The demo's year is made with the clock set back a year: the policy each step and signature cites was
    # published before it (version 1, Vigil's defaults, is in force from the start; migrate does not date it).
    from django.db.models import F

    from governance.core.models import Signature
    from governance.lifecycle.models import VersionTransition

    assert VersionTransition.objects.filter(policy__version=1).count() >= 20
    assert not VersionTransition.objects.filter(at__lte=F("policy__published_at")).exists()
    assert Signature.objects.filter(policy__version=1).exists()
    assert not Signature.objects.filter(signed_at__lte=F("policy__published_at")).exists()


def version_signatures(version):
    from governance.core.models import Signature

    return list(Signature.objects.filter(object_type="models_registry.modelversion", object_id=str(version.pk)))


# --- The demo firm's year: made by the services with the clock set back (governance/demo/history.py) ---------


@pytest.mark.django_db
def test_every_validation_date_is_the_day_of_a_passed_validation_run(demo_firm):
    # The record agrees with itself: the inventory's "last validated" is the day the model's validator signed,
    # on a run of its plan that succeeded that day, not the day the demo was seeded.
    from django.utils import timezone

    from risk.validation.models import ValidationRun

    validated = Model.objects.exclude(last_validated_at=None)
    assert validated.count() >= 15
    today = timezone.now().date()
    for model in validated:
        runs = ValidationRun.objects.filter(version__model=model, status="succeeded")
        assert model.last_validated_at in {r.finished_at.date() for r in runs}, model.key
        dated = AuditEvent.objects.filter(object_id=str(model.pk), action="model.validation_dated").latest("id")
        assert dated.timestamp.date() == model.last_validated_at, model.key
    # Spread over the year, not all on one day: some are overdue or coming due, as in a real inventory.
    dates = set(validated.values_list("last_validated_at", flat=True))
    assert len(dates) >= 10 and min(dates) < today - dt.timedelta(days=300) and max(dates) < today
    assert Model.objects.filter(next_validation_due__lt=today).exists()
    momentum = Model.objects.get(key="eq-momentum-us")
    assert momentum.last_validated_at < today


@pytest.mark.django_db
def test_the_inventory_as_of_half_a_year_ago_is_what_stood_then(demo_firm):
    from django.utils import timezone

    from risk.exports import inventory
    from risk.exports import services as exports

    compliance = User.objects.get(username="compliance")
    then = timezone.now() - dt.timedelta(days=182)
    export = exports.export_request(compliance, "inventory", as_of=then.date().isoformat())  # not refused
    assert export.params["as_of"]
    past = {row[0]: row for row in inventory.rows(compliance, then)}
    today = {row[0]: row for row in inventory.rows(compliance)}
    assert 0 < len(past) < len(today)  # models registered since are absent
    assert any(past[key] != today[key] for key in past)  # statuses and validation dates have moved on
    # The first record is a year back: a date in the simulated year is accepted, one before it refused.
    first = AuditEvent.objects.order_by("id").first().timestamp
    assert first < timezone.now() - dt.timedelta(days=365)
    with pytest.raises(ValidationError) as refused:
        exports.export_request(compliance, "inventory", as_of=(first - dt.timedelta(days=2)).date().isoformat())
    assert "as_of" in refused.value.message_dict


@pytest.mark.django_db
def test_the_history_is_one_chain_in_the_order_it_happened(demo_firm):
    assert verify_chain().intact
    stamps = list(AuditEvent.objects.order_by("id").values_list("timestamp", flat=True))
    assert all(a <= b for a, b in zip(stamps, stamps[1:], strict=False))
    assert not AuditEvent.objects.filter(action="model.validation_dates_seeded").exists()  # no date set by hand


@pytest.mark.django_db
def test_the_dashboards_have_a_year_to_show(demo_firm):
    from django.utils import timezone

    from governance.lifecycle.models import Attestation, VersionTransition
    from risk.dashboards.models import IndicatorSnapshot
    from risk.gate.models import KillSwitchTest
    from risk.incidents.models import Incident
    from risk.validation.models import Finding

    today = timezone.now().date()
    # Findings open for days, months and more than half a year (the age buckets 0-30, 31-90, 91-180, >180).
    ages = [(today - f.raised_at.date()).days for f in Finding.objects.filter(status__in=["open", "in_remediation"])]
    buckets = {0 if a <= 30 else 1 if a <= 90 else 2 if a <= 180 else 3 for a in ages}
    assert len(buckets) >= 3, ages
    assert Finding.objects.filter(status="closed").exists() and Finding.objects.filter(status="risk_accepted").exists()
    # Time in each stage and the cycle time: transitions spread over the year.
    months = {t.at.strftime("%Y-%m") for t in VersionTransition.objects.all()}
    assert len(months) >= 10
    # Incidents opened, mitigated and closed over the year, some still open.
    closed = Incident.objects.filter(status="closed")
    assert closed.count() >= 10 and Incident.objects.exclude(status="closed").exists()
    assert not closed.filter(impact_trades=None).exists()  # every closed incident has its impact assessed
    assert len({i.closed_at.strftime("%Y-%m") for i in closed}) >= 6
    assert all(i.closed_at > i.opened_at for i in closed)
    # A kill-switch test every month, the year's attestations (most signed), the daily snapshots of a year.
    assert KillSwitchTest.objects.count() >= 12
    assert Attestation.objects.exclude(signature=None).count() >= 5
    days = sorted(set(IndicatorSnapshot.objects.filter(scope="").values_list("day", flat=True)))
    assert days[0] <= today - dt.timedelta(days=350) and days[-1] == today - dt.timedelta(days=1)
    recent = [d for d in days if d > today - dt.timedelta(days=30)]
    assert len(recent) == 29  # daily at the near end of the overview's trend, weekly before


@pytest.mark.django_db
def test_the_monitoring_health_page_has_weeks_of_cycles_with_the_planned_faults_handled(demo_firm, client):
    from django.utils import timezone

    from governance.demo import monitoring_history
    from risk.incidents.models import Incident
    from risk.monitoring.models import MonitorResult

    now = timezone.now()
    today = now.date()
    # Every weekday of the weeks before the seed, evaluated by the monitoring cycles (not only the seed's last hours).
    days = set(MonitorResult.objects.filter(cycle__isnull=False).dates("slot", "day"))
    first = today - dt.timedelta(weeks=monitoring_history.WEEKS)
    weekdays = {first + dt.timedelta(days=n) for n in range((today - first).days) if (first.weekday() + n) % 7 < 5}
    assert weekdays - {today} <= days | {today - dt.timedelta(days=1)}, sorted(weekdays - days)[:5]

    client.force_login(User.objects.get(username="compliance"))
    since = today - dt.timedelta(weeks=monitoring_history.WEEKS + 1)
    answer = client.get(
        "/api/v1/dashboards/widgets/breaches-per-week/", {"since": since.isoformat(), "until": today.isoformat()}
    )
    assert answer.status_code == 200, answer.content
    by_week = {row["week"]: row["count"] for row in answer.json()["rows"]}
    for fault in monitoring_history.FAULTS:
        fault_days = monitoring_history.fault_days(fault, now)
        weeks = {(d - dt.timedelta(days=d.weekday())).isoformat() for d in fault_days}
        assert sum(by_week[w] for w in weeks) > 0, (fault.key, by_week)
        # Each breach opened an incident by itself, during the fault; its owner mitigated and closed it.
        opened = Incident.objects.filter(model__key=fault.key, detected_by=Incident.Detection.MONITOR)
        assert opened.exists(), fault.key
        for incident in opened:
            assert fault_days[0] <= incident.opened_at.date() <= fault_days[-1], (incident, fault_days)
            assert incident.status == Incident.Status.CLOSED and incident.root_cause == fault.cause
            assert incident.entries.filter(text__contains=fault.actions).exists()
            assert incident.impact_trades is not None  # assessed from the fault's days: a losing spell lost money
            assert (incident.impact_pnl < 0) if fault.hit_rate else incident.impact_pnl == 0
    # The steady models breached nothing, so no tier-1 monitor opened an incident (under the default policy it would
    # have suspended a demo production model).
    faulted = {fault.key for fault in monitoring_history.FAULTS}
    others = MonitorResult.objects.filter(outcome="breach").exclude(monitor__version__model__key__in=faulted)
    assert not others.exists(), [(r.slot, r.monitor.version.model.key, r.monitor.measure, r.detail) for r in others]
    assert not Incident.objects.filter(detected_by=Incident.Detection.MONITOR, model__risk_tier=1).exists()


@pytest.mark.django_db
def test_each_live_model_is_fed_the_features_its_validation_files_name(demo_firm):
    # A drift alert names a feature: it must be one the model's validator saw in its training sample.
    from risk.monitoring.models import FeatureSet
    from risk.validation.models import Evidence

    fed = {
        fs.version.model.key: fs.names
        for fs in FeatureSet.objects.select_related("version__model").filter(version__status="production")
    }
    assert {"eq-momentum-us", "credit-default-prob", "fx-carry-g10"} <= set(fed)
    for key, names in fed.items():
        training = Evidence.objects.filter(version__model__key=key, original_name=f"{key}-training.csv").first()
        with training.file.open("rb") as f:
            header = f.readline().decode().strip().split(",")
        assert set(names) <= set(header), key
    assert len({tuple(sorted(names)) for names in fed.values()}) == len(fed)  # no two models alike
    assert Model.objects.get(key="fx-carry-g10").risks.exists()  # its disposed-of failures have a register entry


@pytest.mark.django_db
def test_the_demo_keeps_its_peoples_skills_current_with_one_coming_due(demo_firm):
    """Issue 24: the demo's requirements bind its validators, trader and kill-switch holders; every one is current
    (nothing of the demo's flows is blocked) and validator2's training comes due within 30 days."""
    from governance.skills import selectors as skills
    from governance.skills.models import Requirement

    assert set(Requirement.objects.values_list("duty", flat=True)) == {"validator", "trader", "kill_switch"}
    statuses = {
        (username, line.requirement.title): line.status
        for username in DEMO_USERS
        for line in skills.person_lines(User.objects.get(username=username))
    }
    assert statuses == {
        ("validator", "Model validation training"): "current",
        ("validator2", "Model validation training"): "due_soon",
        ("trader", "Algorithmic trading certification (desk)"): "current",
        ("compliance", "Kill switch drill"): "current",
        ("compliance2", "Kill switch drill"): "current",
    }
    call_command("seed_demo", password="demo-password-123")
    assert Requirement.objects.count() == 3


@pytest.mark.django_db
def test_the_demo_traders_acknowledged_every_live_card_of_their_desk_but_one(demo_firm):
    from governance.core.policy import policy_in_force
    from governance.core.signatures import verify
    from governance.demo.card_acknowledgements import ASKS, LEFT_UNACKNOWLEDGED
    from risk.gate import acknowledgements as acks
    from risk.gate import decisions
    from risk.gate.models import Acknowledgement

    assert policy_in_force().acknowledgement_required == ASKS
    assert policy_in_force().approvals_required == {"1": 2, "2": 1, "3": 1}  # the rest of the policy kept
    signed = Acknowledgement.objects.select_related("signature", "model")
    assert signed.exists() and all(verify(a.signature)[0] for a in signed)
    asked = [
        m
        for m in Model.objects.select_related("desk").filter(desk__code="sys-eq").order_by("key")
        if acks.version_in_use(m) is not None and ASKS[str(m.risk_tier)]
    ]
    assert LEFT_UNACKNOWLEDGED in {m.key for m in asked} and len(asked) >= 2
    for model in asked:
        codes = [r["code"] for r in decisions.compute(model).body["reasons"]]
        if model.key == LEFT_UNACKNOWLEDGED:
            reason = next(r for r in decisions.compute(model).body["reasons"] if r["code"] == "not_acknowledged")
            assert [p["username"] for p in reason["missing"]] == ["trader"]
        else:
            assert "not_acknowledged" not in codes, model.key


@pytest.mark.django_db
def test_the_demo_has_a_validators_challenge_resolved_by_a_validator_and_two_open_threads(demo_firm):
    from risk.threads.models import Thread

    threads = {t.title: t for t in Thread.objects.select_related("opened_by", "resolved_by", "model")}
    window = threads["Why a 20-day momentum window?"]
    assert window.challenge and window.status == Thread.Status.RESOLVED
    assert (window.opened_by.username, window.resolved_by.username) == ("validator", "validator")
    assert window.comments.count() == 3  # the challenge, the developer's answer, the resolution
    assert (
        threads["Calibration in the stressed quarter"].is_open
        and threads["Calibration in the stressed quarter"].challenge
    )
    odd = threads["Signals look odd this morning"]
    assert odd.is_open and not odd.challenge and odd.opened_by.username == "trader"
    call_command("seed_demo", password="demo-password-123")
    assert Thread.objects.count() == 3


@pytest.mark.django_db
def test_the_seed_delivers_every_event_itself_and_leaves_none_for_the_workers(demo_firm):
    """It runs within events.delivered_here(): no nudge is queued for the workers, so nothing may be left pending."""
    from governance.core.models import Event

    assert Event.objects.exists() and not Event.objects.filter(status=Event.Status.PENDING).exists()
