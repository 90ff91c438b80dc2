"""A simple challenger: does the model's complexity buy anything over a regularised linear model?

scikit-learn is imported inside `fit_challenger`: it is heavy, and only a validation job needs it (a web process
must not load it, tests/core/test_process_footprint.py).
"""

import numpy as np

from risk.metrics._checks import MetricInputError, as_float, as_matrix

SEED = 0


def challenger_pipeline(kind: str, seed: int = SEED):
    """Standardised features into LogisticRegression (C=1, L2) for a classifier or Ridge (alpha=1) for a
    regressor; the seed fixes the solvers that use one."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "classifier":
        model = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
    elif kind == "regressor":
        model = Ridge(alpha=1.0, random_state=seed)
    else:
        raise MetricInputError(f"kind must be 'classifier' or 'regressor', not {kind!r}")
    return make_pipeline(StandardScaler(), model)


def fit_challenger(kind: str, X_train, y_train, X_test, seed: int = SEED) -> np.ndarray:
    """The challenger fitted on the training data, and its scores on the test set: a classifier's probability
    of class 1 (labels 0/1), a regressor's value; the same kind of output as the model it challenges."""
    X_train, X_test = as_matrix("X_train", X_train), as_matrix("X_test", X_test)
    y_train = as_float("y_train", y_train)
    if y_train.size != X_train.shape[0]:
        raise MetricInputError(f"y_train has {y_train.size} values and X_train {X_train.shape[0]} rows")
    if X_test.shape[1] != X_train.shape[1]:
        raise MetricInputError(f"X_test has {X_test.shape[1]} features and X_train {X_train.shape[1]}")
    pipeline = challenger_pipeline(kind, seed)
    if kind == "classifier":
        if not np.isin(y_train, (0.0, 1.0)).all() or np.unique(y_train).size < 2:
            raise MetricInputError("y_train must hold both labels 0 and 1 for a classifier")
        pipeline.fit(X_train, y_train.astype(np.int64))
        return pipeline.predict_proba(X_test)[:, 1]
    pipeline.fit(X_train, y_train)
    return pipeline.predict(X_test)


def uplift(score, y_test, model_scores, challenger_scores, *, resamples: int = 1000, confidence=0.95, seed=SEED):
    """The model's gain over the challenger in the headline metric (`score(y, scores)`, greater is better),
    with a paired bootstrap interval: the same resampled rows score both models, so what they share (an easy
    or a hard sample) cancels. Percentile interval; rows drawn with default_rng(seed). A resample the metric is
    undefined on (one class only, for ROC AUC) is skipped and counted."""
    y = np.asarray(y_test)
    a, b = np.asarray(model_scores), np.asarray(challenger_scores)
    if not (y.shape[:1] == a.shape[:1] == b.shape[:1]):
        raise MetricInputError(f"y_test, model and challenger scores differ in rows: {len(y)}, {len(a)}, {len(b)}")
    if resamples < 1 or not 0 < confidence < 1:
        raise MetricInputError("use at least one resample and a confidence between 0 and 1")
    model, challenger = float(score(y, a)), float(score(y, b))
    rng = np.random.default_rng(seed)
    gains, skipped = [], 0
    for _ in range(resamples):
        rows = rng.integers(0, y.shape[0], y.shape[0])
        try:
            gains.append(score(y[rows], a[rows]) - score(y[rows], b[rows]))
        except MetricInputError:
            skipped += 1
    if not gains:
        raise MetricInputError("the metric is undefined on every bootstrap resample")
    low, high = np.percentile(gains, [50 * (1 - confidence), 50 * (1 + confidence)])
    return {
        "model": model,
        "challenger": challenger,
        "uplift": model - challenger,
        "ci_low": float(low),
        "ci_high": float(high),
        "confidence": confidence,
        "resamples": len(gains),
        "skipped": skipped,
    }
