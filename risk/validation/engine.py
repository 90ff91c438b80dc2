"""The computation of one validation run: read its inputs, compute every metric, grade the plan's tests.

Pure with respect to the database: it reads evidence files and returns results, chart data and the
fingerprints of what it read. The caller (risk.validation) writes them, all at once.

A test whose optional input was not given (no split date, no training sample, no trial matrix, no
volatility column, no ONNX model) is reported as "skipped" with the reason, so a report never hides what was not
tested. A model that cannot be run fails the tests that need it, with the reason (risk.validation.reperformance).
"""

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from risk.metrics import backtest, classification, drift, overfitting, regression
from risk.metrics._checks import MetricInputError
from risk.validation import depth, plans, reperformance, stress
from risk.validation.datasets import (
    ColumnReader,
    DatasetError,
    column_names,
    numbers,
    read_table,
    table_shape,
    timestamps,
)

# Columns with a role in a prediction log or returns series; every other shared column is a feature.
ROLE_COLUMNS = {"timestamp", "y_true", "y_pred", "y_score", "return", "position", "benchmark", "volatility"}
MAX_CHART_POINTS = 1000
NEEDS_COLUMN = {"roc_auc": "y_score", "calibration_error": "y_score", "turnover": "position"}
STABILITY_THREADS = min(4, os.cpu_count() or 1)


@dataclass
class Outcome:
    results: list[dict]
    charts: dict
    fingerprints: list[dict]
    metrics: list[dict] = field(default_factory=list)  # every figure computed, headline figures first


@dataclass
class _Work:
    """What the metric steps share: options, columns of the validation dataset, values and skip reasons."""

    template: str
    options: dict
    columns: dict[str, np.ndarray]
    values: dict[str, float] = field(default_factory=dict)
    per_feature: dict[str, dict[str, float]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # tests failed without a value (the model did not run)
    reasons: dict[str, str] = field(default_factory=dict)  # what a graded value rests on, in words
    charts: dict = field(default_factory=dict)
    trials: tuple | None = None  # the trial-returns matrix and its column names, when one was read


def compute(run, on_progress=lambda p: None) -> Outcome:
    """Everything a run reports. Raises DatasetError or MetricInputError (naming file, column and row).

    A plan made of two parts (a trading model that is also a classifier or regressor) computes each part on
    its own dataset: the strategy tests on the returns (`dataset`), the tests of its type on the prediction log
    (`prediction_log`); their metrics do not overlap, so the results merge into one graded list."""
    plan = run.plan_snapshot
    template = plans.TEMPLATES[plan["template"]]
    options = {**plans.DEFAULT_OPTIONS, **plan["options"]}
    merged = _Work(plan["template"], options, {})
    fingerprints = []
    part_names = plans.parts(plan["template"])
    for index, part in enumerate(part_names):
        evidence = run.dataset if index == 0 else run.prediction_log
        tests = [t for t in plan["tests"] if plans.part_of(plan["template"], t["metric"]) == part]
        if evidence is None:
            merged.skipped.update(
                dict.fromkeys((t["metric"] for t in tests), "no prediction log was chosen for this run")
            )
            continue
        share = (index * 85 // len(part_names), (index + 1) * 85 // len(part_names))
        work, prints = _compute_part(run, part, evidence, options, tests, _scaled(on_progress, *share))
        fingerprints.extend(prints)
        for name in ("values", "per_feature", "skipped", "failed", "reasons", "charts"):
            getattr(merged, name).update(getattr(work, name))
    if getattr(run, "attributions", None) is not None:  # checked by a later step; pinned by the run from now
        rows, header = table_shape(run.attributions)
        fingerprints.append(_fingerprint("attributions", run.attributions, rows, header))
    results = _grade(plan, merged) + _reperform(plan, merged)
    return Outcome(results=results, charts=merged.charts, fingerprints=fingerprints, metrics=_figures(template, merged))


def _scaled(on_progress, low, high):
    return lambda percent: on_progress(low + (high - low) * percent // 85)


def _compute_part(run, part, dataset, options, tests, on_progress) -> tuple[_Work, list[dict]]:
    try:
        return _compute_on(run, part, dataset, options, tests, on_progress)
    except MetricInputError as exc:
        # Kernels speak of array positions; people read file lines (1 is the header).
        message = re.sub(r"position (\d+)", lambda m: f"row {int(m.group(1)) + 2}", str(exc))
        name = dataset.original_name
        raise MetricInputError(message if message.startswith(name) else f"{name}: {message}") from None


def _compute_on(run, part, dataset, options, tests, on_progress) -> tuple[_Work, list[dict]]:
    """One single-dataset part of the plan: its metrics on `dataset`, stability against the training sample
    (classifier and regressor), overfitting from the trial matrix (strategy)."""
    template = plans.TEMPLATES[part]
    wants_stability = any(t["metric"] in plans.PER_FEATURE_METRICS for t in tests)
    features = _features(run.reference, dataset, options) if wants_stability else []
    table = read_table(dataset, template["columns"], template["optional_columns"])
    columns = {
        c: timestamps(dataset, table, c) if c == "timestamp" else numbers(dataset, table, c) for c in table.column_names
    }
    role = "dataset" if not plans.uses_prediction_log(run.plan_snapshot["template"]) else template["input"]
    read = table.column_names + [f for f in features if f not in table.column_names]  # y_score is both
    fingerprints = [_fingerprint(ROLE_NAMES[role], dataset, table.num_rows, read)]
    del table  # the run works from the float arrays from here on
    on_progress(20)
    work = _Work(part, options, columns)
    work.values.update(_report(work))
    for metric, column in NEEDS_COLUMN.items():
        if metric in plans.METRICS[part] and metric not in work.values:
            work.skipped[metric] = f"{dataset.original_name} has no {column} column"
    _charts_of_report(work)
    on_progress(35)
    _in_and_out_of_sample(work, template["headline"])
    _regimes(work, template["headline"])
    on_progress(50)
    if features:
        fingerprints.append(_stability(work, run.reference, dataset, features))
    elif wants_stability:
        reason = "no training sample was chosen for this run" if run.reference is None else "no shared feature"
        work.skipped.update(dict.fromkeys(plans.PER_FEATURE_METRICS, reason))
    on_progress(70)
    if part == "strategy":
        fingerprints.extend(_overfitting(work, run.trial_returns))
        _stress(work, {t["metric"] for t in tests})
    else:
        fingerprints.extend(_run_model(work, run, dataset, tests, fingerprints))
    on_progress(85)
    return work, fingerprints


# How each input is named in the run's fingerprints and the report.
ROLE_NAMES = {"dataset": "dataset", "returns": "returns", "predictions": "prediction log"}


def _figures(template: dict, work: _Work) -> list[dict]:
    """Every scalar the template computed, graded or not (total return, annualised return and volatility,
    drawdown duration, turnover...), the template's headline figures first, then by name."""
    values = {k: v for k, v in work.values.items() if isinstance(v, float | int) and np.isfinite(v)}
    headline = [m for m in template.get("figures", []) if m in values]
    rest = sorted(set(values) - set(headline))
    return [
        {
            "metric": m,
            "label": plans.metric_label(m),
            "value": float(values[m]),
            "unit": plans.metric_unit(m),
            "headline": m in headline,
        }
        for m in headline + rest
    ]


def _report(work: _Work, mask: np.ndarray | None = None) -> dict[str, float]:
    """The template's metrics on the rows in `mask` (all rows, without copying them, when None)."""
    c = work.columns if mask is None else {name: values[mask] for name, values in work.columns.items()}
    if work.template == "classifier":
        return classification.classifier_report(c["y_true"], c["y_pred"], c.get("y_score"))
    if work.template == "regressor":
        return regression.regression_report(c["y_true"], c["y_pred"])
    return backtest.backtest_report(
        c["return"], work.options["periods_per_year"], work.options["risk_free"], c.get("position")
    )


def _in_and_out_of_sample(work: _Work, headline: str) -> None:
    split = plans.parse_split_date(work.options["split_date"]) if work.options["split_date"] else None
    names = [f"{headline}_is", f"{headline}_oos", f"{headline}_gap"]
    if split is None:
        work.skipped.update(dict.fromkeys(names, "the plan names no split date (set one in the plan's options)"))
        return
    inside = work.columns["timestamp"] < int(split.timestamp() * 1e9)
    if inside.sum() < 3 or (~inside).sum() < 3:
        raise MetricInputError(
            f"the split date {work.options['split_date']} leaves {int(inside.sum())} rows in-sample and "
            f"{int((~inside).sum())} out-of-sample; each side needs at least 3"
        )
    is_value = _report(work, inside)[headline]
    oos_value = _report(work, ~inside)[headline]
    work.values.update(dict(zip(names, [is_value, oos_value, is_value - oos_value], strict=True)))


def _regimes(work: _Work, headline: str) -> None:
    names = [f"{headline}_low_vol", f"{headline}_high_vol"]
    c = work.columns
    if work.template == "strategy":
        driver = c.get("benchmark", c["return"])
        volatility = backtest.rolling_volatility(driver, work.options["regime_window"])
    elif "volatility" in c:
        volatility = c["volatility"]
    else:
        work.skipped.update(dict.fromkeys(names, "the dataset has no volatility column"))
        return
    high = backtest.high_volatility(volatility)
    if high.all() or not high.any():
        work.skipped.update(dict.fromkeys(names, "volatility is constant: there are no regimes to compare"))
        return
    work.values[names[0]] = _report(work, ~high)[headline]
    work.values[names[1]] = _report(work, high)[headline]


def _features(reference, dataset, options) -> list[str]:
    """The features to compare: the plan's list, or every non-role column both samples share."""
    if reference is None:
        return []
    mine, theirs = column_names(dataset), column_names(reference)
    if options["features"]:
        for header, evidence in ((mine, dataset), (theirs, reference)):
            missing = [f for f in options["features"] if f not in header]
            if missing:
                raise DatasetError(f"{evidence.original_name}: missing feature column(s) {', '.join(missing)}")
        chosen = list(options["features"])
    else:
        chosen = [c for c in mine if c in theirs and c not in ROLE_COLUMNS]
    if "y_score" in mine and "y_score" in theirs:
        chosen.append("y_score")
    return chosen


def _stability(work: _Work, reference, dataset, features) -> dict:
    """PSI and exact KS of each feature (and the score), training sample against validation sample."""
    theirs, mine = ColumnReader(reference, features), ColumnReader(dataset, features)

    def one(feature):
        return drift.psi_and_ks(theirs.get(feature), mine.get(feature))

    # Sorting and Arrow's casts release the GIL: features run side by side on the worker's cores.
    with ThreadPoolExecutor(max_workers=STABILITY_THREADS) as pool:
        pairs = dict(zip(features, pool.map(one, features), strict=True))
    psi = {f: p for f, (p, _) in pairs.items()}
    ks = {f: k for f, (_, k) in pairs.items()}
    work.per_feature.update({"psi": psi, "ks": ks})
    work.charts["psi"] = {"feature": list(psi), "psi": list(psi.values()), "ks": list(ks.values())}
    return _fingerprint("training sample", reference, theirs.rows, features)


def _run_model(work: _Work, run, dataset, tests, read: list[dict]) -> list[dict]:
    """The tests that run the version's ONNX model (re-performance, explanations, perturbation, attributions):
    skipped without one, failed with the reason when it cannot run; and the challenger, which needs the training
    sample, not the model."""
    wanted = {t["metric"] for t in tests}
    metrics = wanted & plans.MODEL_METRICS
    model = getattr(run, "model", None)
    fingerprints, features = [], None
    if metrics and model is None:
        work.skipped.update(dict.fromkeys(metrics, reperformance.NO_MODEL))
    elif metrics:
        done = reperformance.reproduce(model, dataset, work.columns, work.template, work.options, ROLE_COLUMNS)
        fingerprints.append(done.fingerprint)
        if done.value is None:
            work.failed["predictions_reproduce"] = done.reason
            work.skipped.update(dict.fromkeys(metrics - {"predictions_reproduce"}, done.reason))
        else:
            work.values["predictions_reproduce"] = float(done.value)
            work.reasons["predictions_reproduce"] = done.reason
            features = done.feed.features
            depth.run_model_tests(work, run, dataset, done, metrics - {"predictions_reproduce"})
    if depth.CHALLENGER in wanted:
        if features is None:
            header = column_names(dataset)
            features = list(work.options["features"] or [c for c in header if c not in ROLE_COLUMNS])
        rows = depth.run_challenger(work, run.reference, dataset, features, _complexity(run))
        if rows is not None and not any(f["role"] == "training sample" for f in read):
            fingerprints.append(_fingerprint("training sample", run.reference, rows, [*features, "y_true"]))
    return fingerprints


def _complexity(run) -> str:
    """The model's complexity rating (models_registry), which sets the uplift its challenger must be beaten by."""
    version = getattr(run, "version", None)
    return getattr(getattr(version, "model", None), "complexity_rating", None) or "medium"


def _stress(work: _Work, wanted: set[str]) -> None:
    """A strategy's market scenarios, transaction costs and parameter sensitivity, those its plan tests."""
    if stress.SCENARIO in wanted:
        stress.scenarios(work)
    if stress.COSTS in wanted:
        stress.costs(work)
    if stress.SENSITIVITY in wanted:
        matrix, names = work.trials or (None, [])
        stress.sensitivity(work, matrix, names)


def _overfitting(work: _Work, trial_returns) -> list[dict]:
    """Deflated Sharpe (trials from the plan, else from the matrix) and PBO (from an attached matrix)."""
    o, fingerprints, matrix = work.options, [], None
    if trial_returns is not None:
        trial_table = read_table(trial_returns, [])
        trial_columns = [c for c in trial_table.column_names if c != "timestamp"]
        if len(trial_columns) < 2:
            raise DatasetError(
                f"{trial_returns.original_name}: the trial matrix needs one column per trial, two or more"
            )
        matrix = np.column_stack([numbers(trial_returns, trial_table, c) for c in trial_columns])
        work.trials = (matrix, trial_columns)
        fingerprints.append(_fingerprint("trial returns", trial_returns, trial_table.num_rows, trial_columns))
        result = overfitting.pbo_cscv(matrix, blocks=o["pbo_blocks"])
        work.values.update({"pbo": result["pbo"], "pbo_mean_logit": result["mean_logit"]})
        work.values["pbo_p_oos_loss"] = result["p_oos_loss"]
    else:
        work.skipped["pbo"] = "no trial-returns matrix was chosen for this run"
    if o["trials"] is not None:
        # The plan states the variance of the trials' annualised Sharpe ratios; DSR works per period.
        trials, variance = o["trials"], o["trials_sharpe_variance"] / o["periods_per_year"]
    elif matrix is not None:
        trials = matrix.shape[1]
        variance = float(np.var(overfitting.per_period_sharpe(matrix), ddof=1))
    else:
        work.skipped["deflated_sharpe"] = "the plan gives no trial count and no trial matrix was chosen"
        return fingerprints
    work.values["deflated_sharpe"] = overfitting.deflated_sharpe_from_returns(work.columns["return"], trials, variance)
    work.values["trials"] = float(trials)
    return fingerprints


def _grade(plan, work: _Work) -> list[dict]:
    rows = []
    for test in plan["tests"]:
        metric = test["metric"]
        threshold = {"pass": test["pass"], "fail": test["fail"], "higher_is_better": test.get("higher_is_better", True)}
        if metric in work.skipped:
            rows.append(_row(test["test"], metric, None, threshold, "skipped", work.skipped[metric]))
        elif metric in work.failed:
            rows.append(_row(test["test"], metric, None, threshold, "fail", work.failed[metric]))
        elif metric in work.per_feature:
            for feature, value in work.per_feature[metric].items():
                rows.append(_row(f"{test['test']} {feature}", metric, value, threshold, plans.outcome(test, value)))
        elif metric in work.values:
            value = work.values[metric]
            reason = work.reasons.get(metric, "")
            rows.append(_row(test["test"], metric, value, threshold, plans.outcome(test, value), reason))
        else:
            raise MetricInputError(f"the plan's metric {metric} cannot be computed from this dataset")
    return rows


def _reperform(plan, work: _Work) -> list[dict]:
    """Every claimed metric recomputed and compared at the precision the claim was stated with: a Sharpe ratio
    claimed as 1.4 holds if the data give 1.35 to 1.45, never failing against its own data for digits the
    developer did not state. The plan's tolerance is the floor (a claim stated to many decimals is held to
    it). A claim Vigil cannot recompute from this dataset is listed as skipped, not silently passed over."""
    floor = work.options.get("tolerance", 1e-3)
    rows = []
    for name, claimed in sorted((plan.get("claimed_performance") or {}).items()):
        threshold = {"claimed": claimed, "tolerance": floor}
        if name in work.values and isinstance(claimed, (int, float)) and not isinstance(claimed, bool):
            decimals = stated_decimals(claimed)
            allowed = max(floor, 0.5 * 10.0**-decimals)
            threshold = {"claimed": claimed, "stated_decimals": decimals, "tolerance": allowed}
            value = work.values[name]
            # The relative slack only absorbs binary floating point at the boundary (0.535 against 0.53).
            verdict = "pass" if abs(value - claimed) <= allowed * (1 + 1e-9) else "fail"
            rows.append(_row(f"re-perform {name}", name, value, threshold, verdict))
        else:
            reason = "not a metric Vigil computes from this dataset"
            rows.append(_row(f"re-perform {name}", name, None, threshold, "skipped", reason))
    return rows


def stated_decimals(claimed: float) -> int:
    """Decimal places a claim was written with, read from its shortest form (0.53 -> 2, 1.4 -> 1, 2 -> 0,
    1e-05 -> 5). A claim typed with trailing zeros (0.530) reads as 0.53: the benefit of the doubt."""
    return max(0, -Decimal(repr(claimed)).as_tuple().exponent)


def _row(test, metric, value, threshold, outcome, reason="") -> dict:
    row = {"test": test, "metric": metric, "value": value, "threshold": threshold, "outcome": outcome}
    if reason:
        row["reason"] = reason
    return row


def _fingerprint(role, evidence, rows, columns) -> dict:
    return {
        "role": role,
        "evidence": evidence.pk,
        "name": evidence.original_name,
        "sha256": evidence.sha256,
        "rows": rows,
        "columns": list(columns),
    }


# --- chart data (small, stored with the run; drawn by risk.charts) -----------------------------------------


def _charts_of_report(work: _Work) -> None:
    c = work.columns
    if work.template == "classifier":
        v = work.values
        work.charts["confusion"] = {k: v[f"confusion_{k}"] for k in ("tn", "fp", "fn", "tp")}
        if "y_score" in c:
            fpr, tpr = classification.roc_curve(c["y_true"], c["y_score"])
            keep = _thin(fpr.size)
            work.charts["roc"] = {"fpr": fpr[keep].tolist(), "tpr": tpr[keep].tolist(), "auc": v["roc_auc"]}
            work.charts["calibration"] = classification.calibration_bins(c["y_true"], c["y_score"])
    elif work.template == "strategy":
        equity, depth = backtest.equity_and_drawdown(c["return"])
        stamps = c["timestamp"]
        # The equity curve starts one period before the first return; label it with the first timestamp.
        keep = np.union1d(_thin(equity.size), [int(np.argmax(depth))])
        labels = np.concatenate(([stamps[0]], stamps)).astype("datetime64[ns]").astype("datetime64[s]")
        work.charts["equity"] = {
            "time": [str(t) for t in labels[keep]],
            "equity": equity[keep].tolist(),
            "drawdown": (-depth[keep]).tolist(),
        }


def _thin(n: int) -> np.ndarray:
    """Indices of at most MAX_CHART_POINTS evenly spaced points, always with the first and last."""
    return np.unique(np.linspace(0, n - 1, min(n, MAX_CHART_POINTS)).round().astype(np.int64))
