"""Each metric against an independent reference: scikit-learn, SciPy, or a worked example from the literature."""

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as sk

from risk.metrics import backtest, classification, drift, overfitting, regression
from risk.metrics._checks import MetricInputError

RNG = np.random.default_rng(20261121)


@pytest.fixture(scope="module")
def classifier_data():
    n = 20000
    y_true = RNG.integers(0, 2, n)
    y_score = np.clip(0.35 * y_true + RNG.normal(0.35, 0.2, n), 0, 1).round(3)  # rounding creates ties
    return y_true, (y_score > 0.5).astype(int), y_score


def test_it_matches_scikit_learn_classification(classifier_data):
    y_true, y_pred, y_score = classifier_data
    report = classification.classifier_report(y_true, y_pred, y_score)
    assert report["accuracy"] == pytest.approx(sk.accuracy_score(y_true, y_pred), abs=1e-12)
    assert report["precision"] == pytest.approx(sk.precision_score(y_true, y_pred), abs=1e-12)
    assert report["recall"] == pytest.approx(sk.recall_score(y_true, y_pred), abs=1e-12)
    assert report["f1"] == pytest.approx(sk.f1_score(y_true, y_pred), abs=1e-12)
    assert report["roc_auc"] == pytest.approx(sk.roc_auc_score(y_true, y_score), abs=1e-9)
    tn, fp, fn, tp = sk.confusion_matrix(y_true, y_pred).ravel()
    assert (report["confusion_tn"], report["confusion_fp"], report["confusion_fn"], report["confusion_tp"]) == (
        tn,
        fp,
        fn,
        tp,
    )


def test_it_computes_calibration_error_by_its_definition():
    y_true = np.array([0, 0, 1, 1, 1, 0])
    y_score = np.array([0.05, 0.15, 0.95, 0.85, 0.55, 0.45])
    # bins of 0.1: [0.05]->0 hit 0; [0.15]->0; [0.45]->0 hit; [0.55]-> 1; [0.85]-> 1; [0.95]-> 1
    expected = (0.05 + 0.15 + 0.45 + 0.45 + 0.15 + 0.05) / 6
    assert classification.calibration_error(y_true, y_score) == pytest.approx(expected, abs=1e-12)


def test_it_matches_scikit_learn_regression():
    y_true = RNG.normal(0, 1, 5000)
    y_pred = y_true * 0.7 + RNG.normal(0, 0.5, 5000)
    report = regression.regression_report(y_true, y_pred)
    assert report["rmse"] == pytest.approx(np.sqrt(sk.mean_squared_error(y_true, y_pred)), abs=1e-12)
    assert report["mae"] == pytest.approx(sk.mean_absolute_error(y_true, y_pred), abs=1e-12)
    assert report["r2"] == pytest.approx(sk.r2_score(y_true, y_pred), abs=1e-12)
    assert report["directional_accuracy"] == pytest.approx(np.mean(np.sign(y_true) == np.sign(y_pred)))


def test_it_computes_backtest_figures_by_hand():
    r = np.array([0.10, -0.05, 0.02, -0.10, 0.05])
    report = backtest.backtest_report(r, periods_per_year=5, positions=[1, 1, 0.5, -0.5, 0])
    equity = np.cumprod(1 + r)
    assert report["total_return"] == pytest.approx(equity[-1] - 1, abs=1e-12)
    assert report["annualised_return"] == pytest.approx(equity[-1] - 1, abs=1e-12)  # exactly one year
    assert report["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * np.sqrt(5), abs=1e-12)
    # Peak 1.10 after period 1; trough 1.10*0.95*1.02*0.90 = 0.95931; drawdown 1 - 0.95931/1.10.
    assert report["max_drawdown"] == pytest.approx(1 - (0.95 * 1.02 * 0.90), abs=1e-12)
    assert report["max_drawdown_duration"] == 4.0
    assert report["hit_rate"] == pytest.approx(3 / 5)
    assert report["turnover"] == pytest.approx((1 + 0 + 0.5 + 1 + 0.5) / 5)
    downside = np.sqrt(np.mean(np.minimum(r, 0) ** 2))
    assert report["sortino"] == pytest.approx(r.mean() / downside * np.sqrt(5), abs=1e-12)


def test_it_reproduces_the_psi_worked_example():
    # REGULATORY.md: E = (.25,.25,.25,.25), A = (.10,.20,.30,.40) -> PSI = 0.228
    assert drift.psi_from_shares([0.25] * 4, [0.10, 0.20, 0.30, 0.40]) == pytest.approx(0.2282, abs=5e-4)


def test_it_bins_psi_at_reference_deciles():
    reference = RNG.normal(0, 1, 100000)
    assert drift.psi(reference, RNG.normal(0, 1, 100000)) < 0.01
    shifted = drift.psi(reference, RNG.normal(0.5, 1, 100000))
    edges = np.quantile(reference, np.linspace(0, 1, 11)[1:-1])
    e = np.histogram(reference, np.r_[-np.inf, edges, np.inf])[0] / reference.size
    assert 0.1 < shifted < 0.5 and e == pytest.approx(np.full(10, 0.1), abs=1e-3)


def test_it_matches_scipy_ks_exactly():
    x, y = RNG.normal(0, 1, 3000), RNG.standard_t(5, 2500)
    assert drift.ks_statistic(x, y) == pytest.approx(stats.ks_2samp(x, y).statistic, abs=1e-12)
    # REGULATORY.md example: D = 0.55 against a critical value of 0.91.
    assert drift.ks_statistic([0.1, 0.4, 0.5, 0.9], [0.3, 0.6, 0.7, 0.8, 1.0]) == pytest.approx(0.55, abs=1e-12)
    assert drift.ks_critical_value(4, 5) == pytest.approx(0.911, abs=1e-3)


def test_it_reproduces_the_deflated_sharpe_worked_example():
    # REGULATORY.md: T = 252, SR = 0.10, skew -0.5, kurtosis 5, V = 0.0025: N = 10 -> 0.63; N = 100 -> 0.34
    assert overfitting.expected_max_sharpe(10, 0.0025) == pytest.approx(0.0787, abs=1e-4)
    assert overfitting.deflated_sharpe(0.10, 252, -0.5, 5, 10, 0.0025) == pytest.approx(0.63, abs=0.01)
    assert overfitting.deflated_sharpe(0.10, 252, -0.5, 5, 100, 0.0025) == pytest.approx(0.34, abs=0.01)
    assert overfitting.probabilistic_sharpe(0.10, 0.0, 252, -0.5, 5) == pytest.approx(0.94, abs=0.01)


def test_it_estimates_pbo_high_for_noise_and_low_for_a_real_edge():
    # Its own generator: the module's RNG is drawn by whichever of its tests ran before in the process, so the
    # noise (and one matrix's PBO, anywhere from 0.2 to 0.86 by the draw) changed with how tests were shared out.
    rng = np.random.default_rng(20261207)
    # Pure noise: no configuration is better, so the best in-sample one is below the median out of sample about half
    # the time; the mean over 20 independent matrices says so, one matrix alone does not.
    pbos = [overfitting.pbo_cscv(rng.normal(0, 0.01, (800, 20)), blocks=8)["pbo"] for _ in range(20)]
    assert 0.35 < np.mean(pbos) < 0.65
    noise = rng.normal(0, 0.01, (800, 20))
    edge = noise.copy()
    edge[:, 3] += 0.004  # one configuration is genuinely better everywhere
    result = overfitting.pbo_cscv(edge, blocks=8)
    assert result["pbo"] == 0.0 and result["splits"] == 70 and result["p_oos_loss"] == 0.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: classification.roc_auc([1, 1, 1], [0.2, 0.4, 0.9]),
        lambda: classification.confusion([0, 1, 2], [0, 1, 1]),
        lambda: regression.regression_report([1, 2, np.nan], [1, 2, 3]),
        lambda: regression.regression_report([1, 2], [1, 2, 3]),
        lambda: backtest.sharpe_ratio([0.01]),
        lambda: backtest.drawdown([0.1, -1.2]),
        lambda: drift.psi([], [1.0]),
        lambda: overfitting.pbo_cscv(np.ones((10, 3)), blocks=3),
        lambda: overfitting.expected_max_sharpe(1, 0.1),
    ],
)
def test_it_refuses_input_it_cannot_measure_with_a_reason(call):
    with pytest.raises(MetricInputError) as error:
        call()
    assert str(error.value)


def test_it_draws_the_roc_curve_scikit_learn_draws(classifier_data):
    y_true, _, y_score = classifier_data
    fpr, tpr = classification.roc_curve(y_true, y_score)
    sk_fpr, sk_tpr, _ = sk.roc_curve(y_true, y_score, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr, atol=1e-12)
    np.testing.assert_allclose(tpr, sk_tpr, atol=1e-12)
    assert np.trapezoid(tpr, fpr) == pytest.approx(sk.roc_auc_score(y_true, y_score), abs=1e-9)


def test_it_bins_calibration_as_scikit_learn_does():
    from sklearn.calibration import calibration_curve

    y_true = RNG.integers(0, 2, 5000)
    y_score = RNG.uniform(0, 1, 5000)  # continuous: no score sits exactly on a bin edge
    bins = classification.calibration_bins(y_true, y_score)
    hit_rate, mean_score = calibration_curve(y_true, y_score, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(bins["hit_rate"], hit_rate, atol=1e-12)
    np.testing.assert_allclose(bins["mean_score"], mean_score, atol=1e-12)
    assert sum(bins["count"]) == 5000


def test_it_computes_rolling_volatility_as_a_plain_loop_would():
    r = RNG.normal(0.0005, 0.01, 300)
    vol = backtest.rolling_volatility(r, window=21)
    expected = [np.std(r[max(0, t - 20) : t + 1], ddof=1) for t in range(1, r.size)]
    np.testing.assert_allclose(vol[1:], expected, rtol=1e-9)
    assert vol[0] == vol[1]
    high = backtest.high_volatility(vol)
    assert high.sum() == r.size // 2 and (vol[high].min() > vol[~high].max())


def _pbo_by_the_paper(m, blocks):
    """Bailey et al. (2017) CSCV written as plainly as possible: one pass over the matrix per split."""
    from itertools import combinations

    parts = np.array_split(np.arange(m.shape[0]), blocks)
    logits = []
    for chosen in combinations(range(blocks), blocks // 2):
        inside = np.concatenate([parts[i] for i in chosen])
        outside = np.concatenate([parts[i] for i in range(blocks) if i not in chosen])
        is_sr = m[inside].mean(0) / m[inside].std(0, ddof=1)
        oos_sr = m[outside].mean(0) / m[outside].std(0, ddof=1)
        best = int(np.argmax(is_sr))
        omega = (1 + np.count_nonzero(oos_sr < oos_sr[best])) / (m.shape[1] + 1)
        logits.append(np.log(omega / (1 - omega)))
    return float(np.mean(np.asarray(logits) <= 0)), float(np.mean(logits))


def test_it_computes_pbo_as_the_paper_defines_it():
    m = RNG.normal(0.0002, 0.01, (640, 12))
    m[:, 5] += 0.0008
    result = overfitting.pbo_cscv(m, blocks=10)
    pbo, mean_logit = _pbo_by_the_paper(m, 10)
    assert result["pbo"] == pbo
    assert result["mean_logit"] == pytest.approx(mean_logit, abs=1e-9)


def test_it_matches_scipy_ks_with_ties_and_shares_sorting_with_psi():
    x = RNG.integers(0, 40, 5000).astype(float)  # heavy ties inside and across samples
    y = RNG.integers(3, 45, 4000).astype(float)
    psi, ks = drift.psi_and_ks(x, y)
    assert ks == pytest.approx(stats.ks_2samp(x, y).statistic, abs=1e-12)
    assert psi == pytest.approx(drift.psi(x, y), abs=1e-12)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, 11)[1:-1]))
    expected = np.bincount(np.searchsorted(edges, x, side="right"), minlength=edges.size + 1) / x.size
    actual = np.bincount(np.searchsorted(edges, y, side="right"), minlength=edges.size + 1) / y.size
    assert psi == pytest.approx(drift.psi_from_shares(expected, actual), abs=1e-12)
