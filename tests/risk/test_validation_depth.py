"""Robustness and explainability as graded tests of a validation run (issue 23): permutation importance, partial
dependence, perturbation, the developer's attributions checked and the linear challenger for a classifier run by
its ONNX model; market scenarios, transaction costs and parameter sensitivity for a strategy. Bad input (a window
outside the data, attributions of the wrong shape, a model without a training sample) gives a reason and the run
completes. Chart data follow the contract with the display (notes CHARTS23)."""

import re

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from models_registry.models import Model, ModelVersion
from risk.metrics import robustness
from risk.validation import depth, plans, services
from risk.validation import runs as validation
from risk.validation.models import ValidationPlan
from tests.risk import onnx_models

FEATURES = ["spread_z", "momentum_z", "noise_z"]
TRAIN, LOG = 600, 400


def _version(world, validating, purpose, model_type, complexity="medium"):
    Model.objects.filter(pk=world.mine.pk).update(purpose=purpose, model_type=model_type, complexity_rating=complexity)
    version = ModelVersion.objects.get(pk=validating.pk)
    version.model.refresh_from_db()
    validation.plan_save(world.validator, version)
    return version


def attach(world, version, name, content, kind="dataset"):
    return services.evidence_add(world.developer, version, file=SimpleUploadedFile(name, content), kind=kind)


def run(world, version, dataset, capture, **inputs):
    with capture(execute=True):
        started = validation.run_start(world.validator, version, dataset, **inputs)
    started.refresh_from_db()
    assert started.status == "succeeded", started.error
    return started, {r["metric"]: r for r in started.results}


def set_options(world, version, **options):
    plan = ValidationPlan.objects.get(version=version)
    validation.plan_save(world.validator, version, options={**plan.options, **options})


@pytest.fixture(scope="module")
def forest_files():
    """A training sample and a prediction log where the label follows spread_z, then momentum_z, never noise_z;
    the log is scored by a scikit-learn forest, and the forest converted to ONNX."""
    rng = np.random.default_rng(2311)
    X = rng.normal(size=(TRAIN + LOG, 3))
    y = (1.5 * X[:, 0] + 0.7 * X[:, 1] + rng.normal(size=TRAIN + LOG) > 0).astype(np.int64)
    forest, content = onnx_models.forest(X[:TRAIN], y[:TRAIN])
    test = X[TRAIN:].astype(np.float32)
    score = forest.predict_proba(test)[:, 1]
    log = {
        "timestamp": onnx_models.stamps(LOG),
        "y_true": y[TRAIN:],
        "y_pred": forest.predict(test).astype(np.int64),
        "y_score": score,
    } | {f: X[TRAIN:, j] for j, f in enumerate(FEATURES)}
    training = {f: X[:TRAIN, j] for j, f in enumerate(FEATURES)} | {"y_true": y[:TRAIN]}
    return {"log": log, "training": training, "model": content, "X": X, "y": y}


@pytest.fixture
def classifier(world, validating):
    return _version(world, validating, "risk", "random_forest", complexity="high")


def files(world, version, forest_files, *, training=True):
    log = attach(world, version, "log.parquet", onnx_models.parquet(forest_files["log"]))
    model = attach(world, version, "forest.onnx", forest_files["model"], kind="model_onnx")
    reference = attach(world, version, "train.parquet", onnx_models.parquet(forest_files["training"]))
    return log, model, reference if training else None


@pytest.mark.django_db
def test_a_classifier_run_explains_its_model_and_weighs_it_against_a_linear_challenger(
    world, classifier, forest_files, django_capture_on_commit_callbacks
):
    log, model, reference = files(world, classifier, forest_files)
    done, rows = run(world, classifier, log, django_capture_on_commit_callbacks, model=model, reference=reference)

    importance = done.charts["importance"]
    assert set(importance) == {"metric", "repeats", "confidence", "feature", "mean", "low", "high"}
    assert (importance["metric"], importance["repeats"], importance["confidence"]) == ("accuracy", 5, 0.95)
    assert importance["feature"][0] == "spread_z" and importance["feature"][-1] == "noise_z"
    assert importance["mean"] == sorted(importance["mean"], reverse=True)
    significant = sum(low > 0 for low in importance["low"])
    assert (rows["importance_significant"]["value"], rows["importance_significant"]["outcome"]) == (significant, "pass")
    assert significant >= 1 and "features lower accuracy when shuffled" in rows["importance_significant"]["reason"]

    dependence = done.charts["partial_dependence"]
    assert dependence["output"] == "probability of class 1"
    assert [f["feature"] for f in dependence["features"]] == importance["feature"][:3]
    spread = dependence["features"][0]
    assert len(spread["grid"]) == len(spread["average"]) == depth.PD_GRID
    assert spread["average"][-1] > spread["average"][0]  # the label rises with spread_z, and so does the model

    perturbation = done.charts["perturbation"]
    assert set(perturbation) == {"metric", "baseline", "levels", "all_features", "per_feature", "missing"}
    assert perturbation["levels"] == [0.1, 0.25, 0.5] and set(perturbation["per_feature"]) == set(FEATURES)
    assert rows["perturbation_drop"]["value"] == perturbation["all_features"][-1]
    assert perturbation["per_feature"]["spread_z"][-1] > perturbation["per_feature"]["noise_z"][-1]
    assert "missing values tried: the model accepts them" in rows["perturbation_drop"]["reason"]  # trees route NaN

    # The challenger equals scikit-learn's logistic regression fitted on the training sample.
    train, log_columns = forest_files["training"], forest_files["log"]
    reference_fit = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000, random_state=0))
    reference_fit.fit(np.column_stack([train[f] for f in FEATURES]), train["y_true"])
    linear = reference_fit.predict_proba(np.column_stack([log_columns[f] for f in FEATURES]))[:, 1]
    expected = np.mean(log_columns["y_pred"] == log_columns["y_true"]) - np.mean(
        (linear > 0.5) == log_columns["y_true"]
    )
    challenger = done.charts["challenger"]
    assert challenger["uplift"] == pytest.approx(expected, abs=1e-12)
    assert (challenger["required"], challenger["complexity"]) == (0.02, "high")
    assert challenger["low"] <= challenger["uplift"] <= challenger["high"]
    margin = rows["challenger_margin"]
    assert margin["value"] == pytest.approx(expected - 0.02, abs=1e-12)
    # A forest on a linear signal does not beat the linear model by two points: its complexity is not paid for.
    assert margin["value"] < -0.01 and margin["outcome"] == "fail"
    assert margin["reason"].startswith("the complexity is not paid for: accuracy")
    labelled = {m["metric"]: m for m in done.metrics}
    assert labelled["challenger_uplift"]["label"] == "Uplift over the linear challenger"
    assert labelled["importance_significant"]["unit"] == "count"

    # A low-complexity model asked for less: the same uplift, now within the plan.
    Model.objects.filter(pk=classifier.model_id).update(complexity_rating="low")
    set_options(world, classifier, challenger_uplift={"low": expected + 0.005, "medium": 0.01, "high": 0.02})
    _, rows = run(world, classifier, log, django_capture_on_commit_callbacks, model=model, reference=reference)
    assert rows["challenger_margin"]["outcome"] == "warn"
    set_options(world, classifier, challenger_uplift={"low": expected - 0.5, "medium": 0.01, "high": 0.02})
    _, rows = run(world, classifier, log, django_capture_on_commit_callbacks, model=model, reference=reference)
    assert rows["challenger_margin"]["outcome"] == "pass"
    assert not rows["challenger_margin"]["reason"].startswith("the complexity is not paid for")


def attributions(forest_files, *, shift=0.0, drop=None, rows=LOG):
    """Attributions that add up to the model's probability (each feature's centred value, weighted by how much it
    matters; the base value takes the rest), optionally with the base value shifted."""
    log = forest_files["log"]
    weights = {"spread_z": 0.3, "momentum_z": 0.1, "noise_z": 0.001}
    columns = {f: (log[f] - log[f].mean()) * w for f, w in weights.items()}
    columns["base_value"] = log["y_score"] - sum(columns.values()) + shift
    columns = {k: v[:rows] for k, v in columns.items() if k != drop}
    return onnx_models.parquet(columns)


@pytest.mark.django_db
def test_the_developers_attributions_are_checked_and_a_wrong_file_fails_with_the_reason(
    world, classifier, forest_files, django_capture_on_commit_callbacks
):
    log, model, _ = files(world, classifier, forest_files, training=False)

    def check(name, content):
        shap = attach(world, classifier, name, content, kind="attributions")
        return run(world, classifier, log, django_capture_on_commit_callbacks, model=model, attributions=shap)

    done, rows = check("shap.parquet", attributions(forest_files))
    assert (rows["attribution_local_accuracy"]["value"], rows["attribution_local_accuracy"]["outcome"]) == (0, "pass")
    assert "differ from the model's probability" in rows["attribution_local_accuracy"]["reason"]
    assert rows["attribution_rank_agreement"]["value"] == pytest.approx(1.0)
    assert rows["attribution_rank_agreement"]["outcome"] == "pass"
    chart = done.charts["attributions"]
    assert chart["feature"] == FEATURES and chart["importance_rank"] == [1, 2, 3]
    assert (chart["rows_checked"], chart["rows_off"], chart["tolerance"]) == (LOG, 0, 1e-5)
    assert chart["worst_error"] < 1e-5 and chart["mean_abs"][0] > chart["mean_abs"][1] > chart["mean_abs"][2]

    _, rows = check("shap-shifted.parquet", attributions(forest_files, shift=0.01))  # a shifted base value
    assert (rows["attribution_local_accuracy"]["value"], rows["attribution_local_accuracy"]["outcome"]) == (LOG, "fail")
    assert re.search(r"; row \d+: off by 0\.01", rows["attribution_local_accuracy"]["reason"])

    for name, content, said in (
        ("shap-short.parquet", attributions(forest_files, rows=LOG - 1), f"{LOG - 1} rows of attributions for {LOG}"),
        ("shap-narrow.parquet", attributions(forest_files, drop="noise_z"), "missing column(s) noise_z"),
    ):
        done, rows = check(name, content)
        for metric in ("attribution_local_accuracy", "attribution_rank_agreement"):
            assert (rows[metric]["outcome"], rows[metric]["value"]) == ("fail", None)
            assert (
                rows[metric]["reason"].startswith("the attributions cannot be checked: ")
                and said in rows[metric]["reason"]
            )
        assert rows["importance_significant"]["outcome"] == "pass" and rows["accuracy"]["value"] is not None
        assert "attributions" not in done.charts


@pytest.mark.django_db
def test_without_a_model_or_a_training_sample_each_test_says_why_it_was_skipped(
    world, classifier, forest_files, django_capture_on_commit_callbacks
):
    log, model, _ = files(world, classifier, forest_files, training=False)
    done, rows = run(world, classifier, log, django_capture_on_commit_callbacks)
    for metric in ("importance_significant", "perturbation_drop", "attribution_local_accuracy"):
        assert rows[metric]["outcome"] == "skipped"
        assert rows[metric]["reason"] == "the model could not be run: no ONNX file was chosen for this run"
    assert rows["challenger_margin"]["outcome"] == "skipped"
    assert (
        rows["challenger_margin"]["reason"]
        == "no training sample was chosen for this run: the challenger is fitted on it"
    )
    assert not {"importance", "perturbation", "challenger"} & set(done.charts)

    done, rows = run(world, classifier, log, django_capture_on_commit_callbacks, model=model)  # model, no sample
    assert rows["challenger_margin"]["outcome"] == "skipped" and rows["importance_significant"]["outcome"] == "pass"
    assert rows["attribution_rank_agreement"]["reason"] == "no attributions file was chosen for this run"
    assert {"importance", "partial_dependence", "perturbation"} <= set(done.charts)


@pytest.mark.django_db
def test_a_training_sample_without_outcomes_fails_the_challenger_with_the_reason(
    world, classifier, forest_files, django_capture_on_commit_callbacks
):
    log, _, _ = files(world, classifier, forest_files, training=False)
    unlabelled = {f: forest_files["training"][f] for f in FEATURES}
    reference = attach(world, classifier, "features-only.parquet", onnx_models.parquet(unlabelled))
    _, rows = run(world, classifier, log, django_capture_on_commit_callbacks, reference=reference)
    assert rows["challenger_margin"]["outcome"] == "fail"
    assert "the challenger could not be fitted on the training sample" in rows["challenger_margin"]["reason"]
    assert "missing column(s) y_true" in rows["challenger_margin"]["reason"]
    assert rows["psi"]["outcome"] in ("pass", "warn", "fail")  # the stability tests read the same sample


@pytest.mark.django_db
def test_a_model_refusing_missing_values_is_perturbed_without_them(
    world, validating, django_capture_on_commit_callbacks
):
    regressor = _version(world, validating, "risk", "linear_regression")
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=300), rng.normal(size=300)
    value = (a.astype(np.float32) * 0.5 + b.astype(np.float32) * -2.0).astype(np.float64)
    log = onnx_models.parquet(
        {"timestamp": onnx_models.stamps(300), "y_true": value + rng.normal(size=300), "y_pred": value, "a": a, "b": b}
    )
    model = attach(world, regressor, "linear.onnx", onnx_models.linear_by_name(["a", "b"], [0.5, -2.0]), "model_onnx")
    done, rows = run(
        world, regressor, attach(world, regressor, "log.parquet", log), django_capture_on_commit_callbacks, model=model
    )
    assert "missing" not in done.charts["perturbation"]  # NaN in, NaN out: the model does not accept it
    assert "missing values not tried" in rows["perturbation_drop"]["reason"]
    assert done.charts["perturbation"]["metric"] == "directional accuracy"
    assert done.charts["importance"]["feature"][0] == "b"  # the larger weight
    assert done.charts["partial_dependence"]["output"] == "predicted value"


# --- the strategy: market scenarios, transaction costs, parameter sensitivity ------------------------------------


def backtest(days=600, start="2019-06-03", crash=True, positions=True):
    """Daily returns from June 2019 with a fall of 2.5% a day through March 2020, and positions that trade."""
    rng = np.random.default_rng(5)
    stamps = np.busday_offset(np.datetime64(start), np.arange(days), roll="forward")
    returns = rng.normal(0.0015, 0.006, days)
    if crash:
        march = (stamps >= np.datetime64("2020-03-02")) & (stamps <= np.datetime64("2020-03-20"))
        returns[march] = -0.025
    columns = {"timestamp": stamps.astype("datetime64[s]"), "return": returns}
    if positions:
        columns["position"] = np.where(np.arange(days) % 10 < 5, 1.0, -1.0)
    return columns


def trials(days=600):
    """A grid of configurations: Sharpe rises smoothly with the lookback, except one that jumps."""
    rng = np.random.default_rng(6)
    noise = rng.normal(0, 0.01, days)
    columns = {}
    for lookback in (10, 20, 40):
        for threshold in (0.5, 1.0):
            drift = 0.0004 * lookback / 40 + (0.004 if (lookback, threshold) == (40, 1.0) else 0)
            columns[f"lookback={lookback};threshold={threshold}"] = noise + drift + rng.normal(0, 0.002, days)
    return columns


@pytest.fixture
def strategy(world, validating):
    return _version(world, validating, "alpha", "rule_based")


@pytest.mark.django_db
def test_a_strategy_run_is_graded_in_market_scenarios_under_costs_and_across_its_configurations(
    world, strategy, django_capture_on_commit_callbacks
):
    windows = [
        {"name": "Repo spike", "start": "2019-09-16", "end": "2019-09-20"},
        {"name": "Before the data", "start": "2001-09-11", "end": "2001-09-30"},
    ]
    set_options(world, strategy, scenario_windows=windows, cost_per_turnover=0.0005)
    columns = backtest()
    returns = attach(world, strategy, "bt.parquet", onnx_models.parquet(columns), kind="backtest")
    matrix = trials()
    trial_file = attach(world, strategy, "trials.parquet", onnx_models.parquet(matrix), kind="trial_returns")
    done, rows = run(world, strategy, returns, django_capture_on_commit_callbacks, trial_returns=trial_file)

    scenarios = done.charts["scenarios"]
    assert set(scenarios["whole"]) == {"sharpe", "total_return", "max_drawdown"}
    by_name = {r["name"]: r for r in scenarios["rows"]}
    assert [r["name"] for r in scenarios["rows"]][-2:] == ["Repo spike", "Before the data"]
    assert by_name["Before the data"] == {
        "name": "Before the data",
        "start": "2001-09-11",
        "end": "2001-09-30",
        "source": "validator",
        "status": "outside the data",
        "periods": 0,
        "sharpe": None,
        "total_return": None,
        "max_drawdown": None,
    }
    covid = by_name["March 2020 Covid crash"]
    assert (covid["source"], covid["status"]) == ("default", "tested")
    assert covid["max_drawdown"] == pytest.approx(1 - 0.975**15)  # the fifteen falling days of March
    scenario = rows["scenario_max_drawdown"]
    assert (scenario["value"], scenario["outcome"]) == (pytest.approx(covid["max_drawdown"]), "fail")
    assert scenario["reason"].startswith("worst inside March 2020 Covid crash (2020-02-20 to 2020-04-30")
    assert "outside the data: 2008 financial crisis" in scenario["reason"]

    costs = done.charts["costs"]
    assert costs["multiples"] == [0, 1, 2, 3] and costs["cost"] == 0.0005
    turnover = np.abs(np.diff(np.concatenate(([0.0], columns["position"])))).mean()
    breakeven = columns["return"].mean() / (0.0005 * turnover)
    assert costs["breakeven_multiple"] == pytest.approx(breakeven)
    assert rows["cost_breakeven_multiple"]["value"] == pytest.approx(breakeven)
    assert rows["cost_breakeven_multiple"]["outcome"] == plans.outcome(plans.STRESS[1], breakeven)
    assert costs["sharpe"] == sorted(costs["sharpe"], reverse=True)

    sensitivity = done.charts["parameter_sensitivity"]
    expected = robustness.parameter_sensitivity(np.column_stack(list(matrix.values())), list(matrix))
    assert sensitivity["neighbours"] == "grid" and sensitivity["max_move"] == pytest.approx(expected["largest_move"])
    assert sensitivity["pairs"][0]["move"] == sensitivity["max_move"]
    assert sensitivity["pair_count"] == expected["neighbour_pairs"] >= len(sensitivity["pairs"])
    assert set(sensitivity["pairs"][0]) == {"a", "b", "parameter", "move"}
    assert "lookback=40;threshold=1.0" in (sensitivity["pairs"][0]["a"], sensitivity["pairs"][0]["b"])
    assert rows["parameter_sensitivity"]["outcome"] == "fail"  # the one configuration that jumps
    labelled = {m["metric"]: m for m in done.metrics}
    assert labelled["scenario_max_drawdown"]["unit"] == "percent"


@pytest.mark.django_db
def test_a_strategy_without_positions_or_windows_in_its_data_says_why_its_tests_were_skipped(
    world, strategy, django_capture_on_commit_callbacks
):
    set_options(world, strategy, cost_per_turnover=0.001)
    columns = backtest(days=200, start="2016-01-04", crash=False, positions=False)
    returns = attach(world, strategy, "bt.parquet", onnx_models.parquet(columns), kind="backtest")
    done, rows = run(world, strategy, returns, django_capture_on_commit_callbacks)
    assert rows["scenario_max_drawdown"]["outcome"] == "skipped"
    assert rows["scenario_max_drawdown"]["reason"].startswith(
        "every scenario window is outside the data (2016-01-04 to"
    )
    assert {r["status"] for r in done.charts["scenarios"]["rows"]} == {"outside the data"}
    assert rows["cost_breakeven_multiple"]["reason"].startswith("the returns have no position column")
    assert rows["parameter_sensitivity"]["reason"] == "no trial-returns matrix was chosen for this run"
    assert rows["sharpe"]["outcome"] in ("pass", "warn", "fail")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("windows", "said"),
    [
        ([{"name": "x", "start": "2020-13-01", "end": "2020-12-31"}], "start must be a date such as 2020-03-01"),
        ([{"name": "x", "start": "2020-03-31", "end": "2020-03-01"}], "it ends (2020-03-01) before it starts"),
        ([{"name": "x", "start": "2020-03-01"}], 'give exactly "name", "start" and "end"'),
        ("March 2020", "as a list of"),
    ],
)
def test_a_scenario_window_that_cannot_be_used_is_refused_naming_the_field(world, strategy, windows, said):
    with pytest.raises(ValidationError) as refused:
        set_options(world, strategy, scenario_windows=windows)
    assert said in refused.value.message_dict["scenario_windows"][0]


@pytest.mark.django_db
def test_the_plan_options_of_depth_validation_are_checked(world, strategy):
    for options, said in (
        ({"cost_per_turnover": -1}, "cost_per_turnover"),
        ({"perturbation_levels": []}, "perturbation_levels"),
        ({"challenger_uplift": {"low": 0}}, "challenger_uplift"),
        ({"importance_repeats": 0}, "importance_repeats"),
    ):
        with pytest.raises(ValidationError) as refused:
            set_options(world, strategy, **options)
        assert said in refused.value.message_dict["options"][0]


@pytest.mark.django_db
def test_a_plan_saved_before_depth_validation_runs_without_its_tests(
    world, classifier, forest_files, django_capture_on_commit_callbacks
):
    plan = ValidationPlan.objects.get(version=classifier)
    old = [t for t in plan.tests if t["metric"] not in {t["metric"] for t in plans.DEPTH}]
    options = {k: v for k, v in plan.options.items() if k not in plans.DEFAULT_OPTIONS or k == "tolerance"}
    ValidationPlan.objects.filter(pk=plan.pk).update(tests=old, options=options)
    log, model, reference = files(world, classifier, forest_files)
    done, rows = run(world, classifier, log, django_capture_on_commit_callbacks, model=model, reference=reference)
    assert not {t["metric"] for t in plans.DEPTH} & set(rows)
    assert "importance" not in done.charts and rows["predictions_reproduce"]["outcome"] == "pass"
