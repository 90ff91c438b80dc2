"""Explainability and robustness of a prediction log's model, and its simple challenger (issue 23): the graded
tests of a classifier or regressor part that go beyond its log's accuracy.

With the version's ONNX model (loaded once by reperformance.reproduce, in the run's confined child):
- "importance_significant": permutation importance of every feature (risk.metrics.explain; the plan's
  `importance_repeats` and `importance_seed`); the value is the number of features whose interval lies above 0.
  Partial dependence of the three most important features is charted, not graded.
- "perturbation_drop": the headline metric's drop with every feature perturbed at the plan's largest
  `perturbation_levels` (risk.metrics.robustness); each feature alone, and missing values, are charted.
  Missing values are tried only when the model accepts them: fed a probe of the log's first rows with one
  value of each feature set to NaN, it runs and returns finite predictions (a model exported for missing values
  does; one whose runtime refuses NaN, or that answers NaN, does not).
- "attribution_local_accuracy" and "attribution_rank_agreement": the developer's attributions (run.attributions:
  one column per feature, named as the log's, and `base_value`, one row per log row) checked against the model's
  predictions, as probability or log-odds for a classifier (whichever the attributions explain), and against
  Vigil's importance ranking.
Explanations run on a seeded sample of at most `explain_rows` rows of the log (all of them below it), so a
100,000-row log costs what 5,000 rows do (by default); partial dependence on at most PD_ROWS of those.

With the training sample (run.reference, with y_true and the features), not the model:
- "challenger_margin": a regularised linear challenger fitted on the training sample and scored on the log; the
  model's uplift in the headline metric minus the uplift its complexity rating must show (the plan's
  `challenger_uplift`). Below 0 the complexity is not paid for.

A test that cannot be done is skipped with the reason (no model, no attributions, no training sample); one whose
input is wrong (attributions of the wrong shape, a training sample without y_true) fails with the reason; the run
completes either way.
"""

import numpy as np

from risk.metrics import challenger, explain, robustness
from risk.metrics._checks import MetricInputError
from risk.validation import model_runtime
from risk.validation.datasets import ColumnReader, DatasetError, read_table

IMPORTANCE = "importance_significant"
PERTURBATION = "perturbation_drop"
LOCAL_ACCURACY = "attribution_local_accuracy"
RANK_AGREEMENT = "attribution_rank_agreement"
CHALLENGER = "challenger_margin"
MODEL_TESTS = {IMPORTANCE, PERTURBATION, LOCAL_ACCURACY, RANK_AGREEMENT}
ATTRIBUTION_TESTS = {LOCAL_ACCURACY, RANK_AGREEMENT}
PD_FEATURES, PD_ROWS, PD_GRID = 3, 2000, 20
PROBE_ROWS = 64
BASE_VALUE = "base_value"
CHALLENGER_KIND = {
    "classifier": "logistic regression (L2, standardised)",
    "regressor": "ridge regression (standardised)",
}
NO_ATTRIBUTIONS = "no attributions file was chosen for this run"
NO_REFERENCE = "no training sample was chosen for this run"


def headline_score(kind: str):
    """The part's headline metric as score(y, scores): a classifier's accuracy with its score (a probability, or a
    0/1 label) above 0.5 read as class 1; a regressor's directional accuracy (the sign, as regression_report)."""
    if kind == "classifier":
        return lambda y, s: float(np.mean((np.asarray(s) > 0.5) == (np.asarray(y) == 1)))
    return lambda y, s: float(np.mean(np.sign(y) == np.sign(s)))


def _predictor(runnable, feed, kind: str):
    def predict(X):
        columns = {f: X[:, j] for j, f in enumerate(feed.features)}
        done = runnable.predict(feed, columns, kind, X.shape[0])
        return done.y_score if kind == "classifier" and done.y_score is not None else done.y_pred

    return predict


def accepts_missing(predict, X: np.ndarray) -> bool:
    """Whether the model runs on missing values: a probe of the first rows, one value of each feature set to
    NaN, must run and give finite predictions."""
    probe = X[:PROBE_ROWS].copy()
    for j in range(probe.shape[1]):
        probe[j % probe.shape[0], j] = np.nan
    try:
        return bool(np.isfinite(np.asarray(predict(probe), dtype=np.float64)).all())
    except (model_runtime.ModelUnusable, MetricInputError, ValueError):
        return False


def _sample(n: int, limit: int, seed: int) -> np.ndarray | None:
    """Sorted row indices of a seeded sample of `limit` rows; None for all rows."""
    if n <= limit:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def _finite(value):
    return float(value) if value is not None and np.isfinite(value) else None


def run_model_tests(work, run, log, done, wanted: set[str]) -> None:
    """The tests in `wanted` that run the model `done.runnable` (reperformance.Reproduction), written into
    `work` (engine._Work); `log` is the prediction log's evidence."""
    kind, o = work.template, work.options
    feed, n = done.feed, work.columns["y_true"].size
    predict = _predictor(done.runnable, feed, kind)
    score = headline_score(kind)
    reader = ColumnReader(log, feed.features)
    X_all = np.column_stack([reader.get(f) for f in feed.features])
    rows = _sample(n, o["explain_rows"], o["importance_seed"])
    X = X_all if rows is None else X_all[rows]
    y = work.columns["y_true"] if rows is None else work.columns["y_true"][rows]
    on = f"on all {n:,} rows" if rows is None else f"on a seeded sample of {rows.size:,} of {n:,} rows"
    batch = model_runtime.BATCH_ROWS
    importance = None
    if wanted & {IMPORTANCE, RANK_AGREEMENT}:
        importance = _importance(work, predict, score, X, y, feed.features, on, batch)
    if PERTURBATION in wanted:
        _perturbation(work, predict, score, X, y, feed.features, on)
    if not wanted & ATTRIBUTION_TESTS:
        return
    attributions = getattr(run, "attributions", None)
    if attributions is None:
        work.skipped.update(dict.fromkeys(wanted & ATTRIBUTION_TESTS, NO_ATTRIBUTIONS))
        return
    _attributions(work, attributions, done.predicted, feed.features, importance, wanted)


def _importance(work, predict, score, X, y, features, on, batch):
    o = work.options
    try:
        result = explain.permutation_importance(
            predict, score, X, y, n_repeats=o["importance_repeats"], random_state=o["importance_seed"], batch_rows=batch
        )
    except (MetricInputError, model_runtime.ModelUnusable) as exc:
        work.failed[IMPORTANCE] = f"permutation importance could not be computed: {exc}"
        return None
    mean, low = result["mean"], result["ci_low"]
    bound = np.where(np.isfinite(low), low, mean)  # one repeat: no interval, the mean alone
    significant = int((bound > 0).sum())
    order = np.argsort(-mean, kind="stable")
    work.values[IMPORTANCE] = float(significant)
    top = ", ".join(f"{features[j]} {mean[j]:.4f}" for j in order[:3])
    work.reasons[IMPORTANCE] = (
        f"{significant} of {len(features)} features lower {_metric(work.template)} when shuffled "
        f"({o['importance_repeats']} repeats, {result['confidence']:.0%} interval above 0; {on}); the largest: {top}"
    )
    work.charts["importance"] = {
        "metric": _metric(work.template),
        "repeats": o["importance_repeats"],
        "confidence": result["confidence"],
        "feature": [features[j] for j in order],
        "mean": [float(mean[j]) for j in order],
        "low": [_finite(result["ci_low"][j]) for j in order],
        "high": [_finite(result["ci_high"][j]) for j in order],
    }
    _partial_dependence(work, predict, X, features, order[:PD_FEATURES], batch)
    return mean


def _partial_dependence(work, predict, X, features, top, batch) -> None:
    rows = _sample(X.shape[0], PD_ROWS, work.options["importance_seed"])
    sample = X if rows is None else X[rows]
    shown = []
    for j in top:
        try:
            (curve,) = explain.partial_dependence(predict, sample, [int(j)], grid_resolution=PD_GRID, batch_rows=batch)
        except MetricInputError:
            continue  # a feature too concentrated for a grid: nothing to draw
        shown.append(
            {"feature": features[j], "grid": curve["grid"].tolist(), "average": np.ravel(curve["average"]).tolist()}
        )
    if shown:
        output = "probability of class 1" if work.template == "classifier" else "predicted value"
        work.charts["partial_dependence"] = {"output": output, "features": shown}


def _perturbation(work, predict, score, X, y, features, on) -> None:
    o = work.options
    levels = sorted(float(v) for v in o["perturbation_levels"])
    missing = accepts_missing(predict, X)
    try:
        result = robustness.perturbation(
            predict, score, X, y, levels=levels, accepts_missing=missing, seed=o["importance_seed"]
        )
    except (MetricInputError, model_runtime.ModelUnusable) as exc:
        work.failed[PERTURBATION] = f"perturbation could not be computed: {exc}"
        return
    drops = [row["degradation"] for row in result["all_features"]]
    work.values[PERTURBATION] = float(drops[-1])
    worst = max(result["features"], key=lambda row: row["levels"][-1]["degradation"])
    work.reasons[PERTURBATION] = (
        f"{_metric(work.template)} {result['baseline']:.4f} falls by {drops[-1]:.4f} with noise of {levels[-1]:g} "
        f"spread on every feature; alone, {features[worst['feature']]} costs most "
        f"({worst['levels'][-1]['degradation']:.4f}); "
        + (
            "missing values tried: the model accepts them"
            if missing
            else "missing values not tried: the model does not accept them"
        )
        + f" ({on})"
    )
    chart = {
        "metric": _metric(work.template),
        "baseline": result["baseline"],
        "levels": levels,
        "all_features": drops,
        "per_feature": {features[r["feature"]]: [lv["degradation"] for lv in r["levels"]] for r in result["features"]},
    }
    if missing:
        chart["missing"] = {features[r["feature"]]: r["missing"]["degradation"] for r in result["features"]}
    work.charts["perturbation"] = chart


def _attributions(work, evidence, predicted, features, importance, wanted) -> None:
    """Local accuracy and ranking agreement of the developer's attributions; a file of the wrong shape fails both
    tests with the reason."""
    name, n = evidence.original_name, predicted.y_pred.size
    try:
        table = read_table(evidence, [*features, BASE_VALUE])
        if table.num_rows != n:
            raise DatasetError(f"{name}: {table.num_rows:,} rows of attributions for {n:,} rows of the prediction log")
        reader = ColumnReader(evidence, [*features, BASE_VALUE])
        a = np.column_stack([reader.get(f) for f in features])
        base = reader.get(BASE_VALUE)
    except DatasetError as exc:
        reason = (
            f"the attributions cannot be checked: {exc} (expected one column per feature, "
            f"{', '.join(features)}, and {BASE_VALUE}, one row per row of the log)"
        )
        work.failed.update(dict.fromkeys(wanted & ATTRIBUTION_TESTS, reason))
        return
    tolerance = work.options["attribution_tolerance"]
    outputs = {"probability" if work.template == "classifier" else "value": predicted.y_score}
    if work.template == "classifier" and predicted.y_score is not None:
        p = np.clip(predicted.y_score, 1e-12, 1 - 1e-12)
        outputs["log-odds"] = np.log(p / (1 - p))
    elif predicted.y_score is None:
        outputs = {"label" if work.template == "classifier" else "value": predicted.y_pred}
    imp = importance if importance is not None else np.zeros(len(features))
    checks = {
        space: explain.attribution_checks(a, base, out, imp, atol=tolerance, rtol=tolerance)
        for space, out in outputs.items()
    }
    space = min(checks, key=lambda s: checks[s]["local_accuracy"]["failures"])
    local, ranking = checks[space]["local_accuracy"], checks[space]["ranking"]
    if LOCAL_ACCURACY in wanted:
        work.values[LOCAL_ACCURACY] = float(local["failures"])
        worst = "; ".join(f"row {w['row'] + 2}: off by {w['error']:.3g}" for w in local["worst"][:5])
        work.reasons[LOCAL_ACCURACY] = (
            f"{local['failures']:,} of {n:,} rows: attributions plus base value differ from the model's {space} by "
            f"more than {tolerance:g} (1 + |prediction|)" + (f"; {worst}" if worst else "")
        )
    rank = None
    if importance is not None:
        order = np.argsort(-importance, kind="stable")
        rank = np.empty(len(features), dtype=int)
        rank[order] = np.arange(1, len(features) + 1)
    if RANK_AGREEMENT in wanted:
        if importance is None:
            work.failed[RANK_AGREEMENT] = work.failed.get(IMPORTANCE, "permutation importance was not computed")
        elif ranking["spearman"] is None:
            work.failed[RANK_AGREEMENT] = "the rankings cannot be compared: one of them ranks every feature equal"
        else:
            work.values[RANK_AGREEMENT] = ranking["spearman"]
            work.reasons[RANK_AGREEMENT] = (
                f"Spearman's correlation of mean |attribution| and permutation importance over "
                f"{len(ranking['features'])} features; their top features overlap {ranking['top_overlap']:.0%}"
            )
    work.charts["attributions"] = {
        "feature": list(features),
        "mean_abs": [float(v) for v in ranking["mean_abs_attribution"]],
        "importance_rank": None if rank is None else rank.tolist(),
        "spearman": ranking["spearman"] if importance is not None else None,
        "rows_checked": n,
        "rows_off": local["failures"],
        "worst_error": local["max_abs_error"],
        "tolerance": tolerance,
    }


def _metric(kind: str) -> str:
    return "accuracy" if kind == "classifier" else "directional accuracy"


# --- the challenger -------------------------------------------------------------------------------------


def run_challenger(work, reference, log, features: list[str], complexity: str) -> int | None:
    """Fit the linear challenger on the training sample (`reference`) and compare on the log; returns the rows of
    the training sample read, for its fingerprint (None when it was not read)."""
    if reference is None:
        work.skipped[CHALLENGER] = f"{NO_REFERENCE}: the challenger is fitted on it"
        return None
    if not features:
        work.skipped[CHALLENGER] = "the prediction log has no feature columns to fit a challenger on"
        return None
    kind = work.template
    try:
        theirs = ColumnReader(reference, [*features, "y_true"])
        X_train = np.column_stack([theirs.get(f) for f in features])
        y_train = theirs.get("y_true")
        mine = ColumnReader(log, features)
        X_test = np.column_stack([mine.get(f) for f in features])
        scores = challenger.fit_challenger(kind, X_train, y_train, X_test)
        y = work.columns["y_true"]
        result = challenger.uplift(headline_score(kind), y, work.columns["y_pred"], scores)
    except (DatasetError, MetricInputError) as exc:
        work.failed[CHALLENGER] = f"the challenger could not be fitted on the training sample: {exc}"
        return None
    required_by = work.options["challenger_uplift"]
    required = float(required_by.get(complexity, required_by.get("medium", 0.0)))
    margin = result["uplift"] - required
    work.values[CHALLENGER] = margin
    work.values["challenger_uplift"] = result["uplift"]
    work.values["challenger_score"] = result["challenger"]
    metric = _metric(kind)
    said = (
        f"{metric} {result['model']:.4f} against the {CHALLENGER_KIND[kind]}'s {result['challenger']:.4f}: uplift "
        f"{result['uplift']:.4f} ({result['confidence']:.0%} interval {result['ci_low']:.4f} to "
        f"{result['ci_high']:.4f}); a {complexity}-complexity model must show {required:.4f}"
    )
    work.reasons[CHALLENGER] = f"the complexity is not paid for: {said}" if margin < 0 else said
    work.charts["challenger"] = {
        "metric": metric,
        "challenger_kind": CHALLENGER_KIND[kind],
        "model": result["model"],
        "challenger": result["challenger"],
        "uplift": result["uplift"],
        "low": result["ci_low"],
        "high": result["ci_high"],
        "confidence": result["confidence"],
        "required": required,
        "complexity": complexity,
    }
    return theirs.rows
