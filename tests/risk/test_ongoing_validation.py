"""Scheduled validation on live data: the signed plan of a live version re-runs on its production data when the
policy's cadence for its tier says so, as a job; a test that passed at sign-off and fails now raises a finding linked
to both runs and, per policy, flags the model for revalidation. Idempotent; no data, no run; tier 3 off by default."""

import datetime as dt

import numpy as np
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from governance.core import jobs
from governance.core.models import AuditEvent
from governance.core.policy import policy_in_force, policy_publish
from governance.lifecycle import workflow
from models_registry.models import Model
from risk.exports.evidence_pack import run_rows
from risk.monitoring import ongoing_validation
from risk.monitoring.models import Trade
from risk.validation import runs, selectors
from risk.validation import services as evidence_services
from risk.validation.models import Evidence, Finding, OngoingCheck, ValidationRun
from tests.factories import PASSWORD
from tests.governance.lifecycle_helpers import attach, new_draft, signoff_for
from tests.risk import monitoring_data
from tests.snapshots import snapshot

SIGNED_DAYS_AGO = 100  # beyond tier 2's three months and tier 1's one


def _classifier_csv(n=600, accuracy=0.8, seed=5) -> bytes:
    """A classifier right `accuracy` of the time, its score on the side of its prediction, features f1 and f2."""
    rng = np.random.default_rng(seed)
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    lines = ["timestamp,y_true,y_pred,y_score,f1,f2"]
    for i in range(n):
        truth = int(rng.random() < 0.5)
        predicted = truth if rng.random() < accuracy else 1 - truth
        score = float(np.clip(0.5 + (0.3 if predicted else -0.3) + rng.normal(0, 0.1), 0.01, 0.99))
        stamp = (start + dt.timedelta(minutes=i)).isoformat()
        lines.append(f"{stamp},{truth},{predicted},{score:.4f},{rng.normal():.4f},{rng.normal():.4f}")
    return ("\n".join(lines) + "\n").encode()


def _sign_off(world, version, run):
    """The validator signs over `run`, with a disposition for each failed test and each warning acknowledged."""
    signoff = signoff_for(version, attach(world.validator, version, "validation_report"))
    failed, warned = selectors.tests_needing_word(run)
    signoff["run"] = run.pk
    signoff["dispositions"] = {t: "Reviewed with the desk; within appetite." for t in failed}
    signoff["acknowledged_warnings"] = warned
    return workflow.version_transition(
        world.validator, version, "validate", password=PASSWORD, signoff=signoff, comment="Sound."
    )


def _build_live_classifier(world):
    """mine 2.0, a classifier signed SIGNED_DAYS_AGO over a run of a good model (executed by its job), in
    production since. Returns (version, signed run)."""
    with time_machine.travel(timezone.now() - dt.timedelta(days=SIGNED_DAYS_AGO), tick=True):
        version, dataset = _in_validation(
            world, "dataset", "sample.csv", _classifier_csv(), purpose="risk", model_type="gradient_boosting"
        )
        runs.plan_save(world.validator, version)
        version, signed = _sign_and_promote(world, version, dataset, instrument="ESZ6", venue="XCME")
    assert version.status == "production"
    return version, signed


def _in_validation(world, kind, name, content, **model_fields):
    """mine (tier 2, with `model_fields`) 2.0 submitted and in validation, with the validator's file of `kind`.
    Returns (version, evidence)."""
    Model.objects.filter(pk=world.mine.pk).update(risk_tier=2, **model_fields)
    world.mine.refresh_from_db()
    version = workflow.version_transition(world.developer, new_draft(world), "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    file = SimpleUploadedFile(name, content)
    return version, evidence_services.evidence_add(world.validator, version, kind=kind, file=file)


def _sign_and_promote(world, version, evidence, *, instrument, venue):
    """Run the saved plan on `evidence` (by its job), sign off on that run, approve, pilot on `instrument` at
    `venue` and promote. Returns (version, signed run)."""
    signed = runs.run_start(world.validator, version, evidence)
    assert jobs.execute(signed.job_id) == "succeeded"
    signed.refresh_from_db()
    assert signed.status == "succeeded", signed.error
    version = _sign_off(world, version, signed)
    version = workflow.version_transition(world.compliance, version, "approve_deployment", password=PASSWORD)
    pilot = {
        "max_notional": "5000000",
        "instruments": [instrument],
        "venues": [venue],
        "end_date": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
    }
    version = workflow.version_transition(world.owner, version, "start_pilot", pilot=pilot)
    attach(world.owner, version, "pilot_results", "pilot.md")
    version = workflow.version_transition(world.compliance, version, "promote", password=PASSWORD, comment="ok")
    return version, signed


@pytest.fixture
def live(world, request):
    """(version, signed run): built once per session (tests/snapshots.py), then restored into each test."""
    return snapshot("mine-2.0-live-signed-classifier", lambda: _build_live_classifier(world), request)


def _live_classifier(live, world, tier):
    Model.objects.filter(pk=world.mine.pk).update(risk_tier=tier)
    return live


def _production(world, version, accuracy, n=400):
    monitoring_data.predictions(
        world.developer, version, n, start=timezone.now() - dt.timedelta(hours=8), accuracy=accuracy, seed=9
    )


def _ongoing(version):
    return ValidationRun.objects.filter(version=version, kind=ValidationRun.Kind.ONGOING)


@pytest.mark.django_db
@pytest.mark.slow(reason="runs the plan on production data in the confined child and renders its PDF report")
def test_a_regression_on_production_data_raises_a_finding_linked_to_both_runs_and_requires_revalidation(live, world):
    version, signed = _live_classifier(live, world, tier=1)
    passed_then = {r["test"] for r in signed.results if r["outcome"] == "pass"}
    assert "accuracy" in passed_then
    _production(world, version, accuracy=0.2)  # the live model is now mostly wrong
    assert ongoing_validation.sweep()["started"] == 1
    run = _ongoing(version).get()
    assert run.baseline == signed and run.plan_snapshot == signed.plan_snapshot and run.status == "queued"
    assert run.requested_by.username == "vigil-system"
    data = Evidence.objects.get(pk=run.dataset_id)
    assert data.kind == "production_data" and len(data.sha256) == 64
    header, *rows = data.file.open("rb").read().decode().splitlines()
    assert header == "timestamp,y_true,y_pred,y_score,f1,f2" and len(rows) == 400

    assert jobs.execute(run.job_id) == "succeeded"  # the real job: the run, then its comparison
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.fingerprints and run.fingerprints[0]["sha256"] == data.sha256
    now = {r["test"]: r["outcome"] for r in run.results}
    regressed = sorted(t for t in passed_then if now.get(t) == "fail")
    assert "accuracy" in regressed
    findings = Finding.objects.filter(run=run)
    assert sorted(findings.values_list("test", flat=True)) == regressed
    assert all(f.baseline_run_id == signed.pk and f.owner == world.owner and f.severity == "high" for f in findings)
    assert AuditEvent.objects.filter(action="finding.raise", object_id=str(findings[0].pk)).exists()
    model = Model.objects.get(pk=world.mine.pk)
    assert model.revalidation_flag == "required"
    flagged = AuditEvent.objects.get(action="model.revalidation_required", object_id=str(model.pk))
    assert f"#{run.pk}" in flagged.reason and f"#{signed.pk}" in flagged.reason

    # A redelivered job changes nothing; the run is never one a sign-off may cite.
    ongoing_validation.settle(run.pk)
    assert Finding.objects.filter(run=run).count() == len(regressed)
    assert list(selectors.succeeded_runs(version)) == [signed]


@pytest.mark.django_db
@pytest.mark.slow(reason="runs the plan on production data in the confined child and renders its PDF report")
def test_a_second_sweep_the_same_day_starts_nothing_and_a_steady_model_raises_nothing(live, world):
    version, signed = _live_classifier(live, world, tier=2)
    _production(world, version, accuracy=0.8)
    assert ongoing_validation.sweep()["started"] == 1
    assert ongoing_validation.sweep()["started"] == 0
    run = _ongoing(version).get()
    assert Evidence.objects.filter(version=version, kind="production_data").count() == 1
    assert jobs.execute(run.job_id) == "succeeded"
    run.refresh_from_db()
    assert run.results and not Finding.objects.filter(run=run).exists()  # what passed then passes now
    assert Model.objects.get(pk=world.mine.pk).revalidation_flag != "required"
    # Next due three months (tier 2) after this run, not after the signature.
    assert ongoing_validation.sweep(today=timezone.now().date() + dt.timedelta(days=80))["started"] == 0
    assert ongoing_validation.sweep(today=timezone.now().date() + dt.timedelta(days=93))["started"] == 1


@pytest.mark.django_db
def test_no_production_data_since_sign_off_means_no_run_and_says_why(live, world, browser_client):
    version, _ = _live_classifier(live, world, tier=2)
    assert ongoing_validation.sweep()["started"] == 0
    assert not _ongoing(version).exists()
    assert not Evidence.objects.filter(version=version, kind="production_data").exists()
    check = OngoingCheck.objects.get(version=version)
    assert check.run is None and "no prediction with its outcome" in check.skipped_reason
    page = browser_client.as_user(world.validator).get("/models/mine/versions/2.0/").content.decode()
    assert 'data-testid="ongoing-check"' in page and "no prediction with its outcome" in page


@pytest.mark.django_db
def test_tier_3_has_no_scheduled_validation_by_default_and_the_policy_sets_the_cadence(live, world):
    version, _ = _live_classifier(live, world, tier=3)
    _production(world, version, accuracy=0.8, n=100)
    assert ongoing_validation.sweep()["started"] == 0 and not _ongoing(version).exists()
    assert not OngoingCheck.objects.filter(version=version).exists()
    assert policy_in_force().ongoing_months_for(3) == 0
    # Every four months for tier 3: the signature is 100 days old, not due yet; every month: due.
    policy_publish(world.compliance, ongoing_validation_months={"1": 1, "2": 3, "3": 4})
    assert ongoing_validation.sweep()["started"] == 0
    policy_publish(world.compliance, ongoing_validation_months={"1": 1, "2": 3, "3": 1})
    assert ongoing_validation.sweep()["started"] == 1 and _ongoing(version).count() == 1


@pytest.mark.django_db
@pytest.mark.slow(reason="runs the plan on production data in the confined child and renders its PDF report")
def test_the_regression_flag_follows_the_policy_per_tier(live, world):
    version, signed = _live_classifier(live, world, tier=2)
    policy_publish(world.compliance, ongoing_regression_revalidation={"1": True, "2": False, "3": False})
    _production(world, version, accuracy=0.2)
    ongoing_validation.sweep()
    run = _ongoing(version).get()
    assert jobs.execute(run.job_id) == "succeeded"
    assert Finding.objects.filter(run=run, baseline_run=signed, severity="medium").exists()
    assert Model.objects.get(pk=world.mine.pk).revalidation_flag != "required"  # a finding, no flag


@pytest.mark.django_db
def test_ongoing_runs_show_on_the_version_page_and_in_the_evidence_pack(live, world, browser_client):
    version, signed = _live_classifier(live, world, tier=2)
    _production(world, version, accuracy=0.8, n=100)
    ongoing_validation.sweep()
    run = _ongoing(version).get()
    page = browser_client.as_user(world.validator).get("/models/mine/versions/2.0/").content.decode()
    assert 'data-testid="ongoing-run"' in page and f"against signed run #{signed.pk}" in page
    rows = {row["id"]: row for row in run_rows([version])}
    assert rows[run.pk]["kind"] == "ongoing" and rows[run.pk]["baseline_run"] == signed.pk
    assert rows[signed.pk]["kind"] == "validation" and rows[signed.pk]["baseline_run"] is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields, field",
    [
        ({"ongoing_validation_months": {"1": -1, "2": 3, "3": 0}}, "ongoing_validation_months"),
        ({"ongoing_validation_months": {"1": 1, "2": 3}}, "ongoing_validation_months"),
        ({"ongoing_validation_months": {"1": True, "2": 3, "3": 0}}, "ongoing_validation_months"),
        ({"ongoing_regression_revalidation": {"1": "yes", "2": True, "3": False}}, "ongoing_regression_revalidation"),
    ],
)
def test_the_policy_refuses_a_malformed_cadence_naming_the_field(world, fields, field):
    with pytest.raises(ValidationError) as refused:
        policy_publish(world.compliance, **fields)
    assert field in refused.value.message_dict


@pytest.mark.django_db
def test_compliance_sets_the_cadence_on_the_policy_page(world, browser_client):
    client = browser_client.as_user(world.compliance)
    page = client.get("/policy/").content.decode()
    assert 'data-testid="ongoing-policy"' in page and 'name="ongoing_1"' in page
    data = {"months_1": 12, "months_2": 24, "months_3": 36, "approvals_1": 2, "approvals_2": 1, "approvals_3": 1}
    refused = client.post("/policy/", data | {"ongoing_1": -2}, follow=True).content.decode()
    assert "from 0 (none) to 120" in refused and policy_in_force().version == 1
    assert client.post("/policy/", data | {"ongoing_1": 2, "ongoing_3": 6, "ongoing_flag_1": "1"}).status_code == 302
    policy = policy_in_force()
    assert policy.ongoing_validation_months == {"1": 2, "2": 3, "3": 6}
    assert policy.ongoing_regression_revalidation == {"1": True, "2": False, "3": False}


@pytest.mark.django_db
def test_returns_are_the_days_pnl_over_the_notional_at_stake_or_no_run_without_one(live, world):
    version, signed = _live_classifier(live, world, tier=2)
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=3)
    monitoring_data.trades(world.developer, version, 96, start=start)  # 48 a day, over two days
    _production(world, version, accuracy=0.8, n=50)
    combined = ValidationRun(plan_snapshot={**signed.plan_snapshot, "template": "strategy_classifier"})
    since = timezone.now() - dt.timedelta(days=SIGNED_DAYS_AGO)
    files, reason = ongoing_validation.production_files(version, combined, since=since)
    assert reason == "" and set(files) == {"dataset", "prediction_log"}
    header, *rows = files["dataset"].decode().splitlines()
    pnl = {}
    for day, value in Trade.objects.filter(version=version).values_list("timestamp", "pnl"):
        pnl[day.date()] = pnl.get(day.date(), 0.0) + value
    assert header == "timestamp,return" and len(rows) == len(pnl) == 2
    for row in rows:
        day, value = row.split(",")
        assert float(value) == pytest.approx(pnl[dt.date.fromisoformat(day)] / 50_000_000)
    Model.objects.filter(pk=world.mine.pk).update(notional_at_stake=0)
    version.model.refresh_from_db()
    files, reason = ongoing_validation.production_files(version, combined, since=since)
    assert files == {} and "no notional at stake" in reason


def _backtest_csv(days=600, seed=11) -> bytes:
    """A strategy's daily returns from 2022 on (inside the default "2022 rate rise" scenario), a steady edge."""
    rng = np.random.default_rng(seed)
    stamps = np.busday_offset("2022-01-03", np.arange(days), roll="forward")
    returns = rng.normal(0.001, 0.005, days)
    lines = ["timestamp,return", *(f"{d},{r:.6f}" for d, r in zip(stamps, returns, strict=True))]
    return ("\n".join(lines) + "\n").encode()


def _build_live_strategy(world):
    """mine 2.0 as a trading rule (a strategy: trades, no prediction log), tier 2, signed SIGNED_DAYS_AGO over a
    run of its backtest with a scenario window the validator added for its live trading, in production since.
    Returns (version, signed run)."""
    with time_machine.travel(timezone.now() - dt.timedelta(days=SIGNED_DAYS_AGO), tick=True):
        version, backtest = _in_validation(
            world, "backtest", "backtest.csv", _backtest_csv(), purpose="alpha", model_type="rule_based"
        )
        live_from = timezone.now().date().isoformat()
        runs.plan_save(
            world.validator,
            version,
            options={"scenario_windows": [{"name": "Live trading", "start": live_from, "end": "2030-12-31"}]},
        )
        version, signed = _sign_and_promote(world, version, backtest, instrument="SPY", venue="XNYS")
    assert version.status == "production"
    return version, signed


@pytest.fixture
def live_strategy(world, request):
    return snapshot("mine-2.0-live-signed-strategy", lambda: _build_live_strategy(world), request)


@pytest.mark.django_db
@pytest.mark.slow(reason="runs the strategy plan on its production trades in the confined child and renders its PDF")
def test_a_strategy_is_revalidated_on_its_production_trades_and_a_regression_raises_a_finding(live_strategy, world):
    version, signed = live_strategy
    outcomes_then = {r["test"]: r["outcome"] for r in signed.results}
    assert outcomes_then["sharpe"] == "pass" and outcomes_then["scenario_max_drawdown"] == "pass"
    # Live, the rule mostly loses: four trades a day for eleven days, four in five of them losing.
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=11)
    monitoring_data.trades(world.developer, version, 44, start=start, every=dt.timedelta(hours=6), win_rate=0.2)

    assert ongoing_validation.sweep()["started"] == 1
    run = _ongoing(version).get()
    assert run.baseline == signed and run.prediction_log is None  # a strategy: its returns only
    data = Evidence.objects.get(pk=run.dataset_id)
    header, *days = data.file.open("rb").read().decode().splitlines()
    assert data.kind == "production_data" and header == "timestamp,return" and len(days) == 11

    assert jobs.execute(run.job_id) == "succeeded"
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    now = {r["test"]: r for r in run.results}
    # The stress tests that need only the returns ran; those that need more say what they lack.
    assert now["scenario_max_drawdown"]["outcome"] in ("pass", "warn", "fail")
    assert "Live trading" in now["scenario_max_drawdown"]["reason"]
    assert now["cost_breakeven_multiple"]["outcome"] == "skipped"
    assert now["parameter_sensitivity"]["outcome"] == "skipped"

    assert now["sharpe"]["outcome"] == "fail"
    regressed = sorted(t for t, outcome in outcomes_then.items() if outcome == "pass" and now[t]["outcome"] == "fail")
    assert "sharpe" in regressed
    findings = Finding.objects.filter(run=run)
    assert sorted(findings.values_list("test", flat=True)) == regressed
    assert all(f.baseline_run_id == signed.pk and f.owner == world.owner for f in findings)
    assert Model.objects.get(pk=world.mine.pk).revalidation_flag == "required"  # tier 2: the policy says so
