"""The template library of validation plans, and checking a validator's edits to a plan.

A test is {"test", "metric", "higher_is_better", "pass", "fail"}: a value on the good side of `pass`
passes, one on the bad side of `fail` fails, anything between warns.
"""

import re

from django.core.exceptions import ValidationError

from governance.core import moments
from risk.metrics.backtest import PERIODS_PER_YEAR

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _t(metric, higher, passing, failing):
    return {"test": metric, "metric": metric, "higher_is_better": higher, "pass": passing, "fail": failing}


# Shared by every template: overfitting (in-sample vs out-of-sample gap of the headline metric at the plan's
# split date) and stability (PSI and KS per feature and score against the training sample; the headline
# metric in the low- and high-volatility halves).
def _common(headline, gap_pass, gap_fail, floor_pass, floor_fail):
    return [
        _t(f"{headline}_gap", False, gap_pass, gap_fail),
        _t(f"{headline}_low_vol", True, floor_pass, floor_fail),
        _t(f"{headline}_high_vol", True, floor_pass, floor_fail),
    ]


STABILITY = [_t("psi", False, 0.10, 0.25), _t("ks", False, 0.10, 0.20)]
# Re-performance: Vigil runs the version's ONNX model on the prediction log's features; the value is the number of
# rows whose prediction differs from the log's beyond the plan's tolerances (any row fails by default).
REPRODUCE = _t("predictions_reproduce", False, 0, 0)
# Explainability, robustness and the challenger of a classifier or regressor (risk.validation.depth): features that
# measurably matter (at least one), the headline metric's drop under noise of half a feature's spread on every
# feature (in points of accuracy or directional accuracy), the developer's attributions (every row adds up; their
# ranking agrees with Vigil's), and the uplift over a linear challenger beyond what the complexity rating requires.
DEPTH = [
    _t("importance_significant", True, 1, 1),
    _t("perturbation_drop", False, 0.05, 0.10),
    _t("attribution_local_accuracy", False, 0, 0),
    _t("attribution_rank_agreement", True, 0.6, 0.3),
    _t("challenger_margin", True, 0.0, -0.01),
]
# A strategy's robustness (risk.validation.stress): the worst drawdown inside a named market scenario (the whole
# sample's limits), the multiple of the stated cost the edge survives, the largest Sharpe move between neighbours.
STRESS = [
    _t("scenario_max_drawdown", False, 0.15, 0.30),
    _t("cost_breakeven_multiple", True, 3.0, 1.0),
    _t("parameter_sensitivity", False, 0.5, 1.0),
]

TEMPLATES = {
    "classifier": {
        "input": "predictions",
        "headline": "accuracy",
        "figures": ["accuracy", "roc_auc", "f1"],
        "columns": ["timestamp", "y_true", "y_pred"],
        "optional_columns": ["y_score", "volatility"],
        "tests": [
            REPRODUCE,
            _t("accuracy", True, 0.55, 0.50),
            _t("precision", True, 0.55, 0.50),
            _t("recall", True, 0.50, 0.40),
            _t("f1", True, 0.52, 0.45),
            _t("roc_auc", True, 0.60, 0.52),
            _t("calibration_error", False, 0.05, 0.10),
            *_common("accuracy", 0.03, 0.08, 0.55, 0.50),
            *STABILITY,
            *DEPTH,
        ],
    },
    "regressor": {
        "input": "predictions",
        "headline": "directional_accuracy",
        "figures": ["directional_accuracy", "rmse", "r2"],
        "columns": ["timestamp", "y_true", "y_pred"],
        "optional_columns": ["volatility"],
        "tests": [
            REPRODUCE,
            _t("r2", True, 0.05, 0.0),
            _t("directional_accuracy", True, 0.53, 0.50),
            *_common("directional_accuracy", 0.03, 0.08, 0.53, 0.50),
            *STABILITY,
            *DEPTH,
        ],
    },
    "strategy": {
        "input": "returns",
        "headline": "sharpe",
        # The results the business reads first: what it made, per unit of risk, and the worst fall.
        "figures": ["total_return", "sharpe", "max_drawdown"],
        "columns": ["timestamp", "return"],
        "optional_columns": ["position", "benchmark"],
        "tests": [
            _t("sharpe", True, 1.0, 0.5),
            _t("sortino", True, 1.2, 0.6),
            _t("max_drawdown", False, 0.15, 0.30),
            _t("hit_rate", True, 0.52, 0.48),
            *_common("sharpe", 0.5, 1.0, 0.5, 0.0),
            _t("deflated_sharpe", True, 0.95, 0.50),
            _t("pbo", False, 0.20, 0.50),
            *STRESS,
        ],
    },
}


def _combined(kind: str) -> dict:
    """A trading model that is also a classifier or regressor: the strategy tests on its returns and the tests
    of its type on its prediction log, each on its own dataset (the run's `dataset` and `prediction_log`)."""
    strategy, other = TEMPLATES["strategy"], TEMPLATES[kind]
    return {
        "parts": ["strategy", kind],
        "headline": strategy["headline"],
        "figures": strategy["figures"] + other["figures"],
        "tests": strategy["tests"] + other["tests"],
    }


TEMPLATES["strategy_classifier"] = _combined("classifier")
TEMPLATES["strategy_regressor"] = _combined("regressor")

TEMPLATE_LABELS = {
    "strategy": "Strategy (returns)",
    "classifier": "Classifier (prediction log)",
    "regressor": "Regressor (prediction log)",
    "strategy_classifier": "Strategy and classifier (returns and prediction log)",
    "strategy_regressor": "Strategy and regressor (returns and prediction log)",
}


def parts(template: str) -> list[str]:
    """The single-dataset templates a plan is made of, in the order of the run's datasets."""
    return TEMPLATES[template].get("parts", [template])


def template_label(template: str) -> str:
    return TEMPLATE_LABELS.get(template, template)


def tests_predictions(template: str) -> bool:
    """Whether a plan tests a model's predictions (a classifier or regressor part), which its ONNX model can
    re-perform."""
    return bool({"classifier", "regressor"} & set(parts(template)))


def uses_prediction_log(template: str) -> bool:
    """Whether a run of this plan reads a prediction log besides its returns."""
    return len(parts(template)) > 1


# How each computed metric is named on the run page, in the API's labels and in the report.
METRIC_LABELS = {
    "total_return": "Total return",
    "annualised_return": "Annualised return",
    "annualised_volatility": "Annualised volatility",
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "max_drawdown": "Maximum drawdown",
    "max_drawdown_duration": "Longest drawdown (periods)",
    "hit_rate": "Hit rate",
    "turnover": "Turnover (mean absolute position change)",
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1 score",
    "roc_auc": "ROC AUC",
    "calibration_error": "Calibration error",
    "rmse": "RMSE",
    "mae": "Mean absolute error",
    "r2": "R squared",
    "directional_accuracy": "Directional accuracy",
    "deflated_sharpe": "Deflated Sharpe ratio",
    "pbo": "Probability of backtest overfitting",
    "trials": "Configurations tried",
    "pbo_mean_logit": "PBO: mean logit of the best configuration's rank",
    "pbo_p_oos_loss": "PBO: probability of an out-of-sample loss",
    "psi": "Population stability index",
    "ks": "Kolmogorov-Smirnov statistic",
    "predictions_reproduce": "Predictions reproduce (rows that differ)",
    "confusion_tp": "True positives",
    "confusion_tn": "True negatives",
    "confusion_fp": "False positives",
    "confusion_fn": "False negatives",
    "importance_significant": "Features that matter (permutation importance interval wholly above 0)",
    "perturbation_drop": "Drop of the headline metric under input noise",
    "attribution_local_accuracy": "Attributions that do not add up (rows)",
    "attribution_rank_agreement": "Attribution ranking against permutation importance (Spearman)",
    "challenger_margin": "Uplift over the challenger beyond what the complexity requires",
    "challenger_uplift": "Uplift over the linear challenger",
    "challenger_score": "The linear challenger's headline metric",
    "scenario_max_drawdown": "Worst drawdown in a market scenario",
    "cost_breakeven_multiple": "Cost multiple at which the edge disappears",
    "parameter_sensitivity": "Largest Sharpe move between neighbouring configurations",
    "parameter_sensitivity_median": "Median Sharpe move between neighbouring configurations",
}
# Figures derived from a headline metric: in and out of sample at the split date, and by volatility regime.
DERIVED_LABELS = {
    "is": "{} in sample",
    "oos": "{} out of sample",
    "gap": "{}: in-sample minus out-of-sample",
    "low_vol": "{} in low volatility",
    "high_vol": "{} in high volatility",
}


PERCENT_METRICS = {"total_return", "annualised_return", "annualised_volatility", "max_drawdown", "hit_rate"}
PERCENT_METRICS |= {"scenario_max_drawdown"}
COUNT_METRICS = {"max_drawdown_duration", "trials", "predictions_reproduce"}
COUNT_METRICS |= {"importance_significant", "attribution_local_accuracy"}
COUNT_METRICS |= {f"confusion_{c}" for c in ("tn", "fp", "fn", "tp")}


def metric_unit(name: str) -> str:
    """How a figure reads: a percentage, a count, or a plain ratio."""
    return "percent" if name in PERCENT_METRICS else "count" if name in COUNT_METRICS else "ratio"


OPTION_LABELS = {
    "periods_per_year": "Periods a year",
    "risk_free": "Risk-free rate",
    "split_date": "Split date",
    "trials": "Configurations tried",
    "trials_sharpe_variance": "Variance of the trials' Sharpe ratios",
    "pbo_blocks": "PBO blocks",
    "regime_window": "Volatility window (periods)",
    "features": "Features compared",
    "tolerance": "Re-performance tolerance",
    "prediction_tolerance": "Re-run predictions: tolerance on y_pred",
    "score_tolerance": "Re-run predictions: tolerance on y_score",
    "importance_repeats": "Permutation importance: repeats",
    "importance_seed": "Permutation importance and perturbation: seed",
    "explain_rows": "Explanations: rows sampled from the log (at most)",
    "perturbation_levels": "Perturbation: noise levels (multiples of a feature's spread)",
    "attribution_tolerance": "Attributions: tolerance of local accuracy",
    "challenger_uplift": "Uplift over the challenger required, by complexity rating",
    "scenario_windows": "Market scenarios added by the validator",
    "cost_per_turnover": "Transaction cost per unit of turnover",
}


def option_label(name: str) -> str:
    return OPTION_LABELS.get(name, name.replace("_", " ").capitalize())


def plan_summary(plan) -> str:
    """A saved plan in one line, for the audit timeline: its template, its tests and its options."""
    if not isinstance(plan, dict):
        return str(plan)
    tests = ", ".join(label_for_test(t.get("test", ""), t.get("metric")) for t in plan.get("tests") or [])
    options = "; ".join(
        f"{option_label(k)} {'not set' if v is None else v}" for k, v in (plan.get("options") or {}).items()
    )
    return f"{template_label(plan.get('template', ''))}: {tests}. Options: {options}."


def metric_label(name: str) -> str:
    if name in METRIC_LABELS:
        return METRIC_LABELS[name]
    for suffix, pattern in DERIVED_LABELS.items():
        base = name.removesuffix(f"_{suffix}")
        if base != name and base in METRIC_LABELS:
            return pattern.format(METRIC_LABELS[base])
    return name.replace("_", " ").capitalize()


def label_for_test(name: str, metric: str | None = None) -> str:
    """A graded test as people read it. Tests are named by their metric unless the validator renamed them:
    "sharpe_gap" -> "Sharpe ratio: in-sample minus out-of-sample", "psi card_spend_z" -> "Population
    stability index: card_spend_z", "re-perform hit_rate" -> "Re-performance of the claimed Hit rate"."""
    name = str(name)
    if name.startswith("re-perform "):
        return f"Re-performance of the claimed {metric_label(name.removeprefix('re-perform '))}"
    metric = metric or name.split(" ", 1)[0]
    if name == metric:
        return metric_label(metric)
    if name.startswith(f"{metric} "):
        return f"{metric_label(metric)}: {name.removeprefix(f'{metric} ')}"
    return name


def _derived(headline):
    return {f"{headline}_{suffix}" for suffix in ("is", "oos", "gap", "low_vol", "high_vol")}


# Every metric a plan's test may name, by template (what risk.engine computes).
METRICS = {
    "classifier": {"accuracy", "precision", "recall", "f1", "roc_auc", "calibration_error", "psi", "ks"}
    | {"predictions_reproduce"}
    | {t["metric"] for t in DEPTH}
    | {f"confusion_{c}" for c in ("tn", "fp", "fn", "tp")}
    | _derived("accuracy"),
    "regressor": {"rmse", "mae", "r2", "directional_accuracy", "psi", "ks", "predictions_reproduce"}
    | {t["metric"] for t in DEPTH}
    | _derived("directional_accuracy"),
    "strategy": {
        "total_return",
        "annualised_return",
        "annualised_volatility",
        "sharpe",
        "sortino",
        "max_drawdown",
        "max_drawdown_duration",
        "hit_rate",
        "turnover",
        "deflated_sharpe",
        "pbo",
        "pbo_mean_logit",
        "pbo_p_oos_loss",
    }
    | {t["metric"] for t in STRESS}
    | _derived("sharpe"),
}
METRICS |= {f"strategy_{kind}": METRICS["strategy"] | METRICS[kind] for kind in ("classifier", "regressor")}


def part_of(template: str, metric: str) -> str:
    """Which single-dataset part of a plan computes `metric` (the parts' metrics do not overlap)."""
    return next((part for part in parts(template) if metric in METRICS[part]), parts(template)[0])


def claim_precision(threshold: dict) -> str:
    """How a re-performed claim was compared, in words (runs before claims were read at their stated precision
    carry only the tolerance)."""
    if "stated_decimals" not in threshold:
        return f"tolerance {threshold['tolerance']}"
    places = threshold["stated_decimals"]
    stated = "a whole number" if places == 0 else f"{places} decimal{'s' if places > 1 else ''}"
    return f"stated as {stated}: holds within ±{threshold['tolerance']:.{places + 1}g}"


def input_of(template: str, metric: str) -> str:
    """The run's field holding the file `metric` was computed on: its first part reads `dataset`, the second
    (a trading model's tests as a classifier or regressor) reads `prediction_log` (see engine.compute)."""
    return "dataset" if part_of(template, metric) == parts(template)[0] else "prediction_log"


# Validation rigour commensurate with model risk (SR 11-7): a Tier 1 plan may retune, never drop, these.
TIER_1_REQUIRED = {
    "classifier": {"accuracy_gap", "psi", "ks"},
    "regressor": {"directional_accuracy_gap", "psi", "ks"},
    "strategy": {"sharpe_gap", "deflated_sharpe", "pbo"},
}
TIER_1_REQUIRED |= {
    f"strategy_{kind}": TIER_1_REQUIRED["strategy"] | TIER_1_REQUIRED[kind] for kind in ("classifier", "regressor")
}
# Metrics a test may name beyond each template's own report (computed by risk.engine).
PER_FEATURE_METRICS = {"psi", "ks"}
# Metrics Vigil computes by running the version's ONNX model (skipped, with the reason, when it cannot).
MODEL_METRICS = {"predictions_reproduce", "importance_significant", "perturbation_drop"}
MODEL_METRICS |= {"attribution_local_accuracy", "attribution_rank_agreement"}
DEFAULT_OPTIONS = {
    "periods_per_year": PERIODS_PER_YEAR,
    "risk_free": 0.0,
    "split_date": None,
    "trials": None,
    "trials_sharpe_variance": None,
    "pbo_blocks": 16,
    "regime_window": 21,
    "features": None,
    # Re-performance tolerances per output: |Vigil's - the log's| <= tolerance x max(1, |the log's|). A
    # classifier's labels must be equal; these hold its score and a regressor's value.
    "prediction_tolerance": 1e-5,
    "score_tolerance": 1e-5,
    # Explanations and perturbation (risk.validation.depth): on a seeded sample of at most `explain_rows` log rows.
    "importance_repeats": 5,
    "importance_seed": 0,
    "explain_rows": 5_000,  # 100,000 x 20 with a 200-tree forest: about 3 minutes on a loaded 2-core worker
    "perturbation_levels": [0.1, 0.25, 0.5],
    "attribution_tolerance": 1e-5,
    # The uplift in the headline metric a model of each complexity rating must show over the linear challenger.
    "challenger_uplift": {"low": 0.0, "medium": 0.01, "high": 0.02},
    # Market scenarios the validator adds to the default windows: [{"name", "start", "end"}], dates inclusive.
    "scenario_windows": [],
    "cost_per_turnover": None,  # stated cost per unit of turnover (0.0005 is 5 bp); None: costs not tested
}
CLASSIFIER_TYPES = {
    "logistic_regression",
    "decision_tree",
    "random_forest",
    "gradient_boosting",
    "svm",
    "deep_learning",
}


# Types with no prediction of their own to test (a trading rule is judged by its returns alone).
NO_PREDICTION_TYPES = {"rule_based", "other"}


def template_for(model) -> str:
    """The plan for the model's purpose and type: a trading model (alpha, execution) is tested on its returns,
    and, when it is a learned classifier or regressor, also on its prediction log."""
    kind = "classifier" if model.model_type in CLASSIFIER_TYPES else "regressor"
    if model.purpose in ("alpha", "execution"):
        return "strategy" if model.model_type in NO_PREDICTION_TYPES else f"strategy_{kind}"
    return kind


def proposed_plan(model) -> dict:
    """The template for the model's type and purpose; Tier 1 tightens re-performance tolerance."""
    name = template_for(model)
    tolerance = 1e-6 if model.risk_tier == 1 else 1e-3
    return {
        "template": name,
        "tests": [dict(t) for t in TEMPLATES[name]["tests"]],
        "options": {**DEFAULT_OPTIONS, "tolerance": tolerance},
    }


def check_plan(template: str, tests, options, tier: int | None = None) -> None:
    """Refuse a plan that cannot run (unknown template, thresholds on the wrong side, bad options), and a
    Tier 1 plan that drops the overfitting or stability tests its template requires."""
    errors = {}
    if template not in TEMPLATES:
        errors["template"] = f"Choose one of: {', '.join(TEMPLATES)}."
    if not isinstance(tests, list) or not tests:
        errors["tests"] = "List at least one test."
    else:
        for i, test in enumerate(tests):
            if not isinstance(test, dict) or not isinstance(test.get("metric"), str):
                errors["tests"] = f"Test {i + 1} needs a metric name."
                break
            if template in METRICS and test["metric"] not in METRICS[template]:
                known = ", ".join(sorted(METRICS[template]))
                errors["tests"] = f"Test {i + 1}: {template} plans have no metric {test['metric'][:60]!r}; use {known}."
                break
            numbers = [test.get("pass"), test.get("fail")]
            if any(isinstance(n, bool) or not isinstance(n, (int, float)) for n in numbers):
                errors["tests"] = f"Test {i + 1} ({test['metric']}) needs numeric pass and fail thresholds."
                break
            name, higher = test.get("test", test["metric"]), test.get("higher_is_better", True)
            if not isinstance(name, str) or not 0 < len(name) <= 120:
                errors["tests"] = f"Test {i + 1} ({test['metric']}): give it a name of up to 120 characters."
                break
            if not isinstance(higher, bool):
                errors["tests"] = f"Test {i + 1} ({test['metric']}): higher_is_better must be true or false."
                break
            if (higher and test["pass"] < test["fail"]) or (not higher and test["pass"] > test["fail"]):
                errors["tests"] = f"Test {i + 1} ({test['metric']}): the pass threshold is on the failing side."
                break
    if "tests" not in errors and template in TEMPLATES and tier == 1:
        dropped = sorted(TIER_1_REQUIRED[template] - {t["metric"] for t in tests})
        if dropped:
            errors["tests"] = f"Tier 1 plans keep the overfitting and stability tests; add back: {', '.join(dropped)}."
    if not isinstance(options, dict):
        errors["options"] = "Give the options as an object."
    else:
        problem = _option_problem(options)
        if problem:
            errors["options"] = problem
        window_problem = _window_problem(options.get("scenario_windows"))
        if window_problem:
            errors["scenario_windows"] = window_problem
    if errors:
        raise ValidationError(errors)


def _whole(value, low, high) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _number(value, low, high) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and low <= value <= high


def _option_problem(options: dict) -> str | None:
    """The first option that cannot work, said in words; None when all can."""
    o = {**DEFAULT_OPTIONS, "tolerance": 1e-3, **options}
    if not _whole(o["periods_per_year"], 1, 100000):
        return "periods_per_year must be a whole number between 1 and 100000."
    if not _number(o["tolerance"], 0, 0.999999):
        return "tolerance must be a number between 0 and 1."
    for name in ("prediction_tolerance", "score_tolerance"):
        if not _number(o[name], 0, 1):
            return f"{name} must be a number between 0 and 1."
    if not _number(o["risk_free"], -1, 1):
        return "risk_free must be an annual rate between -1 and 1."
    if o["split_date"] is not None and parse_split_date(o["split_date"]) is None:
        return f"split_date must be a date such as 2025-01-01, {moments.RANGE_TEXT}, or null."
    if o["trials"] is not None and not _whole(o["trials"], 2, 10**7):
        return "trials must be a whole number of at least 2, or null."
    if o["trials_sharpe_variance"] is not None and not _number(o["trials_sharpe_variance"], 0, 1e6):
        return "trials_sharpe_variance must be a non-negative number, or null."
    if (o["trials"] is None) != (o["trials_sharpe_variance"] is None):
        return "Give trials and trials_sharpe_variance together (or neither, to take them from a trial matrix)."
    if not _whole(o["pbo_blocks"], 2, 20) or o["pbo_blocks"] % 2:
        return "pbo_blocks must be an even whole number between 2 and 20."
    if not _whole(o["regime_window"], 2, 10000):
        return "regime_window must be a whole number between 2 and 10000."
    if not _whole(o["importance_repeats"], 1, 100):
        return "importance_repeats must be a whole number between 1 and 100."
    if not _whole(o["importance_seed"], 0, 2**31 - 1):
        return "importance_seed must be a whole number between 0 and 2147483647."
    if not _whole(o["explain_rows"], 100, 1_000_000):
        return "explain_rows must be a whole number between 100 and 1000000."
    levels = o["perturbation_levels"]
    if not (isinstance(levels, list) and 0 < len(levels) <= 10 and all(_number(v, 1e-6, 10) for v in levels)):
        return "perturbation_levels must be a list of up to 10 noise levels, each above 0 and at most 10."
    if not _number(o["attribution_tolerance"], 0, 1):
        return "attribution_tolerance must be a number between 0 and 1."
    uplift = o["challenger_uplift"]
    if not (
        isinstance(uplift, dict)
        and set(uplift) == {"low", "medium", "high"}
        and all(_number(v, -1, 1) for v in uplift.values())
    ):
        return 'challenger_uplift must give a number between -1 and 1 for each of "low", "medium" and "high".'
    if o["cost_per_turnover"] is not None and not _number(o["cost_per_turnover"], 0, 1):
        return "cost_per_turnover must be a cost between 0 and 1 per unit of turnover (0.0005 is 5 bp), or null."
    features = o["features"]
    if features is not None and not (
        isinstance(features, list) and features and all(isinstance(f, str) and 0 < len(f) <= 200 for f in features)
    ):
        return "features must be a list of column names, or null to compare every shared column."
    return None


MAX_WINDOWS = 50


def _window_problem(windows) -> str | None:
    """The first scenario window that cannot be used, said in words (a window outside the data is no problem: the
    run reports it "outside the data")."""
    if windows is None:
        return None
    if not isinstance(windows, list) or len(windows) > MAX_WINDOWS:
        return f'Give up to {MAX_WINDOWS} windows as a list of {{"name", "start", "end"}}.'
    names = set()
    for i, window in enumerate(windows, start=1):
        if not isinstance(window, dict) or set(window) != {"name", "start", "end"}:
            return f'Window {i}: give exactly "name", "start" and "end".'
        name = window["name"]
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 120:
            return f"Window {i}: give it a name of up to 120 characters."
        if name in names:
            return f"Window {i}: another window is already named {name!r}."
        names.add(name)
        days = {}
        for end in ("start", "end"):
            day = window[end]
            days[end] = parse_split_date(day) if isinstance(day, str) and DATE.fullmatch(day) else None
            if days[end] is None:
                return f"Window {i} ({name}): {end} must be a date such as 2020-03-01, not {str(day)[:40]!r}."
        if days["end"] < days["start"]:
            return f"Window {i} ({name}): it ends ({window['end']}) before it starts ({window['start']})."
    return None


def parse_split_date(value):
    """The split date as a UTC datetime (a date means its midnight), or None when it is not one in Vigil's
    range of times (`governance.core.moments`)."""
    try:
        return moments.parse(value)
    except moments.BadMoment:
        return None


def normalized_tests(tests) -> list[dict]:
    """A checked plan's tests with exactly the keys runs read (the name defaults to the metric)."""
    return [
        _t(t["metric"], t.get("higher_is_better", True), t["pass"], t["fail"]) | {"test": t.get("test", t["metric"])}
        for t in tests
    ]


def outcome(test: dict, value: float) -> str:
    if test.get("higher_is_better", True):
        return "pass" if value >= test["pass"] else "fail" if value < test["fail"] else "warn"
    return "pass" if value <= test["pass"] else "fail" if value > test["fail"] else "warn"
