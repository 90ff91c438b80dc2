"""Explanations computed from a model Vigil runs itself: permutation importance, partial dependence, and checks
of the attributions (SHAP values) a developer supplies.

The model comes in as `predict(X) -> scores`: X is float64 (rows x features), the result one score per row
(a classifier's probability of class 1, a regressor's value) or one row of scores per row. The metric comes in
as `score(y_true, scores) -> float`, greater is better (pass minus an error); it decides whether it thresholds
scores into labels. `predict` may run out of process: both computations call it on blocks of up to
`batch_rows` rows (several perturbed copies of the data stacked), and hold at most that many rows of copies.
"""

from collections.abc import Callable

import numpy as np
from scipy.special import stdtrit
from scipy.stats.mstats import mquantiles

from risk.metrics._checks import MetricInputError, as_float, as_matrix, predictions_of

Predict = Callable[[np.ndarray], np.ndarray]
Score = Callable[[np.ndarray, np.ndarray], float]


def permutation_importance(
    predict: Predict,
    score: Score,
    X,
    y,
    *,
    n_repeats: int = 5,
    random_state: int = 0,
    confidence: float = 0.95,
    batch_rows: int | None = None,
    allow_nan: bool = False,
    on_progress=None,
) -> dict:
    """Drop in `score` when one feature's column is shuffled, per feature and repeat (Breiman 2001).

    Equal to `sklearn.inspection.permutation_importance(..., n_repeats, random_state)` with a scorer that
    applies `score` to the same predictions: scikit-learn draws one seed from RandomState(random_state), gives
    every feature a fresh RandomState(seed), and in repeat r shuffles the index array it shuffled in repeat
    r - 1 and applies it to the column as already shuffled. The shuffles are thus the same for every feature and
    repeat r uses the composed permutation p_r = p_(r-1)[s_r], which is computed here once for all features.
    The interval is the t interval of the mean over the repeats (sample sd, n_repeats - 1 degrees of freedom);
    `std` is scikit-learn's (ddof=0).
    """
    X = as_matrix("X", X, allow_nan=allow_nan)
    y = np.asarray(y)
    n, k = X.shape
    if y.shape[:1] != (n,):
        raise MetricInputError(f"y has {y.shape[0] if y.ndim else 0} rows and X has {n}")
    if int(n_repeats) < 1:
        raise MetricInputError("n_repeats must be at least 1")
    if not 0 < confidence < 1:
        raise MetricInputError("confidence must lie between 0 and 1")
    baseline = float(score(y, predictions_of(predict, X)))
    seed = np.random.RandomState(random_state).randint(np.iinfo(np.int32).max + 1)
    shuffles = np.random.RandomState(seed)
    index = np.arange(n)
    permutations = []
    composed = np.arange(n)
    for _ in range(n_repeats):
        shuffles.shuffle(index)
        composed = composed[index]
        permutations.append(composed)
    jobs = [(j, r) for j in range(k) for r in range(n_repeats)]
    scores = np.empty((k, n_repeats))

    def fill(buffer, slot, job):
        j, r = job
        buffer[slot * n : (slot + 1) * n, j] = X[permutations[r], j]

    def done(buffer, slot, job, prediction):
        j, r = job
        scores[j, r] = score(y, prediction)
        buffer[slot * n : (slot + 1) * n, j] = X[:, j]  # the slot holds X again for its next job

    _run_in_blocks(predict, X, jobs, fill, done, batch_rows, on_progress)
    importances = baseline - scores
    mean = importances.mean(axis=1)
    if n_repeats > 1:
        half = stdtrit(n_repeats - 1, 0.5 + confidence / 2) * importances.std(axis=1, ddof=1) / np.sqrt(n_repeats)
    else:
        half = np.full(k, np.nan)  # one repeat gives no spread
    return {
        "baseline": baseline,
        "importances": importances,
        "mean": mean,
        "std": importances.std(axis=1),
        "ci_low": mean - half,
        "ci_high": mean + half,
        "confidence": confidence,
    }


def grid_for(X, feature: int, grid_resolution: int = 100, percentiles=(0.05, 0.95)) -> np.ndarray:
    """scikit-learn's grid for partial dependence: the feature's distinct values when there are fewer than
    `grid_resolution`, else `grid_resolution` equal steps between its percentiles (scipy's mquantiles)."""
    X = as_matrix("X", X, allow_nan=True)
    column = X[:, _feature("feature", feature, X.shape[1])]
    uniques = np.unique(column)
    if uniques.size < grid_resolution:
        return uniques
    low, high = mquantiles(column, prob=percentiles, axis=0)
    if np.allclose(low, high):
        raise MetricInputError(f"feature {feature}: its percentiles {percentiles} are too close to make a grid")
    return np.linspace(low, high, num=grid_resolution, endpoint=True)


def partial_dependence(
    predict: Predict,
    X,
    features,
    *,
    grids: dict | None = None,
    grid_resolution: int = 100,
    percentiles=(0.05, 0.95),
    batch_rows: int | None = None,
    allow_nan: bool = False,
    on_progress=None,
) -> list[dict]:
    """Mean prediction over X with each feature in turn set to every value of its grid (the brute method,
    equal to scikit-learn's `partial_dependence(method="brute")` for one feature at a time and the same grid).
    `grids` maps a feature to its own values; the others get `grid_for`."""
    X = as_matrix("X", X, allow_nan=allow_nan)
    n, k = X.shape
    grids = grids or {}
    axes = {}
    for feature in features:
        j = _feature("feature", feature, k)
        values = grids.get(feature)
        axes[j] = (
            grid_for(X, j, grid_resolution, percentiles) if values is None else as_float(f"grid of {feature}", values)
        )
    jobs = [(j, g) for j, values in axes.items() for g in range(values.size)]
    averages = {j: [None] * values.size for j, values in axes.items()}

    def fill(buffer, slot, job):
        j, g = job
        buffer[slot * n : (slot + 1) * n, j] = axes[j][g]

    def done(buffer, slot, job, prediction):
        j, g = job
        averages[j][g] = np.average(prediction, axis=0)
        buffer[slot * n : (slot + 1) * n, j] = X[:, j]

    _run_in_blocks(predict, X, jobs, fill, done, batch_rows, on_progress)
    return [{"feature": j, "grid": axes[j], "average": np.asarray(averages[j])} for j in axes]


def attribution_checks(
    attributions,
    base_value,
    predictions,
    importance,
    *,
    atol: float = 1e-6,
    rtol: float = 1e-6,
    top: int = 10,
    worst: int = 10,
) -> dict:
    """Checks of a developer's attributions (rows x features) against the model Vigil ran.

    Local accuracy: per row, sum of attributions + base value equals the prediction within
    atol + rtol * |prediction| (the predictions in the space the attributions explain: probability, log-odds
    or value). The base value is one number or one per row. Reported: rows that fail and the `worst` rows.

    Ranking agreement: Spearman's rank correlation between mean |attribution| and the permutation importance
    (`importance`, one per feature) over the union of each ranking's `top` features. Spearman, not Kendall,
    because it weighs a feature that one ranking puts far from the other more than a swap of neighbours;
    the union, not one ranking's top, so a feature the attributions call important but shuffling shows to be
    useless is counted. Ranks average ties; a correlation is undefined (None) when either side is constant.
    """
    a = as_matrix("attributions", attributions)
    prediction = np.asarray(predictions, dtype=np.float64)
    if prediction.ndim != 1:
        raise MetricInputError(f"predictions must be one value per row; they have shape {prediction.shape}")
    n, k = a.shape
    if prediction.size != n:
        raise MetricInputError(f"attributions have {n} rows and predictions {prediction.size}")
    base = np.asarray(base_value, dtype=np.float64).reshape(-1)
    if base.size not in (1, n):
        raise MetricInputError(f"base value must be one number or one per row ({n}); it has {base.size}")
    imp = as_float("importance", importance)
    if imp.size != k:
        raise MetricInputError(f"attributions have {k} feature columns and the importance {imp.size} features")
    if not (np.isfinite(prediction).all() and np.isfinite(base).all()):
        raise MetricInputError("predictions and base value must be finite")
    residual = a.sum(axis=1) + base - prediction
    failing = np.abs(residual) > atol + rtol * np.abs(prediction)
    order = np.argsort(-np.abs(residual), kind="stable")[:worst]
    mean_abs = np.abs(a).mean(axis=0)
    m = min(top, k)
    compared = np.union1d(np.argsort(-imp, kind="stable")[:m], np.argsort(-mean_abs, kind="stable")[:m])
    return {
        "local_accuracy": {
            "rows": n,
            "failures": int(failing.sum()),
            "max_abs_error": float(np.abs(residual).max()),
            "worst": [{"row": int(i), "error": float(residual[i])} for i in order if failing[i]],
        },
        "ranking": {
            "features": compared.tolist(),
            "spearman": spearman(mean_abs[compared], imp[compared]),
            "top_overlap": len(set(np.argsort(-imp, kind="stable")[:m]) & set(np.argsort(-mean_abs, kind="stable")[:m]))
            / m,
            "mean_abs_attribution": mean_abs,
        },
    }


def spearman(a, b) -> float | None:
    """Spearman's rho: Pearson's correlation of the average ranks; None when either side is constant."""
    ra, rb = _average_ranks(np.asarray(a, dtype=np.float64)), _average_ranks(np.asarray(b, dtype=np.float64))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denominator = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denominator) if denominator > 0 else None


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    s = values[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    ends = np.r_[starts[1:], s.size]
    ranks = np.empty(values.size)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def _feature(name: str, feature, k: int) -> int:
    if isinstance(feature, bool) or not isinstance(feature, (int, np.integer)) or not 0 <= feature < k:
        raise MetricInputError(f"{name} {feature!r} is not a column index between 0 and {k - 1}")
    return int(feature)


def _run_in_blocks(predict, X, jobs, fill, done, batch_rows, on_progress) -> None:
    """Each job is one modified copy of X. Copies are stacked into one buffer of up to `batch_rows` rows
    (at least one copy), made once from X; `fill` modifies a slot for its job, `done` scores the slot's
    predictions and puts back what `fill` changed, so the buffer is never re-copied from X."""
    n = X.shape[0]
    slots = max(1, min(len(jobs), (batch_rows or n) // n))
    buffer = np.tile(X, (slots, 1))
    for start in range(0, len(jobs), slots):
        block = jobs[start : start + slots]
        for slot, job in enumerate(block):
            fill(buffer, slot, job)
        prediction = predictions_of(predict, buffer[: len(block) * n])
        for slot, job in enumerate(block):
            done(buffer, slot, job, prediction[slot * n : (slot + 1) * n])
        if on_progress is not None:
            on_progress(int(100 * (start + len(block)) / len(jobs)))
