"""Backtest-overfitting diagnostics: probabilistic and deflated Sharpe ratios, and PBO by CSCV."""

from itertools import combinations

import numpy as np
from scipy.special import ndtr, ndtri

from risk.metrics._checks import MetricInputError, as_float

EULER_GAMMA = 0.5772156649015329


def probabilistic_sharpe(sr: float, benchmark_sr: float, n_obs: int, skew: float, kurtosis: float) -> float:
    """PSR(SR*) = Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2)), SR per period, raw kurtosis."""
    if n_obs < 2:
        raise MetricInputError("PSR needs at least two observations")
    denominator = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr**2
    if denominator <= 0:
        raise MetricInputError("the skewness and kurtosis give a non-positive variance term")
    return float(ndtr((sr - benchmark_sr) * np.sqrt(n_obs - 1) / np.sqrt(denominator)))


def expected_max_sharpe(trials: int, trials_sharpe_variance: float) -> float:
    """SR0 = sqrt(V) ((1 - g) Phi^-1(1 - 1/N) + g Phi^-1(1 - 1/(N e))), Bailey and Lopez de Prado (2014)."""
    if trials < 2:
        raise MetricInputError("the deflated Sharpe ratio needs at least two trials")
    if trials_sharpe_variance < 0:
        raise MetricInputError("the variance of the trials' Sharpe ratios cannot be negative")
    return float(
        np.sqrt(trials_sharpe_variance)
        * ((1 - EULER_GAMMA) * ndtri(1 - 1 / trials) + EULER_GAMMA * ndtri(1 - 1 / (trials * np.e)))
    )


def deflated_sharpe(
    sr: float, n_obs: int, skew: float, kurtosis: float, trials: int, trials_sharpe_variance: float
) -> float:
    return probabilistic_sharpe(sr, expected_max_sharpe(trials, trials_sharpe_variance), n_obs, skew, kurtosis)


def deflated_sharpe_from_returns(returns, trials: int, trials_sharpe_variance: float) -> float:
    """DSR of a per-period returns series (SR, skewness and raw kurtosis estimated from it)."""
    r = as_float("returns", returns)
    sd = r.std(ddof=1)
    if r.size < 3 or sd == 0:
        raise MetricInputError("the deflated Sharpe ratio needs at least three non-constant returns")
    z = (r - r.mean()) / r.std(ddof=0)
    return deflated_sharpe(
        r.mean() / sd, r.size, float(np.mean(z**3)), float(np.mean(z**4)), trials, trials_sharpe_variance
    )


def pbo_cscv(trial_returns, blocks: int = 16) -> dict[str, float]:
    """Probability of backtest overfitting by combinatorially symmetric cross-validation (Bailey et al. 2017).

    The T x N matrix (one column per configuration tried) is cut into `blocks` row blocks; for each half of
    the blocks as in-sample, the best in-sample column's relative rank out of sample gives a logit; PBO is
    the share of logits <= 0. Also returns the mean logit and the share of splits losing out of sample.
    """
    m = np.asarray(trial_returns, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] < 2:
        raise MetricInputError("PBO needs a matrix with one column per trial and at least two trials")
    if not np.isfinite(m).all():
        raise MetricInputError("the trial returns have NaN or infinite values")
    if blocks % 2 or blocks < 2 or m.shape[0] < 2 * blocks:
        raise MetricInputError("use an even number of blocks, each with at least two rows")
    # Hand-written from block sums: each split's per-column mean and variance come from the sums of its
    # blocks, so the C(S, S/2) splits cost O(S N) each instead of a pass over the T x N matrix.
    parts = np.array_split(m, blocks)
    count = np.array([len(p) for p in parts], dtype=np.float64)
    sums = np.stack([p.sum(axis=0) for p in parts])
    squares = np.stack([(p * p).sum(axis=0) for p in parts])
    n = m.shape[1]
    chosen_sets = np.array(list(combinations(range(blocks), blocks // 2)))
    inside = np.zeros((len(chosen_sets), blocks), dtype=bool)
    inside[np.arange(len(chosen_sets))[:, None], chosen_sets] = True
    is_perf = _sharpe_from_sums(inside @ count, inside.astype(np.float64) @ sums, inside.astype(np.float64) @ squares)
    outside = (~inside).astype(np.float64)
    oos_perf = _sharpe_from_sums(outside @ count, outside @ sums, outside @ squares)
    best = np.argmax(is_perf, axis=1)
    best_oos = oos_perf[np.arange(len(best)), best]
    rank = 1 + np.count_nonzero(oos_perf < best_oos[:, None], axis=1)  # 1 = worst out of sample
    omega = rank / (n + 1)
    logits = np.log(omega / (1 - omega))
    return {
        "pbo": float(np.mean(logits <= 0)),
        "mean_logit": float(logits.mean()),
        "p_oos_loss": float(np.mean(best_oos < 0)),
        "splits": float(logits.size),
    }


def per_period_sharpe(trial_returns) -> np.ndarray:
    """Each column's per-period Sharpe ratio (mean / sd, ddof=1); a constant column scores 0."""
    m = np.asarray(trial_returns, dtype=np.float64)
    sd = m.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, m.mean(axis=0) / sd, 0.0)


def _sharpe_from_sums(n, sums, squares) -> np.ndarray:
    """Per-period Sharpe ratios (ddof=1) of each split (rows) and trial (columns) from counts and sums."""
    n = n[:, None]
    mean = sums / n
    variance = np.clip((squares - n * mean**2) / (n - 1), 0.0, None)
    sd = np.sqrt(variance)
    # A (numerically) constant column has no Sharpe ratio; score it 0 as the previous pass-based code did.
    tiny = sd <= 1e-12 * np.maximum(np.abs(mean), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tiny, 0.0, mean / np.where(tiny, 1.0, sd))
