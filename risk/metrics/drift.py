"""Distribution drift between a reference (training) sample and a current sample."""

import numpy as np

from risk.metrics._checks import MetricInputError, as_float

PSI_EPSILON = 1e-6


def psi(reference, current, bins: int = 10) -> float:
    """Population stability index with bins at the reference sample's quantiles (deciles by default).

    PSI = sum_i (A_i - E_i) ln(A_i / E_i), with E the reference share and A the current share per bin and
    a small epsilon in place of an empty bin's zero share.
    """
    e, a = as_float("reference", reference), as_float("current", current)
    edges = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))
    expected = np.bincount(np.searchsorted(edges, e, side="right"), minlength=edges.size + 1) / e.size
    actual = np.bincount(np.searchsorted(edges, a, side="right"), minlength=edges.size + 1) / a.size
    return psi_from_shares(expected, actual)


def psi_from_shares(expected, actual) -> float:
    e = np.clip(np.asarray(expected, dtype=np.float64), PSI_EPSILON, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), PSI_EPSILON, None)
    if e.shape != a.shape:
        raise MetricInputError("the two share vectors differ in length")
    return float(np.sum((a - e) * np.log(a / e)))


def ks_statistic(sample_1, sample_2) -> float:
    """Two-sample Kolmogorov-Smirnov statistic D = sup |F1(x) - F2(x)|, exact (both samples fully sorted)."""
    x, y = np.sort(as_float("sample_1", sample_1)), np.sort(as_float("sample_2", sample_2))
    points = np.concatenate((x, y))
    cdf_x = np.searchsorted(x, points, side="right") / x.size
    cdf_y = np.searchsorted(y, points, side="right") / y.size
    return float(np.max(np.abs(cdf_x - cdf_y)))


def ks_critical_value(n: int, m: int, alpha: float = 0.05) -> float:
    """Large-sample critical value c(alpha) * sqrt((n + m) / (n m)), c(alpha) = sqrt(-ln(alpha / 2) / 2)."""
    if n <= 0 or m <= 0 or not 0 < alpha < 1:
        raise MetricInputError("sample sizes must be positive and alpha between 0 and 1")
    return float(np.sqrt(-0.5 * np.log(alpha / 2)) * np.sqrt((n + m) / (n * m)))
