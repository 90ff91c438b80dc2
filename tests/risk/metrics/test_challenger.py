"""The challenger equals scikit-learn's own fit, and the uplift's paired bootstrap recomputes by hand."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from risk.metrics import challenger
from risk.metrics._checks import MetricInputError
from risk.metrics.classification import roc_auc

RNG = np.random.default_rng(20261209)


def r2_score(y, p):  # R² by its definition (scikit-learn's checks would take most of the bootstrap's time)
    return 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)


@pytest.fixture(scope="module")
def data():
    X = RNG.normal(size=(1200, 5)) * np.array([1, 10, 0.1, 1, 3])
    signal = X[:, 0] + 0.1 * X[:, 1] + np.sin(3 * X[:, 3])
    return X[:800], X[800:], signal[:800], signal[800:]


def test_the_classifier_challenger_equals_scikit_learns_fit(data):
    X_train, X_test, s_train, _ = data
    y_train = (s_train + RNG.normal(size=800) > 0).astype(int)
    mine = challenger.fit_challenger("classifier", X_train, y_train, X_test, seed=4)
    direct = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=4)).fit(X_train, y_train)
    np.testing.assert_allclose(mine, direct.predict_proba(X_test)[:, 1], rtol=0, atol=1e-12)


def test_the_regressor_challenger_equals_scikit_learns_fit(data):
    X_train, X_test, s_train, _ = data
    mine = challenger.fit_challenger("regressor", X_train, s_train, X_test)
    direct = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(X_train, s_train)
    np.testing.assert_allclose(mine, direct.predict(X_test), rtol=0, atol=1e-12)


def test_the_uplift_and_its_paired_bootstrap_interval(data):
    X_train, X_test, s_train, s_test = data
    linear = challenger.fit_challenger("regressor", X_train, s_train, X_test)
    better = s_test + RNG.normal(scale=0.1, size=s_test.size)  # a model that also catches the sine
    out = challenger.uplift(r2_score, s_test, better, linear, resamples=200, seed=9)
    assert out["uplift"] == pytest.approx(r2_score(s_test, better) - r2_score(s_test, linear), abs=1e-12)
    rng = np.random.default_rng(9)
    gains = []
    for _ in range(200):
        rows = rng.integers(0, s_test.size, s_test.size)
        gains.append(r2_score(s_test[rows], better[rows]) - r2_score(s_test[rows], linear[rows]))
    assert (out["ci_low"], out["ci_high"]) == pytest.approx(tuple(np.percentile(gains, [2.5, 97.5])), abs=1e-12)
    assert 0 < out["ci_low"] < out["uplift"] < out["ci_high"]


def test_a_resample_with_one_class_is_skipped():
    y = np.r_[np.ones(3), np.zeros(1)]  # small enough that some resamples hold only ones
    out = challenger.uplift(roc_auc, y, np.array([0.9, 0.8, 0.7, 0.1]), np.array([0.6, 0.5, 0.9, 0.4]), resamples=50)
    assert out["skipped"] > 0 and out["resamples"] + out["skipped"] == 50
    assert out["uplift"] == pytest.approx(
        roc_auc_score(y, [0.9, 0.8, 0.7, 0.1]) - roc_auc_score(y, [0.6, 0.5, 0.9, 0.4]), abs=1e-12
    )


def test_bad_input_names_the_problem(data):
    X_train, X_test, s_train, _ = data
    with pytest.raises(MetricInputError, match="kind must be 'classifier' or 'regressor'"):
        challenger.fit_challenger("tree", X_train, s_train, X_test)
    with pytest.raises(MetricInputError, match="X_test has 4 features and X_train 5"):
        challenger.fit_challenger("regressor", X_train, s_train, X_test[:, :4])
    with pytest.raises(MetricInputError, match="both labels 0 and 1"):
        challenger.fit_challenger("classifier", X_train, s_train, X_test)
