"""A strategy's graded robustness tests (issue 23): named market scenarios, transaction costs and parameter
sensitivity, computed on the run's returns (risk.metrics.robustness; definitions in docs/metrics.md).

- "scenario_max_drawdown": the strategy's figures inside each window (the default named windows, then the plan's
  `scenario_windows`) against the whole sample's; graded is the largest drawdown inside any window the data
  covers, held to the same kind of limit as the whole sample's drawdown. A crisis is where a strategy's limits are
  tested: a strategy whose worst fall over three years is modest but which lost a third of its value in March 2020
  fails. Windows without a period in the data are listed "outside the data", never an error; when every window
  is outside, the test is skipped with the data's dates.
- "cost_breakeven_multiple": Sharpe and total return at 0, 1, 2 and 3 times the plan's `cost_per_turnover`
  (needs the returns' position column); graded is the multiple of the stated cost at which the edge (the Sharpe
  ratio) disappears: 0 when there is no edge before costs.
- "parameter_sensitivity": the largest move of the annualised Sharpe ratio between neighbouring configurations of
  the trial-returns matrix (PBO's); a strategy whose result jumps between neighbours was picked from noise.
"""

import numpy as np

from risk.metrics import robustness
from risk.metrics._checks import MetricInputError

SCENARIO = "scenario_max_drawdown"
COSTS = "cost_breakeven_multiple"
SENSITIVITY = "parameter_sensitivity"
STRATEGY_TESTS = {SCENARIO, COSTS, SENSITIVITY}
MULTIPLES = (0, 1, 2, 3)
SHOWN_PAIRS = 20
FIGURES = ("sharpe", "total_return", "max_drawdown")


def windows(options: dict) -> list[tuple[str, str, str, str]]:
    """Every window a run looks at: (start, end, name, source), the defaults first."""
    added = [(w["start"], w["end"], w["name"], "validator") for w in options.get("scenario_windows") or []]
    return [(start, end, name, "default") for start, end, name in robustness.SCENARIOS] + added


def _day(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[D]"))


def scenarios(work) -> None:
    c, o = work.columns, work.options
    chosen = windows(o)
    result = robustness.scenarios(
        c["timestamp"],
        c["return"],
        [(start, end, name) for start, end, name, _ in chosen],
        periods_per_year=o["periods_per_year"],
        positions=c.get("position"),
    )
    rows = []
    for (_, _, _, source), row in zip(chosen, result["windows"], strict=True):
        figures = row.get("figures", {})
        rows.append(
            {
                "name": row["name"],
                "start": row["start"],
                "end": row["end"],
                "source": source,
                "status": "outside the data" if row["status"] == "outside the data" else "tested",
                "periods": row["periods"],
                **{key: figures.get(key) for key in FIGURES},
            }
        )
    whole = result["whole"]
    work.charts["scenarios"] = {"whole": {key: whole.get(key) for key in FIGURES}, "rows": rows}
    tested = [r for r in rows if r["max_drawdown"] is not None]
    if not tested:
        span = f"{_day(c['timestamp'][0])} to {_day(c['timestamp'][-1])}"
        work.skipped[SCENARIO] = f"every scenario window is outside the data ({span}) or holds one period only"
        return
    worst = max(tested, key=lambda r: r["max_drawdown"])
    work.values[SCENARIO] = worst["max_drawdown"]
    outside = [r["name"] for r in rows if r["status"] == "outside the data"]
    work.reasons[SCENARIO] = (
        f"worst inside {worst['name']} ({worst['start']} to {worst['end']}, {worst['periods']} periods): drawdown "
        f"{worst['max_drawdown']:.2%} against {whole['max_drawdown']:.2%} over the whole sample; "
        f"{len(tested)} window{'s' if len(tested) != 1 else ''} tested"
        + (f"; outside the data: {', '.join(outside)}" if outside else "")
    )


def costs(work) -> None:
    c, o = work.columns, work.options
    cost = o.get("cost_per_turnover")
    if cost is None:
        work.skipped[COSTS] = "the plan states no cost per unit of turnover (cost_per_turnover)"
        return
    if "position" not in c:
        work.skipped[COSTS] = "the returns have no position column: the turnover that costs are charged on is unknown"
        return
    try:
        result = robustness.transaction_costs(
            c["return"], c["position"], cost, multiples=MULTIPLES, periods_per_year=o["periods_per_year"]
        )
    except MetricInputError as exc:
        work.failed[COSTS] = f"transaction costs could not be computed: {exc}"
        return
    breakeven = result["breakeven_multiple"]
    work.charts["costs"] = {
        "cost": result["cost"],
        "multiples": [row["multiple"] for row in result["rows"]],
        "sharpe": [row["sharpe"] for row in result["rows"]],
        "total_return": [row["total_return"] for row in result["rows"]],
        "breakeven_multiple": breakeven if breakeven else None,
    }
    if breakeven is None:
        work.skipped[COSTS] = "the positions never change: nothing trades, so costs take nothing"
        return
    work.values[COSTS] = breakeven
    at_one = result["rows"][1]["sharpe"] if len(result["rows"]) > 1 else None
    work.reasons[COSTS] = (
        "no edge before costs: the mean return is not positive"
        if breakeven == 0
        else f"the Sharpe ratio reaches 0 at {breakeven:.2f} times the stated cost of {cost:g} per unit of turnover"
        + (f"; at the stated cost it is {at_one:.2f}" if at_one is not None else "")
    )


def sensitivity(work, matrix: np.ndarray | None, names: list[str]) -> None:
    if matrix is None:
        work.skipped[SENSITIVITY] = "no trial-returns matrix was chosen for this run"
        return
    try:
        result = robustness.parameter_sensitivity(matrix, names, periods_per_year=work.options["periods_per_year"])
    except MetricInputError as exc:
        work.failed[SENSITIVITY] = f"parameter sensitivity could not be computed: {exc}"
        return
    neighbours = "grid" if result["grid"] else "adjacent columns"
    work.values[SENSITIVITY] = result["largest_move"]
    work.values["parameter_sensitivity_median"] = result["median_move"]
    a, b = result["largest_between"]
    work.reasons[SENSITIVITY] = (
        f"the Sharpe ratio moves {result['largest_move']:.2f} between {a} and {b} (median "
        f"{result['median_move']:.2f} over {result['neighbour_pairs']} neighbouring pairs; neighbours: "
        + ("one step of one parameter" if result["grid"] else "adjacent columns, as the names are not key=value")
        + ")"
    )
    work.charts[SENSITIVITY] = {
        "metric": "sharpe",
        "max_move": result["largest_move"],
        "median_move": result["median_move"],
        "neighbours": neighbours,
        "pair_count": result["neighbour_pairs"],  # all of them; the chart draws the SHOWN_PAIRS largest
        "pairs": [
            {"a": first, "b": second, "parameter": parameter, "move": move}
            for first, second, parameter, move in result["pairs"][:SHOWN_PAIRS]
        ],
    }
