"""Explanations against scikit-learn's own: permutation importance and partial dependence on the same model,
data and seeds; attribution checks against exact SHAP values of a linear model."""

import numpy as np
import pytest
from scipy import stats
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.inspection import partial_dependence as sk_partial_dependence
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error, r2_score, roc_auc_score

from risk.metrics import explain
from risk.metrics._checks import MetricInputError

RNG = np.random.default_rng(20261207)


@pytest.fixture(scope="module")
def classified():
    X = RNG.normal(size=(300, 6))
    y = (X[:, 0] + 0.6 * X[:, 1] - 0.3 * X[:, 2] + RNG.normal(size=300) > 0).astype(int)
    model = RandomForestClassifier(n_estimators=12, max_depth=5, random_state=3).fit(X, y)
    return model, X, y


@pytest.fixture(scope="module")
def regressed():
    X = RNG.normal(size=(500, 4))
    y = 2 * X[:, 0] - X[:, 1] + 0.2 * X[:, 3] ** 2 + RNG.normal(scale=0.3, size=500)
    model = RandomForestRegressor(n_estimators=10, max_depth=5, random_state=4).fit(X, y)
    return model, X, y


@pytest.mark.parametrize("batch_rows", [None, 1300, 100_000])  # one copy at a time, two, all at once
def test_permutation_importance_equals_scikit_learn_for_a_classifier(classified, batch_rows):
    model, X, y = classified
    reference = sk_permutation_importance(model, X, y, scoring="roc_auc", n_repeats=4, random_state=11)
    mine = explain.permutation_importance(
        lambda A: model.predict_proba(A)[:, 1], roc_auc_score, X, y, n_repeats=4, random_state=11, batch_rows=batch_rows
    )
    np.testing.assert_allclose(mine["importances"], reference.importances, rtol=0, atol=1e-12)
    np.testing.assert_allclose(mine["mean"], reference.importances_mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(mine["std"], reference.importances_std, rtol=0, atol=1e-12)
    assert mine["mean"][0] > mine["mean"][4]  # the signal feature matters more than a noise feature


def test_permutation_importance_equals_scikit_learn_for_a_regressor_and_an_error_metric(regressed):
    model, X, y = regressed
    for scoring, score in (
        ("r2", r2_score),
        ("neg_mean_squared_error", lambda t, p: -mean_squared_error(t, p)),
    ):
        reference = sk_permutation_importance(model, X, y, scoring=scoring, n_repeats=3, random_state=5)
        mine = explain.permutation_importance(model.predict, score, X, y, n_repeats=3, random_state=5)
        np.testing.assert_allclose(mine["importances"], reference.importances, rtol=0, atol=1e-12)
        assert mine["baseline"] == pytest.approx(score(y, model.predict(X)), abs=1e-12)


def test_the_interval_is_the_t_interval_of_the_repeats(regressed):
    model, X, y = regressed
    mine = explain.permutation_importance(model.predict, r2_score, X, y, n_repeats=6, random_state=2, confidence=0.9)
    for j in range(X.shape[1]):
        values = mine["importances"][j]
        low, high = stats.t.interval(0.9, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
        assert (mine["ci_low"][j], mine["ci_high"][j]) == pytest.approx((low, high), abs=1e-12)


def test_permutation_importance_leaves_the_data_untouched_and_reports_progress(regressed):
    model, X, y = regressed
    before = X.copy()
    progress = []
    explain.permutation_importance(
        model.predict, r2_score, X, y, n_repeats=2, batch_rows=1000, on_progress=progress.append
    )
    assert np.array_equal(X, before)
    assert progress[-1] == 100 and progress == sorted(progress)


def test_partial_dependence_equals_scikit_learns_brute_method(classified, regressed):
    model, X, _ = classified
    reference = sk_partial_dependence(model, X, [1], method="brute", grid_resolution=15)
    (mine,) = explain.partial_dependence(
        lambda A: model.predict_proba(A)[:, 1], X, [1], grid_resolution=15, batch_rows=3000
    )
    np.testing.assert_allclose(mine["grid"], reference["grid_values"][0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(mine["average"], reference["average"][0], rtol=0, atol=1e-12)

    model, X, _ = regressed
    grid = np.array([-1.5, -0.2, 0.0, 0.7, 2.0])
    reference = sk_partial_dependence(model, X, [3], method="brute", custom_values={3: grid})
    first, second = explain.partial_dependence(model.predict, X, [3, 0], grids={3: grid})
    assert first["feature"] == 3 and np.array_equal(first["grid"], grid)
    np.testing.assert_allclose(first["average"], reference["average"][0], rtol=0, atol=1e-12)
    reference = sk_partial_dependence(model, X, [0], method="brute")
    np.testing.assert_allclose(second["average"], reference["average"][0], rtol=0, atol=1e-12)


def test_a_feature_with_few_values_uses_them_as_its_grid():
    X = np.column_stack([RNG.integers(0, 3, 200).astype(float), RNG.normal(size=200)])
    assert explain.grid_for(X, 0).tolist() == [0.0, 1.0, 2.0]


@pytest.fixture(scope="module")
def linear_shap():
    """A linear model on independent features: its exact SHAP values are coef_j (x_j - mean x_j) and the base
    value the mean prediction."""
    X = RNG.normal(size=(400, 5)) * np.array([1.0, 2.0, 0.5, 1.0, 1.0])
    y = X @ np.array([3.0, -1.0, 0.5, 0.0, 0.1]) + RNG.normal(scale=0.1, size=400)
    model = LinearRegression().fit(X, y)
    attributions = model.coef_ * (X - X.mean(axis=0))
    base = float(model.predict(X).mean())
    importance = explain.permutation_importance(model.predict, r2_score, X, y, n_repeats=5)["mean"]
    return model, X, attributions, base, importance


def test_exact_attributions_pass_local_accuracy_and_agree_with_the_importance(linear_shap):
    model, X, attributions, base, importance = linear_shap
    checks = explain.attribution_checks(attributions, base, model.predict(X), importance, top=5)
    assert checks["local_accuracy"]["failures"] == 0 and checks["local_accuracy"]["worst"] == []
    ranking = checks["ranking"]
    mean_abs = np.abs(attributions).mean(axis=0)
    expected = stats.spearmanr(mean_abs[ranking["features"]], importance[ranking["features"]]).statistic
    assert ranking["spearman"] == pytest.approx(expected, abs=1e-12)
    assert ranking["spearman"] > 0.8 and ranking["top_overlap"] == 1.0


def test_a_shifted_base_value_is_caught(linear_shap):
    model, X, attributions, base, importance = linear_shap
    checks = explain.attribution_checks(attributions, base + 0.05, model.predict(X), importance, worst=3)
    local = checks["local_accuracy"]
    assert local["failures"] == X.shape[0]
    assert local["max_abs_error"] == pytest.approx(0.05, abs=1e-9)
    assert len(local["worst"]) == 3 and all(w["error"] == pytest.approx(0.05, abs=1e-9) for w in local["worst"])


def test_one_wrong_row_is_the_worst_row(linear_shap):
    model, X, attributions, base, importance = linear_shap
    broken = attributions.copy()
    broken[17, 2] += 0.4
    local = explain.attribution_checks(broken, np.full(X.shape[0], base), model.predict(X), importance)[
        "local_accuracy"
    ]
    assert local["failures"] == 1 and local["worst"][0]["row"] == 17
    assert local["worst"][0]["error"] == pytest.approx(0.4, abs=1e-9)


def test_reversed_attributions_disagree_with_the_importance(linear_shap):
    model, X, attributions, base, importance = linear_shap
    mean_abs = np.abs(attributions).mean(axis=0)
    reversed_scale = mean_abs.max() * mean_abs.min() / np.maximum(mean_abs, 1e-12)  # small becomes large
    checks = explain.attribution_checks(attributions / mean_abs * reversed_scale, base, model.predict(X), importance)
    assert checks["ranking"]["spearman"] < 0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda a, b, p, i: (a[:, :4], b, p, i), "4 feature columns and the importance 5"),
        (lambda a, b, p, i: (a[:-1], b, p, i), "399 rows and predictions 400"),
        (lambda a, b, p, i: (a[:, 0], b, p, i), "attributions must be two-dimensional"),
        (lambda a, b, p, i: (a, np.zeros(7), p, i), "base value must be one number or one per row"),
        (lambda a, b, p, i: (a, b, np.column_stack([p, p]), i), "predictions must be one value per row"),
    ],
)
def test_wrong_shapes_name_the_problem(linear_shap, change, words):
    model, X, attributions, base, importance = linear_shap
    with pytest.raises(MetricInputError, match=words):
        explain.attribution_checks(*change(attributions, base, model.predict(X), importance))


def test_bad_inputs_name_the_problem(regressed):
    model, X, y = regressed
    with pytest.raises(MetricInputError, match="y has 499 rows and X has 500"):
        explain.permutation_importance(model.predict, r2_score, X, y[:-1])
    with pytest.raises(MetricInputError, match="returned"):
        explain.permutation_importance(lambda A: A[:10, 0], r2_score, X, y)
    with pytest.raises(MetricInputError, match="feature 9 is not a column index"):
        explain.partial_dependence(model.predict, X, [9])
