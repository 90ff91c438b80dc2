"""Validation plans and runs: proposed plans, graded results, re-performance, and bad input that fails cleanly."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from sklearn import metrics as sk

from models_registry.models import Model, ModelVersion
from risk.validation import plans, services
from risk.validation import runs as validation
from risk.validation.models import ValidationRun

RNG = np.random.default_rng(7)


def csv_bytes(header, rows):
    return (",".join(header) + "\n" + "\n".join(",".join(str(v) for v in row) for row in rows) + "\n").encode()


def predictions_csv(n=400):
    y_true = RNG.integers(0, 2, n)
    score = np.clip(0.3 * y_true + RNG.normal(0.35, 0.2, n), 0, 1).round(4)
    rows = [(f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}", y_true[i], int(score[i] > 0.5), score[i]) for i in range(n)]
    return csv_bytes(["timestamp", "y_true", "y_pred", "y_score"], rows), y_true, (score > 0.5).astype(int), score


@pytest.fixture
def classifier_version(world, validating):
    Model.objects.filter(pk=world.mine.pk).update(purpose="risk", model_type="random_forest")
    version = ModelVersion.objects.get(pk=validating.pk)
    version.model.refresh_from_db()
    return version


def attach(world, version, name, content):
    return services.evidence_add(world.developer, version, file=SimpleUploadedFile(name, content), kind="dataset")


@pytest.mark.django_db
def test_it_proposes_a_plan_by_model_type_and_runs_it(
    world, validating, api, classifier_version, django_capture_on_commit_callbacks
):
    content, y_true, y_pred, y_score = predictions_csv()
    dataset = attach(world, classifier_version, "preds.csv", content)
    client = api.as_user(world.validator)
    proposal = client.get("/api/v1/models/mine/versions/2.0/validation-plan/").json()
    assert proposal["template"] == "classifier" and {t["metric"] for t in proposal["tests"]} >= {"roc_auc", "f1"}
    ModelVersion.objects.filter(pk=classifier_version.pk).update(
        claimed_performance={"roc_auc": round(sk.roc_auc_score(y_true, y_score), 6), "accuracy": 0.99}
    )
    assert client.put("/api/v1/models/mine/versions/2.0/validation-plan/", proposal, format="json").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/models/mine/versions/2.0/validation-runs/", {"dataset": dataset.pk}, format="json"
        )
    assert response.status_code == 202
    run = client.get(f"/api/v1/validation-runs/{response.json()['id']}/").json()
    assert run["status"] == "succeeded" and run["progress"] == 100
    by_test = {r["test"]: r for r in run["results"]}
    assert by_test["roc_auc"]["value"] == pytest.approx(sk.roc_auc_score(y_true, y_score), abs=1e-12)
    assert by_test["accuracy"]["value"] == pytest.approx(sk.accuracy_score(y_true, y_pred), abs=1e-12)
    assert by_test["re-perform roc_auc"]["outcome"] == "pass"
    assert by_test["re-perform accuracy"]["outcome"] == "fail"  # the developer over-claimed
    assert all(r["outcome"] in ("pass", "warn", "fail", "skipped") for r in run["results"])
    skipped = {r["metric"]: r["reason"] for r in run["results"] if r["outcome"] == "skipped"}
    # Nothing was given for the overfitting and stability tests, and the report says so instead of hiding it.
    assert "split date" in skipped["accuracy_gap"] and "training sample" in skipped["psi"]
    assert "volatility" in skipped["accuracy_high_vol"]
    assert run["report_url"] and run["charts"]["roc"]["auc"] == pytest.approx(by_test["roc_auc"]["value"])


@pytest.mark.django_db
def test_it_gives_the_same_results_for_the_same_inputs(world, classifier_version):
    content, *_ = predictions_csv()
    dataset = attach(world, classifier_version, "preds.csv", content)
    validation.plan_save(world.validator, classifier_version)
    runs = [validation.run_start(world.validator, classifier_version, dataset) for _ in range(2)]
    statuses = [validation.run_execute(run.pk) for run in runs]
    assert statuses == ["succeeded", "succeeded"]
    first, second = (ValidationRun.objects.get(pk=r.pk) for r in runs)
    assert first.results == second.results and first.input_sha256 == second.input_sha256
    assert validation.run_execute(first.pk) == "succeeded"  # a redelivered message does not redo a finished run
    assert ValidationRun.objects.get(pk=first.pk).attempts == 1


LATIN1_LATE = (
    "timestamp,y_true,y_pred,note\n" + "2026-01-01T00:00:00,1,0,ok\n" * 4000 + "2026-01-02,1,1,caf\xe9\n"
).encode("latin-1")
BAD = [
    ("missing.csv", csv_bytes(["timestamp", "y_true"], [("2026-01-01", 1)]), "missing column(s) y_pred"),
    (
        "text.csv",
        csv_bytes(["timestamp", "y_true", "y_pred"], [("2026-01-01", 1, 0), ("2026-01-02", "x", 1)]),
        "column y_true, row 3",
    ),
    (
        "nan.csv",
        csv_bytes(["timestamp", "y_true", "y_pred"], [("2026-01-01", 1, 0), ("2026-01-02", 1, "")]),
        "column y_pred, row 3",
    ),
    (
        "order.csv",
        csv_bytes(["timestamp", "y_true", "y_pred"], [("2026-01-02", 1, 0), ("2026-01-01", 1, 1)]),
        "row 3: timestamps go backwards",
    ),
    (
        "labels.csv",
        csv_bytes(["timestamp", "y_true", "y_pred"], [("2026-01-01", 2, 0), ("2026-01-02", 1, 1)]),
        "y_true must be 0 or 1",
    ),
    ("header-only.csv", b"timestamp,y_true,y_pred\n", "no rows"),
    # Past the upload sniffer's 64 KiB probe, so only the run's full read can catch it.
    ("latin1.csv", LATIN1_LATE, "row 4002: the file is not UTF-8 text"),
    ("short-row.csv", b"timestamp,y_true,y_pred\n2026-01-01,1,0\n2026-01-02,1\n", "row 3: Expected 3 columns, got 2"),
    ("inf.csv", b"timestamp,y_true,y_pred,y_score\n2026-01-01,1,0,0.2\n2026-01-02,1,1,inf\n", "column y_score, row 3"),
    ("not-a-time.csv", b"timestamp,y_true,y_pred\nyesterday,1,0\n", "not timestamps"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("name,content,message", BAD)
def test_it_fails_bad_input_with_a_precise_reason_and_no_results(name, content, message, world, classifier_version):
    dataset = attach(world, classifier_version, name, content)
    validation.plan_save(world.validator, classifier_version)
    run = validation.run_start(world.validator, classifier_version, dataset)
    assert validation.run_execute(run.pk) == "failed"
    run.refresh_from_db()
    assert message in run.error and name in run.error and run.results == []


def returns_rows(n=500):
    returns = RNG.normal(0.0008, 0.01, n)
    rows = [(f"2025-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}T{i // 336:02d}:00:00", r) for i, r in enumerate(returns)]
    return sorted(rows)


@pytest.mark.django_db
def test_a_trading_classifier_is_tested_on_its_returns_and_on_its_prediction_log(world, validating):
    """mine is an alpha model that is a gradient-boosting classifier: its plan holds the strategy tests, run on
    its returns, and the classifier tests, run on its prediction log; each result comes from its own file."""
    version = ModelVersion.objects.get(pk=validating.pk)
    rows = returns_rows()
    returns = attach(world, version, "returns.csv", csv_bytes(["timestamp", "return"], rows))
    content, y_true, y_pred, y_score = predictions_csv()
    log = attach(world, version, "preds.csv", content)
    plan = validation.plan_save(world.validator, version)
    assert plan.template == "strategy_classifier"
    assert {"sharpe", "max_drawdown", "precision", "recall", "roc_auc"} <= {t["metric"] for t in plan.tests}

    run = validation.run_start(world.validator, version, returns, prediction_log=log)
    assert validation.run_execute(run.pk) == "succeeded"
    run.refresh_from_db()
    by_metric = {r["metric"]: r for r in run.results}
    ordered = np.array([r for _, r in rows])
    assert by_metric["sharpe"]["value"] == pytest.approx(ordered.mean() / ordered.std(ddof=1) * np.sqrt(252), abs=1e-9)
    assert by_metric["precision"]["value"] == pytest.approx(sk.precision_score(y_true, y_pred), abs=1e-12)
    assert by_metric["recall"]["value"] == pytest.approx(sk.recall_score(y_true, y_pred), abs=1e-12)
    assert by_metric["roc_auc"]["value"] == pytest.approx(sk.roc_auc_score(y_true, y_score), abs=1e-12)
    assert [(f["role"], f["name"]) for f in run.fingerprints] == [
        ("returns", "returns.csv"),
        ("prediction log", "preds.csv"),
    ]
    headline = [m["metric"] for m in run.metrics if m["headline"]]
    assert headline == ["total_return", "sharpe", "max_drawdown", "accuracy", "roc_auc", "f1"]
    assert {"equity", "roc", "confusion"} <= set(run.charts)


@pytest.mark.django_db
def test_a_finding_raised_from_a_run_cites_the_file_its_test_was_computed_on(world, validating, browser_client):
    """In a two-part run, a failed classifier test was computed on the prediction log: the prefilled finding
    names that file and its hash, not the returns file's."""
    version = ModelVersion.objects.get(pk=validating.pk)
    returns = attach(world, version, "returns.csv", csv_bytes(["timestamp", "return"], returns_rows()))
    log = attach(world, version, "preds.csv", predictions_csv()[0])
    plan = validation.plan_save(world.validator, version)
    impossible = [{**t, "pass": 0.999, "fail": 0.998, "higher_is_better": True} for t in plan.tests]
    plan = validation.plan_save(world.validator, version, tests=impossible)  # every graded test fails
    run = validation.run_start(world.validator, version, returns, prediction_log=log)
    assert validation.run_execute(run.pk) == "succeeded"
    page = browser_client.as_user(world.validator).get(f"/validation-runs/{run.pk}/").content.decode()
    cited = {}
    for link in re.findall(r'data-testid="raise-finding" href="([^"]+)"', page):
        query = parse_qs(urlsplit(html.unescape(link)).query)
        cited[query["finding_test"][0]] = query["finding_description"][0]
    by_file = {
        name: [t for t, d in cited.items() if f"on {name} (SHA-256 {e.sha256})" in d]
        for name, e in (("returns.csv", returns), ("preds.csv", log))
    }
    assert by_file["returns.csv"] and by_file["preds.csv"], cited
    assert set(by_file["returns.csv"]) | set(by_file["preds.csv"]) == set(cited)  # each names exactly one file
    run.refresh_from_db()
    part = {r["test"]: r["metric"] for r in run.results}
    for test in by_file["preds.csv"]:
        assert plans.input_of(run.plan_snapshot["template"], part[test]) == "prediction_log"


@pytest.mark.django_db
def test_without_a_prediction_log_the_type_tests_are_skipped_with_the_reason(world, validating):
    version = ModelVersion.objects.get(pk=validating.pk)
    returns = attach(world, version, "returns.csv", csv_bytes(["timestamp", "return"], returns_rows()))
    validation.plan_save(world.validator, version)
    run = validation.run_start(world.validator, version, returns)
    assert validation.run_execute(run.pk) == "succeeded"
    run.refresh_from_db()
    by_metric = {r["metric"]: r for r in run.results}
    assert by_metric["sharpe"]["outcome"] in ("pass", "warn", "fail")
    for metric in ("accuracy", "precision", "recall", "roc_auc"):
        assert by_metric[metric]["outcome"] == "skipped"
        assert by_metric[metric]["reason"] == "no prediction log was chosen for this run"


@pytest.mark.django_db
def test_a_bad_prediction_log_fails_the_run_naming_that_file(world, validating):
    version = ModelVersion.objects.get(pk=validating.pk)
    returns = attach(world, version, "returns.csv", csv_bytes(["timestamp", "return"], returns_rows()))
    log = attach(world, version, "preds.csv", csv_bytes(["timestamp", "y_true"], [("2026-01-01", 1)] * 5))
    validation.plan_save(world.validator, version)
    run = validation.run_start(world.validator, version, returns, prediction_log=log)
    assert validation.run_execute(run.pk) == "failed"
    run.refresh_from_db()
    assert run.error.startswith("preds.csv") and "y_pred" in run.error and run.results == []


@pytest.mark.django_db
def test_a_single_dataset_plan_refuses_a_prediction_log(world, validating, api, classifier_version):
    content, *_ = predictions_csv()
    dataset = attach(world, classifier_version, "preds.csv", content)
    validation.plan_save(world.validator, classifier_version)
    response = api.as_user(world.validator).post(
        "/api/v1/models/mine/versions/2.0/validation-runs/",
        {"dataset": dataset.pk, "prediction_log": dataset.pk},
        format="json",
    )
    assert response.status_code == 400 and "prediction_log" in response.json()
    assert not ValidationRun.objects.filter(version=classifier_version).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("persona,expected", [("developer", 403), ("compliance", 403), ("validator2", 404)])
def test_it_lets_only_the_validator_set_up_and_start_runs(persona, expected, world, validating, api):
    response = api.as_user(getattr(world, persona)).put(
        "/api/v1/models/mine/versions/2.0/validation-plan/",
        {"template": "strategy", "tests": [{"test": "s", "metric": "sharpe", "pass": 1, "fail": 0}]},
        format="json",
    )
    assert response.status_code == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "plan,field",
    [
        ({"template": "astrology", "tests": []}, "template"),
        ({"template": "strategy", "tests": [{"metric": "sharpe", "pass": 0.1, "fail": 1.0}]}, "tests"),
        ({"template": "strategy", "tests": [{"metric": "sharpe", "pass": "high", "fail": 1.0}]}, "tests"),
        ({"template": "strategy", "tests": [{"metric": "roc_auc", "pass": 0.6, "fail": 0.5}]}, "tests"),
        (
            {
                "template": "strategy",
                "tests": [{"metric": "sharpe", "pass": 1, "fail": 0, "higher_is_better": "false"}],
            },
            "tests",
        ),
        ({"template": "strategy", "tests": [{"test": 7, "metric": "sharpe", "pass": 1, "fail": 0}]}, "tests"),
        (
            {
                "template": "strategy",
                "tests": [{"metric": "sharpe", "pass": 1, "fail": 0}],
                "options": {"periods_per_year": 0},
            },
            "options",
        ),
    ],
)
def test_it_rejects_plans_that_cannot_run(plan, field, world, validating, api):
    response = api.as_user(world.validator).put(
        "/api/v1/models/mine/versions/2.0/validation-plan/", plan, format="json"
    )
    assert response.status_code == 400 and field in response.json()


@pytest.mark.django_db
def test_it_sets_up_runs_and_shows_validation_on_the_pages(
    world, validating, browser_client, classifier_version, django_capture_on_commit_callbacks
):
    content, *_ = predictions_csv()
    dataset = attach(world, classifier_version, "preds.csv", content)
    client = browser_client.as_user(world.validator)
    assert client.post("/models/mine/versions/2.0/validation-plan/").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/models/mine/versions/2.0/validation-runs/", {"dataset": dataset.pk})
    run = ValidationRun.objects.get()
    assert response["Location"] == f"/validation-runs/{run.pk}/"
    page = client.get(f"/validation-runs/{run.pk}/")
    assert page.context["run"].status == "succeeded" and b"roc_auc" in page.content
    assert b'http-equiv="refresh"' not in page.content
    version_page = client.get("/models/mine/versions/2.0/")
    assert b"Validation plan and runs" in version_page.content and b"preds.csv" in version_page.content
    assert browser_client.as_user(world.trader).get(f"/validation-runs/{run.pk}/").status_code == 404
    assert (
        b"Validation plan and runs"
        not in browser_client.as_user(world.trader).get("/models/mine/versions/2.0/").content
    )
    assert browser_client.as_user(world.developer).post("/models/mine/versions/2.0/validation-plan/").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("tier,expected", [(1, 400), (3, 200)])
def test_it_keeps_overfitting_tests_in_tier_1_plans(tier, expected, world, validating, api):
    Model.objects.filter(pk=world.mine.pk).update(risk_tier=tier)
    plan = {"template": "strategy", "tests": [{"test": "s", "metric": "sharpe", "pass": 1, "fail": 0}]}
    response = api.as_user(world.validator).put(
        "/api/v1/models/mine/versions/2.0/validation-plan/", plan, format="json"
    )
    assert response.status_code == expected
    if expected == 400:
        assert "deflated_sharpe, pbo, sharpe_gap" in str(response.json()["tests"])


@pytest.mark.django_db
def test_it_names_unnamed_tests_after_their_metric_and_drops_unknown_keys(world, validating, api):
    Model.objects.filter(pk=world.mine.pk).update(risk_tier=3)
    plan = {"template": "strategy", "tests": [{"metric": "sharpe", "pass": 1, "fail": 0, "colour": "red"}]}
    response = api.as_user(world.validator).put(
        "/api/v1/models/mine/versions/2.0/validation-plan/", plan, format="json"
    )
    assert response.status_code == 200
    assert response.json()["tests"] == [
        {"test": "sharpe", "metric": "sharpe", "higher_is_better": True, "pass": 1, "fail": 0}
    ]


@pytest.mark.django_db
def test_once_signed_the_plan_and_runs_are_closed_to_the_validator(world, api, browser_client):
    """mine 1.0 is in production: what its sign-off rests on can no longer change (409, nothing written)."""
    version = world.mine_v1
    dataset = attach(world, version, "returns.csv", csv_bytes(["timestamp", "return"], returns_rows()))
    client = api.as_user(world.validator)
    plan = {"template": "strategy", "tests": [{"metric": "sharpe", "pass": 1, "fail": 0}]}
    response = client.put("/api/v1/models/mine/versions/1.0/validation-plan/", plan, format="json")
    assert response.status_code == 409 and "in validation" in response.json()["detail"]
    response = client.post("/api/v1/models/mine/versions/1.0/validation-runs/", {"dataset": dataset.pk}, format="json")
    assert response.status_code == 409
    assert not ValidationRun.objects.filter(version=version).exists()
    page = browser_client.as_user(world.validator)
    html = page.get("/models/mine/versions/1.0/").content.decode()
    assert "Run validation" not in html and "Set up the plan" not in html
    assert page.post("/models/mine/versions/1.0/validation-plan/").status_code == 302
    assert page.get("/models/mine/versions/1.0/validation-plan/edit/").status_code == 302


@pytest.mark.parametrize(
    "claimed,value,outcome",
    [
        (0.53, 0.5349, "pass"),  # a claim of 0.53 holds for anything that rounds to 0.53
        (0.53, 0.5352, "fail"),
        (1.4, 1.36, "pass"),
        (1.4, 1.449, "pass"),
        (1.4, 1.34, "fail"),
        (2, 2.4, "pass"),  # a whole number: within half a unit
        (2, 2.6, "fail"),
        (0.612345, 0.6130, "pass"),  # stated to six places: the plan's tolerance (0.001) is the floor
        (0.612345, 0.6140, "fail"),
    ],
)
def test_a_claim_is_re_performed_at_the_precision_it_was_stated_with(claimed, value, outcome):
    from risk.validation.engine import _reperform, _Work

    work = _Work("strategy", {"tolerance": 1e-3}, {})
    work.values["sharpe"] = value
    (row,) = _reperform({"claimed_performance": {"sharpe": claimed}}, work)
    assert row["outcome"] == outcome, row


def test_the_page_says_at_what_precision_a_claim_was_compared():
    from risk.validation.engine import _reperform, _Work

    work = _Work("strategy", {"tolerance": 1e-3}, {})
    work.values["sharpe"] = 0.531
    (row,) = _reperform({"claimed_performance": {"sharpe": 0.53}}, work)
    assert plans.claim_precision(row["threshold"]) == "stated as 2 decimals: holds within ±0.005"
    assert plans.claim_precision({"claimed": 2, "tolerance": 0.5, "stated_decimals": 0}).startswith(
        "stated as a whole number: holds within ±0.5"
    )
    assert plans.claim_precision({"claimed": 0.5, "tolerance": 0.001}) == "tolerance 0.001"  # a run from before


@pytest.mark.django_db
def test_a_huge_failure_message_is_stored_cut_with_a_note(world, classifier_version, monkeypatch):
    from governance.core.error_text import MAX_CHARS
    from risk.validation import engine
    from risk.validation.datasets import DatasetError

    def fails(run, on_progress):
        raise DatasetError("row 3: " + "bad value " * 120_000)  # 1.2 MB

    monkeypatch.setattr(engine, "compute", fails)
    content, *_ = predictions_csv(50)
    dataset = attach(world, classifier_version, "preds.csv", content)
    validation.plan_save(world.validator, classifier_version)
    run = validation.run_start(world.validator, classifier_version, dataset)
    assert validation.run_execute(run.pk) == "failed"
    run.refresh_from_db()
    assert len(run.error) <= MAX_CHARS and run.error.startswith("row 3: bad value")
    assert "1,200,007 characters in all" in run.error
    assert len(run.job.error) <= MAX_CHARS


@pytest.mark.slow(reason="renders the whole version page (every panel) twice, before and after attaching a file")
@pytest.mark.django_db
def test_the_run_form_says_how_to_attach_evidence_until_there_is_some(world, classifier_version, browser_client):
    """No empty file choices: without a dataset the validator reads what a run needs and where to attach it;
    once one is attached, the form offers it."""
    validation.plan_save(world.validator, classifier_version)
    client = browser_client.as_user(world.validator)
    url = f"/models/mine/versions/{classifier_version.version}/"
    page = client.get(url).content.decode()
    assert 'data-testid="run-needs-evidence"' in page and 'href="#attach-evidence"' in page
    assert 'id="attach-evidence"' in page and 'name="dataset"' not in page
    attach(world, classifier_version, "predictions.csv", predictions_csv()[0])
    page = client.get(url).content.decode()
    assert 'data-testid="run-needs-evidence"' not in page
    assert re.search(r'<select name="dataset"[^>]* required[^>]*>.*?predictions\.csv</option>', page, re.S)
