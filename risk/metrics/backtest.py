"""Performance of a strategy's simple-returns series (docs/metrics.md)."""

import numpy as np

from risk.metrics._checks import MetricInputError, as_float

PERIODS_PER_YEAR = 252


def sharpe_ratio(returns, periods_per_year: int = PERIODS_PER_YEAR, risk_free: float = 0.0) -> float:
    """Annualised Sharpe: mean excess return / sample standard deviation (ddof=1) x sqrt(periods per year)."""
    r = as_float("returns", returns)
    if r.size < 2:
        raise MetricInputError("the Sharpe ratio needs at least two returns")
    excess = r - risk_free / periods_per_year
    sd = excess.std(ddof=1)
    if sd == 0:
        raise MetricInputError("the Sharpe ratio is undefined for constant returns")
    return float(excess.mean() / sd * np.sqrt(periods_per_year))


def sortino_ratio(returns, periods_per_year: int = PERIODS_PER_YEAR, risk_free: float = 0.0) -> float:
    """Mean excess return over downside deviation sqrt(mean(min(r, 0)^2)), annualised."""
    r = as_float("returns", returns) - risk_free / periods_per_year
    downside = np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))
    if downside == 0:
        raise MetricInputError("the Sortino ratio is undefined without losing periods")
    return float(r.mean() / downside * np.sqrt(periods_per_year))


def equity_and_drawdown(returns) -> tuple[np.ndarray, np.ndarray]:
    """The compounded equity curve starting at 1 (one point longer than the returns) and its drawdown depth."""
    r = as_float("returns", returns)
    if (r <= -1).any():
        raise MetricInputError(f"a return of -100% or worse at position {int(np.flatnonzero(r <= -1)[0])}")
    equity = np.concatenate(([1.0], np.cumprod(1.0 + r)))
    return equity, 1.0 - equity / np.maximum.accumulate(equity)


def drawdown(returns) -> tuple[float, int]:
    """Maximum drawdown as a positive fraction of the running peak of the compounded equity curve (starting
    at 1), and the longest run of periods spent below a previous peak."""
    _, depth = equity_and_drawdown(returns)
    under = depth > 0
    # Longest run of consecutive True values in `under`.
    edges = np.diff(np.concatenate(([0], under.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    longest = int((ends - starts).max()) if starts.size else 0
    return float(depth.max()), longest


def rolling_volatility(returns, window: int = 21) -> np.ndarray:
    """Trailing sample standard deviation over `window` periods ending at each period (fewer at the start;
    the first period borrows the second's). Computed from running sums, O(n)."""
    r = as_float("returns", returns)
    if r.size < 3 or window < 2:
        raise MetricInputError("volatility regimes need at least three periods and a window of two or more")
    shifted = r - r.mean()  # running sums of centred values lose less precision
    c1 = np.concatenate(([0.0], np.cumsum(shifted)))
    c2 = np.concatenate(([0.0], np.cumsum(shifted**2)))
    end = np.arange(1, r.size + 1)
    start = np.maximum(end - window, 0)
    n = (end - start).astype(np.float64)
    s1, s2 = c1[end] - c1[start], c2[end] - c2[start]
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = np.where(n > 1, (s2 - s1**2 / n) / (n - 1), np.nan)
    variance[0] = variance[1]
    return np.sqrt(np.clip(variance, 0.0, None))


def high_volatility(volatility) -> np.ndarray:
    """True for periods above the median volatility: the high-volatility half; the rest is the low half."""
    v = as_float("volatility", volatility)
    return v > np.median(v)


def backtest_report(
    returns, periods_per_year: int = PERIODS_PER_YEAR, risk_free: float = 0.0, positions=None
) -> dict[str, float]:
    r = as_float("returns", returns)
    if r.size < 2:
        raise MetricInputError("a returns series needs at least two periods")
    total = float(np.prod(1.0 + r) - 1.0)
    years = r.size / periods_per_year
    mdd, duration = drawdown(r)
    out = {
        "total_return": total,
        "annualised_return": float((1.0 + total) ** (1.0 / years) - 1.0),
        "annualised_volatility": float(r.std(ddof=1) * np.sqrt(periods_per_year)),
        "sharpe": sharpe_ratio(r, periods_per_year, risk_free),
        "sortino": sortino_ratio(r, periods_per_year, risk_free),
        "max_drawdown": mdd,
        "max_drawdown_duration": float(duration),
        "hit_rate": float(np.count_nonzero(r > 0) / np.count_nonzero(r != 0)) if np.any(r != 0) else 0.0,
    }
    if positions is not None:
        w = as_float("positions", positions)
        if w.size != r.size:
            raise MetricInputError("positions and returns differ in length")
        # Mean absolute change of position per period (the first period trades in from flat).
        out["turnover"] = float(np.abs(np.diff(np.concatenate(([0.0], w)))).mean())
    return out
