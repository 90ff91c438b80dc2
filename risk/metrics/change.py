"""Sudden-change detection on a monitored stream, and the false-alarm rate a drift threshold implies.

Written here rather than taken from a library: the rules are a few lines each, and what the product must
state beside them (the reference they standardise against, their parameters, the expected run length between
false alarms) is exactly what a general library hides.

Both rules standardise the stream against a frozen reference window (its mean and standard deviation), so a
shift is measured in reference standard deviations, and both restart after an alarm.

- Two-sided CUSUM (Page 1954): S+ = max(0, S+ + z - k), S- = max(0, S- - z - k); alarm when either exceeds
  h. With k = 0.5 and h = 5: about 465 in-control observations between false alarms, and a 1 sigma shift
  caught in about 10 observations (Montgomery, Introduction to Statistical Quality Control, table 9.3).
- EWMA (Roberts 1959; Lucas and Saccucci 1990): E = lambda z + (1 - lambda) E, alarm when |E| exceeds
  L sigma_E, sigma_E = sqrt(lambda / (2 - lambda)) (the asymptotic limits the published run lengths are for).
  With lambda = 0.1 and L = 2.814: about 500 in-control observations between false alarms, a 1 sigma shift
  caught in about 10.
"""

import math
from dataclasses import dataclass

import numpy as np

from risk.metrics._checks import MetricInputError, as_float


@dataclass(frozen=True)
class Rule:
    name: str
    parameters: dict
    in_control_run_length: float  # expected observations between false alarms
    one_sigma_delay: float | None  # expected observations to catch a 1 sigma shift


CUSUM = Rule("cusum", {"k": 0.5, "h": 5.0}, 465.0, 10.4)
EWMA = Rule("ewma", {"lambda": 0.1, "L": 2.814}, 500.0, 10.3)


def standardise(values, reference) -> np.ndarray:
    """The stream in reference standard deviations from the reference mean."""
    ref = as_float("reference", reference)
    if ref.size < 2:
        raise MetricInputError("the reference window needs at least 2 observations")
    sd = float(np.std(ref, ddof=1))
    if not sd > 0:
        raise MetricInputError("the reference window is constant: there is no spread to measure a change against")
    return (as_float("values", values) - float(np.mean(ref))) / sd


def cusum_levels(z, k: float = 0.5, h: float = 5.0) -> np.ndarray:
    """The two-sided CUSUM of standardised values `z` after each observation, as a share of the decision
    limit h (above 1 is an alarm; the sums restart after each alarm)."""
    z = as_float("z", z)
    levels, high, low = np.empty(z.size), 0.0, 0.0
    for i, value in enumerate(z):
        high = max(0.0, high + value - k)
        low = max(0.0, low - value - k)
        levels[i] = max(high, low) / h
        if high > h or low > h:
            high = low = 0.0
    return levels


def cusum_alarms(z, k: float = 0.5, h: float = 5.0) -> list[int]:
    """Positions where the two-sided CUSUM of standardised values `z` alarms (restarting after each)."""
    return np.flatnonzero(cusum_levels(z, k, h) > 1).tolist()


def ewma_levels(z, lam: float = 0.1, width: float = 2.814) -> np.ndarray:
    """|EWMA| of standardised values `z` after each observation, as a share of its control limit (above 1 is
    an alarm; the average restarts after each alarm)."""
    z = as_float("z", z)
    limit = width * np.sqrt(lam / (2 - lam))
    levels, level = np.empty(z.size), 0.0
    for i, value in enumerate(z):
        level = lam * value + (1 - lam) * level
        levels[i] = abs(level) / limit
        if abs(level) > limit:
            level = 0.0
    return levels


def ewma_alarms(z, lam: float = 0.1, width: float = 2.814) -> list[int]:
    """Positions where the EWMA of standardised values `z` leaves its limits (restarting after each)."""
    return np.flatnonzero(ewma_levels(z, lam, width) > 1).tolist()


def psi_false_alarm_rate(threshold: float, window: int, reference: int, bins: int = 10) -> float:
    """The chance that PSI exceeds `threshold` with no drift at all, for a window of `window` rows against a
    reference of `reference` rows: PSI is then about (1/window + 1/reference) times a chi-square with
    bins - 1 degrees of freedom. "PSI > 0.10" on 10 bins fires 83% of the time on 100 rows against 100."""
    if window < 1 or reference < 1 or bins < 2 or threshold < 0:
        raise MetricInputError("give positive window and reference sizes, at least 2 bins and a threshold >= 0")
    scale = 1 / window + 1 / reference
    return chi2_sf(threshold / scale, bins - 1)


def psi_minimum_window(threshold: float, reference: int, rate: float = 0.05, bins: int = 10) -> int | None:
    """The smallest window whose false-alarm rate at `threshold` is at most `rate` (None when even an
    unlimited window cannot get there against this reference)."""
    if psi_false_alarm_rate(threshold, 10**9, reference, bins) > rate:
        return None
    low, high = 1, 10**9
    while low < high:
        middle = (low + high) // 2
        if psi_false_alarm_rate(threshold, middle, reference, bins) <= rate:
            high = middle
        else:
            low = middle + 1
    return low


def ks_false_alarm_rate(threshold: float, window: int, reference: int) -> float:
    """The chance that the two-sample KS statistic exceeds `threshold` with no drift at all (Kolmogorov's
    asymptotic distribution of sqrt(n m / (n + m)) D)."""
    if window < 1 or reference < 1 or threshold < 0:
        raise MetricInputError("give positive window and reference sizes and a threshold >= 0")
    return kolmogorov_sf(threshold * math.sqrt(window * reference / (window + reference)))


# The two survival functions above in closed form. SciPy has them (chi2.sf, kstwobign.sf), but the model page
# states these rates beside each drift monitor, and importing scipy.stats (or even scipy.special) cost a web
# process's first such page 0.6-5 s (issue 21); tests/risk/metrics check them against SciPy.


def chi2_sf(x: float, df: int) -> float:
    """P(X > x) for a chi-square with a whole number `df` of degrees of freedom: the regularized upper incomplete
    gamma Q(df/2, x/2), a finite sum for whole df (Abramowitz and Stegun 26.4.4 and 26.4.5)."""
    if x <= 0:
        return 1.0
    half = x / 2
    if df % 2 == 0:  # e^-h (1 + h + h^2/2! + ... + h^(df/2-1)/(df/2-1)!)
        term = total = 1.0
        for i in range(1, df // 2):
            term *= half / i
            total += term
        return min(1.0, math.exp(-half) * total)
    # erfc(sqrt h) + e^-h (h^(1/2)/Gamma(3/2) + h^(3/2)/Gamma(5/2) + ...), (df-1)/2 terms
    total = math.erfc(math.sqrt(half))
    term = math.exp(-half) * math.sqrt(half) / math.gamma(1.5)
    for i in range(1, (df - 1) // 2 + 1):
        total += term
        term *= half / (i + 0.5)
    return min(1.0, total)


def kolmogorov_sf(x: float, terms: int = 30) -> float:
    """P(K > x) for Kolmogorov's distribution: 2 sum (-1)^(k-1) e^(-2 k^2 x^2), which converges fast from x = 1;
    below, one minus its other form, sqrt(2 pi)/x sum e^(-(2k-1)^2 pi^2 / (8 x^2)), which converges fast there."""
    if x <= 0:
        return 1.0
    if x < 1:
        c = -(math.pi**2) / (8 * x * x)
        below = math.sqrt(2 * math.pi) / x * sum(math.exp(c * (2 * k - 1) ** 2) for k in range(1, terms))
        return max(0.0, 1.0 - below)
    return min(1.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * x * x) for k in range(1, terms)))


def longest_run_threshold(loss_rate: float, trades: int, chance: float) -> int:
    """The shortest losing streak that a window of `trades` independent trades, each lost with probability
    `loss_rate`, contains with probability at most `chance`: P(longest run >= k) ~ 1 - exp(-n (1 - q) q^k)
    (the Poisson approximation for runs; Feller, vol. I, XIII.7)."""
    if not 0 < loss_rate < 1 or trades < 1 or not 0 < chance < 1:
        raise MetricInputError("give a loss rate and a chance strictly between 0 and 1, and at least one trade")
    bound = -np.log1p(-chance) / (trades * (1 - loss_rate))  # q^k must not exceed this
    return max(1, int(np.ceil(np.log(bound) / np.log(loss_rate))))
