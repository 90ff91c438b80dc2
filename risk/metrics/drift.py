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
    return _psi_sorted(np.sort(e), np.sort(a), bins)


def psi_and_ks(reference, current, bins: int = 10) -> tuple[float, float]:
    """PSI and the exact KS statistic of one feature, sorting each sample once for both."""
    e, a = np.sort(as_float("reference", reference)), np.sort(as_float("current", current))
    return _psi_sorted(e, a, bins), _ks_sorted(e, a)


def _psi_sorted(e, a, bins) -> float:
    edges = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))
    # Bin i holds edges[i-1] <= x < edges[i]; on sorted samples the counts below each edge are one search.
    expected = np.diff(np.concatenate(([0], np.searchsorted(e, edges, side="left"), [e.size]))) / e.size
    actual = np.diff(np.concatenate(([0], np.searchsorted(a, edges, side="left"), [a.size]))) / a.size
    return psi_from_shares(expected, actual)


def psi_from_shares(expected, actual) -> float:
    e = np.clip(np.asarray(expected, dtype=np.float64), PSI_EPSILON, None)
    a = np.clip(np.asarray(actual, dtype=np.float64), PSI_EPSILON, None)
    if e.shape != a.shape:
        raise MetricInputError("the two share vectors differ in length")
    return float(np.sum((a - e) * np.log(a / e)))


def ks_statistic(sample_1, sample_2) -> float:
    """Two-sample Kolmogorov-Smirnov statistic D = sup |F1(x) - F2(x)|, exact (both samples fully sorted)."""
    return _ks_sorted(np.sort(as_float("sample_1", sample_1)), np.sort(as_float("sample_2", sample_2)))


def _ks_sorted(x, y) -> float:
    # Both empirical CDFs only step at data points, so the supremum is reached at one of them: evaluate
    # F1 and F2 (right-continuous) at every point of x and of y. Hand-written because SciPy's ks_2samp
    # re-sorts and searches the pooled sample, several times slower on millions of rows. The differences
    # are kept as integers, |c1 m - c2 n| / (n m), in place: exact, and two buffers per sample at most.
    n, m = x.size, y.size
    largest = 0
    for own, other, own_size, other_size in ((x, y, n, m), (y, x, m, n)):
        counts = _count_at_most_self(own)
        counts *= other_size
        below = np.searchsorted(other, own, side="right")
        below *= own_size
        counts -= below
        del below
        np.abs(counts, out=counts)
        largest = max(largest, int(counts.max()))
    return largest / (n * m)


def _count_at_most_self(s) -> np.ndarray:
    """For a sorted array, how many elements are <= each element (ties all get the end of their run)."""
    last = np.concatenate((s[1:] != s[:-1], [True]))
    position = np.arange(1, s.size + 1, dtype=np.int64)
    if last.all():
        return position
    position[~last] = s.size
    return np.minimum.accumulate(position[::-1])[::-1].copy()


def ks_critical_value(n: int, m: int, alpha: float = 0.05) -> float:
    """Large-sample critical value c(alpha) * sqrt((n + m) / (n m)), c(alpha) = sqrt(-ln(alpha / 2) / 2)."""
    if n <= 0 or m <= 0 or not 0 < alpha < 1:
        raise MetricInputError("sample sizes must be positive and alpha between 0 and 1")
    return float(np.sqrt(-0.5 * np.log(alpha / 2)) * np.sqrt((n + m) / (n * m)))
