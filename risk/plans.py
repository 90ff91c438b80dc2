"""The template library of validation plans, and checking a validator's edits to a plan.

A test is {"test", "metric", "higher_is_better", "pass", "fail"}: a value on the good side of `pass`
passes, one on the bad side of `fail` fails, anything between warns.
"""

from django.core.exceptions import ValidationError

from risk.metrics.backtest import PERIODS_PER_YEAR


def _t(metric, higher, passing, failing):
    return {"test": metric, "metric": metric, "higher_is_better": higher, "pass": passing, "fail": failing}


TEMPLATES = {
    "classifier": {
        "input": "predictions",
        "columns": ["timestamp", "y_true", "y_pred"],
        "optional_columns": ["y_score"],
        "tests": [
            _t("accuracy", True, 0.55, 0.50),
            _t("precision", True, 0.55, 0.50),
            _t("recall", True, 0.50, 0.40),
            _t("f1", True, 0.52, 0.45),
            _t("roc_auc", True, 0.60, 0.52),
            _t("calibration_error", False, 0.05, 0.10),
        ],
    },
    "regressor": {
        "input": "predictions",
        "columns": ["timestamp", "y_true", "y_pred"],
        "optional_columns": [],
        "tests": [_t("r2", True, 0.05, 0.0), _t("directional_accuracy", True, 0.53, 0.50)],
    },
    "strategy": {
        "input": "returns",
        "columns": ["timestamp", "return"],
        "optional_columns": ["position"],
        "tests": [
            _t("sharpe", True, 1.0, 0.5),
            _t("sortino", True, 1.2, 0.6),
            _t("max_drawdown", False, 0.15, 0.30),
            _t("hit_rate", True, 0.52, 0.48),
        ],
    },
}
CLASSIFIER_TYPES = {
    "logistic_regression",
    "decision_tree",
    "random_forest",
    "gradient_boosting",
    "svm",
    "deep_learning",
}


def template_for(model) -> str:
    if model.purpose in ("alpha", "execution"):
        return "strategy"
    if model.model_type == "linear_regression":
        return "regressor"
    return "classifier" if model.model_type in CLASSIFIER_TYPES else "regressor"


def proposed_plan(model) -> dict:
    """The template for the model's type and purpose; Tier 1 tightens re-performance tolerance."""
    name = template_for(model)
    tolerance = 1e-6 if model.risk_tier == 1 else 1e-3
    return {
        "template": name,
        "tests": [dict(t) for t in TEMPLATES[name]["tests"]],
        "options": {"periods_per_year": PERIODS_PER_YEAR, "risk_free": 0.0, "tolerance": tolerance},
    }


def check_plan(template: str, tests, options) -> None:
    """Refuse a plan that cannot run: unknown template or metric, thresholds on the wrong side, bad options."""
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
            numbers = [test.get("pass"), test.get("fail")]
            if any(isinstance(n, bool) or not isinstance(n, (int, float)) for n in numbers):
                errors["tests"] = f"Test {i + 1} ({test['metric']}) needs numeric pass and fail thresholds."
                break
            higher = bool(test.get("higher_is_better", True))
            if (higher and test["pass"] < test["fail"]) or (not higher and test["pass"] > test["fail"]):
                errors["tests"] = f"Test {i + 1} ({test['metric']}): the pass threshold is on the failing side."
                break
    if not isinstance(options, dict):
        errors["options"] = "Give the options as an object."
    else:
        ppy = options.get("periods_per_year", PERIODS_PER_YEAR)
        if isinstance(ppy, bool) or not isinstance(ppy, int) or not 1 <= ppy <= 100000:
            errors["options"] = "periods_per_year must be a whole number between 1 and 100000."
        tolerance = options.get("tolerance", 1e-3)
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
            errors["options"] = "tolerance must be a number between 0 and 1."
    if errors:
        raise ValidationError(errors)


def outcome(test: dict, value: float) -> str:
    if test.get("higher_is_better", True):
        return "pass" if value >= test["pass"] else "fail" if value < test["fail"] else "warn"
    return "pass" if value <= test["pass"] else "fail" if value > test["fail"] else "warn"
