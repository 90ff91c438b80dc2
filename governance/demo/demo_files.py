"""Seeded example inputs for the demo firm: a strategy backtest and the configurations tried for it."""

import numpy as np

DAYS = 756  # three years of trading days


def _business_days(start="2023-01-02", n=DAYS):
    return np.busday_offset(np.datetime64(start), np.arange(n), roll="forward")


def backtest_csv(seed: int = 11) -> bytes:
    """Daily returns of a modest strategy whose volatility doubles in a stressed second half of each year."""
    rng = np.random.default_rng(seed)
    days = _business_days()
    stressed = (days.astype("datetime64[M]").astype(int) % 12) >= 6
    returns = rng.normal(0.0005, 0.008, DAYS) * np.where(stressed, 1.8, 1.0)
    benchmark = rng.normal(0.0003, 0.01, DAYS) * np.where(stressed, 1.6, 1.0)
    lines = [f"{d},{r:.7f},{b:.7f}" for d, r, b in zip(days, returns, benchmark, strict=True)]
    return ("timestamp,return,benchmark\n" + "\n".join(lines) + "\n").encode()


def trials_csv(seed: int = 12, trials: int = 24) -> bytes:
    """The returns of every configuration the developer tried (one column each), mostly noise."""
    rng = np.random.default_rng(seed)
    days = _business_days()
    matrix = rng.normal(0.0002, 0.009, (DAYS, trials))
    header = "timestamp," + ",".join(f"config_{i + 1:02d}" for i in range(trials))
    lines = [f"{d}," + ",".join(f"{v:.7f}" for v in row) for d, row in zip(days, matrix, strict=True)]
    return (header + "\n" + "\n".join(lines) + "\n").encode()
