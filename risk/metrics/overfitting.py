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
    parts = np.array_split(np.arange(m.shape[0]), blocks)
    n = m.shape[1]
    logits, oos_losses = [], 0
    for chosen in combinations(range(blocks), blocks // 2):
        inside = np.concatenate([parts[i] for i in chosen])
        outside = np.concatenate([parts[i] for i in range(blocks) if i not in chosen])
        is_perf, oos_perf = _sharpe_columns(m[inside]), _sharpe_columns(m[outside])
        best = int(np.argmax(is_perf))
        rank = 1 + np.count_nonzero(oos_perf < oos_perf[best])  # 1 = worst out of sample
        omega = rank / (n + 1)
        logits.append(np.log(omega / (1 - omega)))
        oos_losses += oos_perf[best] < 0
    logits = np.asarray(logits)
    return {
        "pbo": float(np.mean(logits <= 0)),
        "mean_logit": float(logits.mean()),
        "p_oos_loss": float(oos_losses / logits.size),
        "splits": float(logits.size),
    }


def _sharpe_columns(block) -> np.ndarray:
    sd = block.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, block.mean(axis=0) / sd, 0.0)
