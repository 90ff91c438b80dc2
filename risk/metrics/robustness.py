"""Robustness: a model's headline metric under perturbed inputs, and a strategy's figures in named market
scenarios, under transaction costs and across neighbouring configurations (docs/metrics.md).

`predict` and `score` are as in risk/metrics/explain.py: scores out of a float64 matrix, and a metric where
greater is better.
"""

import re

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtri

from risk.metrics._checks import MetricInputError, as_float, as_matrix, predictions_of
from risk.metrics.backtest import PERIODS_PER_YEAR, backtest_report, sharpe_ratio
from risk.metrics.overfitting import per_period_sharpe

LEVELS = (0.1, 0.25, 0.5)
DAY_NS = 86_400 * 10**9
NORMAL_IQR = 2 * float(ndtri(0.75))  # 1.349: the IQR of a standard normal variable


def spread(X) -> np.ndarray:
    """Each feature's spread: IQR / 1.349 (the standard deviation of a normal variable with that IQR), robust
    to the fat tails of market data where the sd is dominated by a few rows; the sd where the IQR is 0 (a
    mostly constant or binary feature); 0 for a constant feature, which then gets no noise."""
    X = np.asarray(X, dtype=np.float64)
    q1, q3 = np.nanpercentile(X, [25, 75], axis=0)
    iqr = (q3 - q1) / NORMAL_IQR
    return np.where(iqr > 0, iqr, np.nanstd(X, axis=0, ddof=1))


def perturbation(
    predict,
    score,
    X,
    y,
    *,
    levels=LEVELS,
    accepts_missing: bool = False,
    missing_share: float = 0.1,
    seed: int = 0,
) -> dict:
    """The metric with Gaussian noise of sd level x spread added to each feature in turn and to all features at
    once, per level; and, when the model accepts missing values, with `missing_share` of each feature's rows
    set to NaN. Degradation is baseline - perturbed (positive: worse), also relative to |baseline|.

    Each feature's standard normal draw is made once and scaled per level (common random numbers), so the
    levels differ only by the noise's size; draws come from default_rng(seed) in feature order.
    """
    X = as_matrix("X", X, allow_nan=accepts_missing)
    n, k = X.shape
    y = np.asarray(y)
    if y.shape[:1] != (n,):
        raise MetricInputError(f"y has {y.shape[0] if y.ndim else 0} rows and X has {n}")
    levels = as_float("levels", levels)
    if (levels <= 0).any():
        raise MetricInputError("noise levels must be positive")
    if not 0 < missing_share <= 1:
        raise MetricInputError("missing_share must lie in (0, 1]")
    rng = np.random.default_rng(seed)
    scale = spread(X)
    baseline = float(score(y, predictions_of(predict, X)))
    work = X.copy()

    def measured() -> dict:
        value = float(score(y, predictions_of(predict, work)))
        drop = baseline - value
        return {"score": value, "degradation": drop, "relative": drop / abs(baseline) if baseline else None}

    per_feature = []
    for j in range(k):
        z = rng.standard_normal(n)
        row = {"feature": j, "spread": float(scale[j]), "levels": []}
        for level in levels:
            work[:, j] = X[:, j] + z * level * scale[j]
            row["levels"].append({"level": float(level), **measured()})
        if accepts_missing:
            work[:, j] = X[:, j]
            work[rng.random(n) < missing_share, j] = np.nan
            row["missing"] = measured()
        work[:, j] = X[:, j]
        per_feature.append(row)
    z = rng.standard_normal((n, k))
    all_features = []
    for level in levels:
        np.add(X, z * (level * scale), out=work)
        all_features.append({"level": float(level), **measured()})
    return {"baseline": baseline, "features": per_feature, "all_features": all_features}


# Named market windows, inclusive dates (UTC). Sources: 2008: Lehman Brothers' Chapter 11 filing on 15 September
# 2008 to the S&P 500's low on 9 March 2009 (with the weeks around them); flash crash: CFTC-SEC, "Findings
# regarding the market events of May 6, 2010" (30 September 2010); franc shock: SNB press release of 15 January
# 2015 discontinuing the EUR/CHF 1.20 floor; March 2020: the S&P 500's high on 19 February 2020 and low on
# 23 March 2020, and the rebound to the end of April; 2022: the S&P 500's high on 3 January 2022, the FOMC's
# first rise on 16 March 2022, to its low on 12 October 2022; March 2023: Silicon Valley Bank's closure on 10 March
# 2023, Signature Bank's on 12 March and Credit Suisse's rescue on 19 March, to the month's end; August 2024: the
# Bank of Japan's rate rise on 31 July 2024 and the Nikkei 225's 12.4% fall on 5 August, to the end of that week.
SCENARIOS = (
    ("2008-09-01", "2009-03-31", "2008 financial crisis"),
    ("2010-05-06", "2010-05-06", "May 2010 flash crash"),
    ("2015-01-15", "2015-01-31", "January 2015 Swiss franc shock"),
    ("2020-02-20", "2020-04-30", "March 2020 Covid crash"),
    ("2022-01-01", "2022-10-31", "2022 rate rise"),
    ("2023-03-08", "2023-03-31", "March 2023 US bank failures"),
    ("2024-07-31", "2024-08-09", "August 2024 yen carry unwind"),
)


def _ns(value, name: str) -> int:
    try:
        return int(np.datetime64(value, "ns").astype(np.int64))
    except (ValueError, TypeError) as exc:
        raise MetricInputError(f"{name} {value!r} is not a date") from exc


def scenarios(
    timestamps, returns, windows=SCENARIOS, *, periods_per_year: int = PERIODS_PER_YEAR, positions=None
) -> dict:
    """The strategy's backtest figures inside each window (start, end, name), with their difference from the
    whole sample's. Dates are inclusive: the end date's whole day counts. A window without a period in the data
    is "outside the data"; with one period only its return is given ("too few periods")."""
    t = np.asarray(timestamps)
    if t.dtype.kind == "M":
        t = t.astype("datetime64[ns]").astype(np.int64)
    if t.ndim != 1 or t.dtype.kind not in "iu":
        raise MetricInputError("timestamps must be one-dimensional int64 nanoseconds")
    r = as_float("returns", returns)
    if t.size != r.size:
        raise MetricInputError(f"timestamps have {t.size} values and returns {r.size}")
    w = None if positions is None else as_float("positions", positions)
    whole = backtest_report(r, periods_per_year, positions=w)
    out = []
    for start, end, name in windows:
        low, high = _ns(start, f"start of {name}"), _ns(end, f"end of {name}") + DAY_NS
        if high <= low:
            raise MetricInputError(f"the window {name} ends before it starts")
        inside = (t >= low) & (t < high)
        count = int(inside.sum())
        row = {"name": name, "start": str(start), "end": str(end), "periods": count}
        covered = t.size and low >= t.min() and high - DAY_NS <= t.max()
        if count == 0:
            out.append({**row, "status": "outside the data"})
            continue
        row["status"] = "inside the data" if covered else "partly inside the data"
        if count == 1:
            out.append({**row, "note": "too few periods", "figures": {"total_return": float(r[inside][0])}})
            continue
        try:
            figures = backtest_report(r[inside], periods_per_year, positions=None if w is None else w[inside])
        except MetricInputError as exc:
            out.append({**row, "note": str(exc), "figures": {"total_return": float(np.prod(1 + r[inside]) - 1)}})
            continue
        row["figures"] = figures
        row["difference"] = {key: figures[key] - whole[key] for key in figures if key in whole}
        out.append(row)
    return {"whole": whole, "windows": out}


def transaction_costs(
    returns, positions, cost: float, *, multiples=(0, 1, 2, 3), periods_per_year: int = PERIODS_PER_YEAR
) -> dict:
    """Sharpe and total return with costs of multiple x `cost` per unit turnover deducted from gross returns:
    net_t = r_t - m c |w_t - w_(t-1)|, trading in from flat (w_(-1) = 0), as backtest turnover counts it.

    The edge is the Sharpe ratio: it is positive exactly while the mean net return is, which is linear in the
    multiple, so the breakeven multiple is mean(r) / (c mean(turnover)) exactly (0 when there is no edge before
    costs, None when nothing trades). The compounded total return's breakeven is also given (Brent's method;
    it decreases in the multiple while every period's net return is above -100%)."""
    r, w = as_float("returns", returns), as_float("positions", positions)
    if r.size != w.size:
        raise MetricInputError(f"returns have {r.size} values and positions {w.size}")
    if r.size < 2:
        raise MetricInputError("transaction costs need at least two periods")
    if not np.isfinite(cost) or cost < 0:
        raise MetricInputError("cost per unit turnover must be a non-negative number")
    turnover = np.abs(np.diff(np.concatenate(([0.0], w))))
    rows = []
    for m in multiples:
        net = r - m * cost * turnover
        try:
            sharpe = sharpe_ratio(net, periods_per_year)
        except MetricInputError:
            sharpe = None
        rows.append({"multiple": float(m), "sharpe": sharpe, "total_return": float(np.prod(1 + net) - 1)})
    drag = cost * turnover.mean()
    mean = r.mean()
    sharpe_breakeven = None if drag == 0 else max(0.0, float(mean / drag))

    def total(m):
        return float(np.prod(1 + r - m * cost * turnover) - 1)

    total_breakeven = None
    if drag > 0:
        if total(0) <= 0:
            total_breakeven = 0.0
        else:
            # up to the multiple where a period's net return reaches -100% and the total return -100%
            ceiling = float(np.min((1 + r[turnover > 0]) / (cost * turnover[turnover > 0])))
            total_breakeven = float(brentq(total, 0.0, ceiling, xtol=1e-12))
    return {
        "cost": float(cost),
        "rows": rows,
        "edge": "sharpe",
        "breakeven_multiple": sharpe_breakeven,
        "total_return_breakeven_multiple": total_breakeven,
    }


_SEPARATOR = re.compile(r"[;,|]")


def parse_configuration(name: str) -> dict | None:
    """`lookback=20;threshold=0.5` (or `,` or `|` between pairs) as {"lookback": 20.0, "threshold": 0.5};
    values that are not numbers stay text; None when it is not such a name."""
    pairs = {}
    for part in _SEPARATOR.split(str(name)):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value or key in pairs:
            return None
        try:
            pairs[key] = float(value)
        except ValueError:
            pairs[key] = value
    return pairs


def parameter_sensitivity(trial_returns, names, *, periods_per_year: int = PERIODS_PER_YEAR) -> dict:
    """How much the annualised Sharpe ratio moves between neighbouring configurations of the trial-returns
    matrix (one column per configuration, as PBO uses). When every name parses into the same parameters,
    neighbours differ in one parameter by one step of its sorted values (numbers in order, text in order of
    first appearance). Otherwise neighbours are adjacent columns: the order the developer tried them in is the
    only order there is. A constant column's Sharpe is 0 (as PBO scores it)."""
    m = as_matrix("trial returns", trial_returns)
    names = [str(n) for n in names]
    if len(names) != m.shape[1]:
        raise MetricInputError(f"the trial returns have {m.shape[1]} columns and {len(names)} names")
    if m.shape[0] < 2 or m.shape[1] < 2:
        raise MetricInputError("parameter sensitivity needs at least two periods and two configurations")
    sharpe = per_period_sharpe(m) * np.sqrt(periods_per_year)
    parsed = [parse_configuration(n) for n in names]
    keys = set(parsed[0]) if parsed[0] else None
    grid = keys is not None and all(p is not None and set(p) == keys for p in parsed)
    if grid and len({tuple(sorted(p.items(), key=lambda kv: kv[0])) for p in parsed}) < len(parsed):
        raise MetricInputError("two columns name the same configuration")
    pairs = []
    if grid:
        steps = {}
        for key in sorted(keys):
            values = list(dict.fromkeys(p[key] for p in parsed))
            if all(isinstance(v, float) for v in values):
                values.sort()
            steps[key] = {v: i for i, v in enumerate(values)}
        position = {tuple(steps[key][p[key]] for key in sorted(keys)): i for i, p in enumerate(parsed)}
        for point, i in position.items():
            for axis, key in enumerate(sorted(keys)):
                nxt = point[:axis] + (point[axis] + 1,) + point[axis + 1 :]
                if nxt in position:
                    pairs.append((i, position[nxt], key))
    else:
        pairs = [(i, i + 1, None) for i in range(len(names) - 1)]
    if not pairs:
        raise MetricInputError(
            "no two configurations are neighbours (each differs from the others in two or more parameters)"
        )
    moves = np.array([abs(sharpe[b] - sharpe[a]) for a, b, _ in pairs])
    largest = int(np.argmax(moves))
    a, b, key = pairs[largest]
    per_parameter = {}
    for (_, _, k), move in zip(pairs, moves, strict=True):
        if k is not None:
            per_parameter[k] = max(per_parameter.get(k, 0.0), float(move))
    return {
        "grid": grid,
        "parameters": sorted(keys) if grid else [],
        "neighbour_pairs": len(pairs),
        "largest_move": float(moves[largest]),
        "largest_between": [names[a], names[b]],
        "median_move": float(np.median(moves)),
        "largest_move_per_parameter": per_parameter,
        "sharpe": dict(zip(names, sharpe.tolist(), strict=True)),
        # every neighbour pair, the largest move first: (name a, name b, the parameter that differs or None, move)
        "pairs": [
            (names[pairs[i][0]], names[pairs[i][1]], pairs[i][2], float(moves[i]))
            for i in np.argsort(-moves, kind="stable")
        ],
    }
