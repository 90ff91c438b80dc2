"""Overfitting and stability tests inside runs, the generated report (HTML and PDF evidence) and the charts."""

import hashlib
import re

import numpy as np
import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from scipy import stats
from sklearn import metrics as sk

from governance.core.models import Job, Signature
from governance.lifecycle import workflow
from models_registry.models import Model, ModelVersion
from risk.metrics import overfitting
from risk.validation import plans, services
from risk.validation import runs as validation
from risk.validation.models import Evidence, Finding, ValidationRun
from risk.validation.plans import label_for_test
from tests.factories import PASSWORD
from tests.governance.lifecycle_helpers import new_draft, signoff_for

RNG = np.random.default_rng(2026)


def csv_bytes(header, rows):
    return (",".join(header) + "\n" + "\n".join(",".join(str(v) for v in row) for row in rows) + "\n").encode()


def attach(world, version, name, content, kind="dataset"):
    return services.evidence_add(world.developer, version, file=SimpleUploadedFile(name, content), kind=kind)


def days(n, start="2024-01-01"):
    return np.datetime64(start) + np.arange(n)


@pytest.fixture
def classifier_version(world, validating):
    Model.objects.filter(pk=world.mine.pk).update(purpose="risk", model_type="gradient_boosting")
    ModelVersion.objects.filter(pk=validating.pk).update(claimed_performance={})  # its claims were a strategy's
    return ModelVersion.objects.select_related("model").get(pk=validating.pk)


def classifier_files(world, version, n=600):
    """A prediction log with a volatility column and two features, and a training sample of the features."""
    y_true = RNG.integers(0, 2, n)
    y_score = np.clip(0.3 * y_true + RNG.normal(0.35, 0.2, n), 0, 1).round(4)
    y_pred = (y_score > 0.5).astype(int)
    volatility = RNG.uniform(0.05, 0.4, n).round(5)
    momentum, carry = RNG.normal(0.2, 1, n).round(5), RNG.normal(0, 1, n).round(5)
    stamps = days(n)
    log = csv_bytes(
        ["timestamp", "y_true", "y_pred", "y_score", "volatility", "momentum", "carry"],
        zip(stamps, y_true, y_pred, y_score, volatility, momentum, carry, strict=True),
    )
    train_momentum, train_carry = RNG.normal(0, 1, 900).round(5), RNG.normal(0, 1, 900).round(5)
    train_score = RNG.uniform(0, 1, 900).round(4)
    training = csv_bytes(["momentum", "carry", "y_score"], zip(train_momentum, train_carry, train_score, strict=True))
    data = {
        "y_true": y_true,
        "y_pred": y_pred,
        "y_score": y_score,
        "volatility": volatility,
        "stamps": stamps,
        "features": {"momentum": (train_momentum, momentum), "carry": (train_carry, carry)},
        "score": (train_score, y_score),
    }
    return attach(world, version, "log.csv", log), attach(world, version, "training.csv", training), data


@pytest.mark.django_db
def test_it_runs_overfitting_and_stability_tests_on_a_classifier(world, classifier_version):
    dataset, training, d = classifier_files(world, classifier_version)
    validation.plan_save(world.validator, classifier_version, options={"split_date": "2025-01-01"})
    run = validation.run_start(world.validator, classifier_version, dataset, reference=training)
    assert validation.run_execute(run.pk) == "succeeded", ValidationRun.objects.get(pk=run.pk).error
    run.refresh_from_db()
    by_test = {r["test"]: r for r in run.results}

    inside = d["stamps"] < np.datetime64("2025-01-01")
    gap = sk.accuracy_score(d["y_true"][inside], d["y_pred"][inside]) - sk.accuracy_score(
        d["y_true"][~inside], d["y_pred"][~inside]
    )
    assert by_test["accuracy_gap"]["value"] == pytest.approx(gap, abs=1e-12)

    high = d["volatility"] > np.median(d["volatility"])
    assert by_test["accuracy_high_vol"]["value"] == pytest.approx(
        sk.accuracy_score(d["y_true"][high], d["y_pred"][high]), abs=1e-12
    )
    assert by_test["accuracy_low_vol"]["value"] == pytest.approx(
        sk.accuracy_score(d["y_true"][~high], d["y_pred"][~high]), abs=1e-12
    )

    for feature, (train, current) in d["features"].items():
        assert by_test[f"ks {feature}"]["value"] == pytest.approx(stats.ks_2samp(train, current).statistic, abs=1e-12)
        assert by_test[f"psi {feature}"]["outcome"] in ("pass", "warn", "fail")
    assert by_test["ks y_score"]["value"] == pytest.approx(stats.ks_2samp(*d["score"]).statistic, abs=1e-12)
    # momentum moved by 0.2 standard deviations: PSI sees it, carry did not move.
    assert by_test["psi momentum"]["value"] > by_test["psi carry"]["value"]
    # Every test this run's files feed is graded; only the tests that run the model wait for its ONNX file.
    skipped = {r["test"]: r["reason"] for r in run.results if r["outcome"] == "skipped"}
    assert set(skipped) == plans.MODEL_METRICS
    assert set(skipped.values()) == {"the model could not be run: no ONNX file was chosen for this run"}
    assert [f["role"] for f in run.fingerprints] == ["dataset", "training sample"]
    assert run.fingerprints[1]["sha256"] == training.sha256 and run.fingerprints[0]["rows"] == 600
    read = run.fingerprints[0]["columns"]
    assert len(read) == len(set(read)) and "y_score" in read  # each column read is listed once
    assert set(run.charts) == {"confusion", "roc", "calibration", "psi"}


def strategy_files(world, version, n=756, trials=8):
    returns = RNG.normal(0.0006, 0.01, n).round(7)
    stamps = days(n, "2022-01-03")
    dataset = attach(
        world, version, "returns.csv", csv_bytes(["timestamp", "return"], zip(stamps, returns, strict=True))
    )
    matrix = RNG.normal(0.0002, 0.01, (n, trials)).round(7)
    header = ["timestamp", *(f"config_{i}" for i in range(trials))]
    trial_file = attach(
        world,
        version,
        "trials.csv",
        csv_bytes(header, ([s, *row] for s, row in zip(stamps, matrix, strict=True))),
        kind="trial_returns",
    )
    return dataset, trial_file, returns, stamps, matrix


def deflated_sharpe_by_hand(r, trials, variance):
    """Bailey and Lopez de Prado (2014), eq. for DSR, with SciPy's moments and normal distribution."""
    sr = r.mean() / r.std(ddof=1)
    g = 0.5772156649015329
    sr0 = np.sqrt(variance) * ((1 - g) * stats.norm.ppf(1 - 1 / trials) + g * stats.norm.ppf(1 - 1 / (trials * np.e)))
    skew, kurt = stats.skew(r), stats.kurtosis(r, fisher=False)
    return stats.norm.cdf((sr - sr0) * np.sqrt(r.size - 1) / np.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2))


@pytest.mark.django_db
def test_it_runs_overfitting_tests_on_a_strategy(world, validating):
    version = ModelVersion.objects.select_related("model").get(pk=validating.pk)
    dataset, trial_file, returns, stamps, matrix = strategy_files(world, version)
    options = {"split_date": "2023-06-01", "trials": 40, "trials_sharpe_variance": 0.5, "pbo_blocks": 8}
    validation.plan_save(world.validator, version, options=options)
    run = validation.run_start(world.validator, version, dataset, trial_returns=trial_file)
    assert validation.run_execute(run.pk) == "succeeded", run.error
    run.refresh_from_db()
    by_test = {r["test"]: r for r in run.results}

    # The plan states the variance of annualised Sharpe ratios; the DSR works per period.
    expected = deflated_sharpe_by_hand(returns, 40, 0.5 / 252)
    assert by_test["deflated_sharpe"]["value"] == pytest.approx(expected, abs=1e-9)
    assert by_test["pbo"]["value"] == overfitting.pbo_cscv(matrix, blocks=8)["pbo"]
    inside = stamps < np.datetime64("2023-06-01")

    def sharpe(x):
        return x.mean() / x.std(ddof=1) * np.sqrt(252)

    assert by_test["sharpe_gap"]["value"] == pytest.approx(sharpe(returns[inside]) - sharpe(returns[~inside]), abs=1e-9)
    assert {"sharpe_low_vol", "sharpe_high_vol"} <= set(by_test)
    # The equity curve, the market scenarios and the sensitivity across the trial matrix's configurations.
    assert set(run.charts) == {"equity", "scenarios", "parameter_sensitivity"}
    assert len(run.charts["equity"]["time"]) == returns.size + 1
    assert min(run.charts["equity"]["drawdown"]) < 0


@pytest.mark.django_db
def test_it_takes_the_trial_count_and_variance_from_the_matrix_when_the_plan_gives_none(world, validating):
    version = ModelVersion.objects.select_related("model").get(pk=validating.pk)
    dataset, trial_file, returns, _, matrix = strategy_files(world, version, trials=6)
    validation.plan_save(world.validator, version, options={"pbo_blocks": 8})
    run = validation.run_start(world.validator, version, dataset, trial_returns=trial_file)
    validation.run_execute(run.pk)
    run.refresh_from_db()
    value = next(r["value"] for r in run.results if r["metric"] == "deflated_sharpe")
    column_sharpes = matrix.mean(0) / matrix.std(0, ddof=1)
    assert value == pytest.approx(deflated_sharpe_by_hand(returns, 6, np.var(column_sharpes, ddof=1)), abs=1e-9)


BAD_STRATEGY = [
    ({"split_date": "2030-01-01"}, None, "leaves 756 rows in-sample and 0 out-of-sample"),
    ({"features": ["nope"]}, None, None),  # strategies have no stability tests: features are simply unused
    ({}, b"timestamp,only\n2024-01-01,0.1\n2024-01-02,0.2\n", "the trial matrix needs one column per trial"),
    ({"pbo_blocks": 20}, b"a,b\n0.1,0.2\n0.2,0.1\n", "each with at least two rows"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("options,trials,message", BAD_STRATEGY)
def test_it_fails_strategy_runs_it_cannot_perform_with_the_reason(options, trials, message, world, validating):
    version = ModelVersion.objects.select_related("model").get(pk=validating.pk)
    dataset, *_ = strategy_files(world, version)
    trial_file = attach(world, version, "t.csv", trials, kind="trial_returns") if trials else None
    validation.plan_save(world.validator, version, options=options)
    run = validation.run_start(world.validator, version, dataset, trial_returns=trial_file)
    status = validation.run_execute(run.pk)
    run.refresh_from_db()
    if message is None:
        assert status == "succeeded"
        return
    assert status == "failed" and message in run.error and run.results == [] and run.report is None
    assert not Evidence.objects.filter(version=version, kind="validation_report", report_of__isnull=False).exists()


@pytest.mark.django_db
def test_it_fails_a_returns_series_too_short_for_the_requested_test(world, validating):
    version = ModelVersion.objects.select_related("model").get(pk=validating.pk)
    dataset = attach(world, version, "two.csv", b"timestamp,return\n2024-01-01,0.01\n2024-01-02,-0.02\n")
    validation.plan_save(world.validator, version)
    run = validation.run_start(world.validator, version, dataset)
    assert validation.run_execute(run.pk) == "failed"
    run.refresh_from_db()
    assert "two.csv" in run.error and "at least three periods" in run.error


@pytest.mark.django_db
def test_it_refuses_run_inputs_of_the_wrong_kind_or_version(world, validating, api, classifier_version):
    dataset, training, _ = classifier_files(world, classifier_version)
    validation.plan_save(world.validator, classifier_version)
    report = attach(world, classifier_version, "r.pdf", b"%PDF-1.4 x", kind="validation_report")
    client = api.as_user(world.validator)
    url = "/api/v1/models/mine/versions/2.0/validation-runs/"
    response = client.post(url, {"dataset": dataset.pk, "reference": report.pk}, format="json")
    assert response.status_code == 400 and "reference" in response.json()
    other = services.evidence_add(
        world.developer2, world.theirs_v1, file=SimpleUploadedFile("x.csv", b"a\n1\n"), kind="dataset"
    )
    response = client.post(url, {"dataset": dataset.pk, "trial_returns": other.pk}, format="json")
    assert response.status_code == 400 and "trial_returns" in response.json()
    assert ValidationRun.objects.count() == 0


@pytest.mark.django_db
def test_a_finished_run_stores_its_pdf_report_as_evidence_and_shows_it(
    world, validating, browser_client, classifier_version, django_capture_on_commit_callbacks
):
    dataset, training, _ = classifier_files(world, classifier_version)
    validation.plan_save(world.validator, classifier_version, options={"split_date": "2025-01-01"})
    Finding.objects.create(
        version=classifier_version,
        severity="medium",
        title="Calibration drifts in the tails",
        description="Scores above 0.9 are over-confident.",
        owner=world.owner,
        due_date="2027-01-31",
        raised_by=world.validator,
    )
    client = browser_client.as_user(world.validator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/models/mine/versions/2.0/validation-runs/", {"dataset": dataset.pk, "reference": training.pk})
    run = ValidationRun.objects.select_related("report").get()
    assert run.status == "succeeded" and run.report.kind == "validation_report"
    with run.report.file.open("rb") as handle:
        pdf = handle.read()
    assert pdf.startswith(b"%PDF-") and hashlib.sha256(pdf).hexdigest() == run.report.sha256
    assert run.report.uploaded_by == world.validator and run.report.size == len(pdf)

    answer = client.get(f"/validation-runs/{run.pk}/report/")
    page = answer.content.decode()
    # Its style elements (the report's, matplotlib's in each chart) carry the nonce of the page's CSP.
    nonce = re.search(r"'nonce-([^']+)'", answer["Content-Security-Policy"])[1]
    styles = re.findall(r"<style[^>]*>", page)
    assert len(styles) > 1 and all(f'nonce="{nonce}"' in s for s in styles)
    for expected in (
        dataset.sha256,
        training.sha256,
        "Calibration drifts in the tails",
        "Accuracy: in-sample minus out-of-sample",
        "<svg",
    ):
        assert expected in page
    assert "Kolmogorov-Smirnov statistic: momentum" in page and "Split date 2025-01-01" in page

    detail = client.get(f"/validation-runs/{run.pk}/").content.decode()
    assert "plotly/plotly.min.js" in detail and 'id="chart-roc"' in detail and 'id="chart-psi"' in detail
    assert "cdn" not in detail.lower()
    assert finders.find("plotly/plotly.min.js")
    api_run = client.get(f"/api/v1/validation-runs/{run.pk}/").json()
    assert api_run["report_url"].endswith(f"/evidence/{run.report_id}/")
    assert client.get(api_run["report_url"]).status_code == 200
    assert browser_client.as_user(world.trader).get(f"/validation-runs/{run.pk}/report/").status_code == 404


@pytest.mark.django_db
def test_the_generated_report_is_the_evidence_a_validation_signature_needs(world):
    version = new_draft(world)
    returns = RNG.normal(0.0007, 0.01, 300).round(7)
    dataset = attach(
        world, version, "returns.csv", csv_bytes(["timestamp", "return"], zip(days(300), returns, strict=True))
    )
    version = workflow.version_transition(world.developer, version, "submit")
    version = workflow.version_transition(world.validator, version, "start_validation")
    validation.plan_save(world.validator, version)
    run = validation.run_start(world.validator, version, dataset)
    validation.run_execute(run.pk)
    run.refresh_from_db()
    signoff = signoff_for(version, run.report)
    # The sign-off rests on this run: its failures are disposed of in writing, its warnings acknowledged.
    signoff["dispositions"] = {
        r["test"]: "Claimed figure from a longer window; re-performed value accepted by the validator."
        for r in run.results
        if r["outcome"] == "fail"
    }
    signoff["acknowledged_warnings"] = [r["test"] for r in run.results if r["outcome"] == "warn"]
    version = workflow.version_transition(
        world.validator, version, "validate", password=PASSWORD, signoff=signoff, comment="Re-performed in Vigil."
    )
    assert version.status == "validated"
    signature = Signature.objects.get(
        object_type="models_registry.modelversion", object_id=str(version.pk), meaning="validated"
    )
    assert run.report.sha256 in str(signature.payload)
    assert signature.payload["validation_run"]["id"] == run.pk


@pytest.mark.django_db
def test_a_run_that_cannot_complete_is_marked_failed_not_left_running(
    world, classifier_version, monkeypatch, django_capture_on_commit_callbacks
):
    from risk.validation import engine

    def broken(run, on_progress):
        raise RuntimeError("the storage backend returned garbage")

    monkeypatch.setattr(engine, "compute", broken)
    dataset, *_ = classifier_files(world, classifier_version)
    validation.plan_save(world.validator, classifier_version)
    with django_capture_on_commit_callbacks(execute=True):
        run = validation.run_start(world.validator, classifier_version, dataset)
    run.refresh_from_db()
    assert run.status == "failed" and "storage backend returned garbage" in run.error
    assert run.results == [] and run.report is None


def parquet_bytes(columns: dict) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


@pytest.mark.django_db
def test_it_reads_parquet_inputs_column_by_column(world, classifier_version):
    n = 500
    y_true = RNG.integers(0, 2, n)
    score = np.clip(0.3 * y_true + RNG.normal(0.35, 0.2, n), 0, 1)
    log = {
        "timestamp": np.datetime64("2026-01-01T00:00:00", "ns") + np.arange(n).astype("timedelta64[m]"),
        "y_true": y_true,
        "y_pred": (score > 0.5).astype(np.int64),
        "y_score": score,
        "spread": RNG.normal(0.1, 1, n),
    }
    training = {"spread": RNG.normal(0, 1, 800), "y_score": RNG.uniform(0, 1, 800)}
    dataset = attach(world, classifier_version, "log.parquet", parquet_bytes(log))
    reference = attach(world, classifier_version, "training.parquet", parquet_bytes(training))
    validation.plan_save(world.validator, classifier_version)
    run = validation.run_start(world.validator, classifier_version, dataset, reference=reference)
    assert validation.run_execute(run.pk) == "succeeded", ValidationRun.objects.get(pk=run.pk).error
    run.refresh_from_db()
    by_test = {r["test"]: r for r in run.results}
    assert by_test["ks spread"]["value"] == pytest.approx(
        stats.ks_2samp(training["spread"], log["spread"]).statistic, abs=1e-12
    )
    assert by_test["roc_auc"]["value"] == pytest.approx(sk.roc_auc_score(y_true, score), abs=1e-12)
    assert run.fingerprints[1] == {
        "role": "training sample",
        "evidence": reference.pk,
        "name": "training.parquet",
        "sha256": reference.sha256,
        "rows": 800,
        "columns": ["spread", "y_score"],
    }


@pytest.mark.django_db
def test_score_metrics_are_skipped_with_the_reason_when_the_log_has_no_scores(world, classifier_version):
    rows = [(f"2026-01-{1 + i % 28:02d}T{i // 28:02d}:00:00", i % 2, (i // 3) % 2) for i in range(200)]
    rows.sort()
    dataset = attach(world, classifier_version, "labels.csv", csv_bytes(["timestamp", "y_true", "y_pred"], rows))
    validation.plan_save(world.validator, classifier_version)
    run = validation.run_start(world.validator, classifier_version, dataset)
    assert validation.run_execute(run.pk) == "succeeded"
    run.refresh_from_db()
    by_test = {r["test"]: r for r in run.results}
    assert by_test["roc_auc"]["outcome"] == "skipped" and "no y_score column" in by_test["roc_auc"]["reason"]
    assert by_test["accuracy"]["outcome"] in ("pass", "warn", "fail") and "roc" not in run.charts


@pytest.mark.django_db
def test_thresholds_read_as_inequalities_on_the_run_page(world, browser_client, classifier_version):
    dataset, *_ = classifier_files(world, classifier_version)
    validation.plan_save(world.validator, classifier_version)
    run = validation.run_start(world.validator, classifier_version, dataset)
    validation.run_execute(run.pk)
    page = browser_client.as_user(world.validator).get(f"/validation-runs/{run.pk}/").content.decode()
    assert "pass ≥ 0.55 · fail &lt; 0.5" in page  # accuracy: higher is better
    assert "pass ≤ 0.05 · fail &gt; 0.1" in page  # calibration error: lower is better


@pytest.mark.django_db
def test_a_run_that_keeps_killing_its_worker_stops_after_three_attempts(world, classifier_version):
    dataset, *_ = classifier_files(world, classifier_version)
    validation.plan_save(world.validator, classifier_version)
    run = validation.run_start(world.validator, classifier_version, dataset)
    Job.objects.filter(pk=run.job_id).update(status="running", attempts=validation.MAX_ATTEMPTS)
    assert validation.run_execute(run.pk) == "failed"  # the fourth delivery
    run.refresh_from_db()
    assert "its worker stopped 3 times" in run.error and run.results == [] and run.attempts == 4


@pytest.mark.django_db
def test_a_failed_test_links_the_validator_to_a_prefilled_finding(world, browser_client, classifier_version):
    import html
    import re

    dataset, *_ = classifier_files(world, classifier_version)
    validation.plan_save(world.validator, classifier_version)
    run = validation.run_start(world.validator, classifier_version, dataset)
    validation.run_execute(run.pk)
    client = browser_client.as_user(world.validator)
    page = client.get(f"/validation-runs/{run.pk}/").content.decode()
    links = re.findall(r'data-testid="raise-finding" href="([^"]+)"', page)
    failed = [r for r in ValidationRun.objects.get(pk=run.pk).results if r["outcome"] in ("fail", "warn")]
    assert failed and len(links) == len(failed)
    form = client.get(html.unescape(links[0])).content.decode()
    first, said = failed[0], {"fail": "failed", "warn": "warned"}[failed[0]["outcome"]]
    title = f"Validation run #{run.pk}: {label_for_test(first['test'], first['metric'])} {said}"
    assert title in html.unescape(form)
    assert 'id="raise-finding" open' in form and dataset.sha256 in form
    compliance_page = browser_client.as_user(world.compliance).get(f"/validation-runs/{run.pk}/").content.decode()
    assert "raise-finding" not in compliance_page
