"""What a monitor can measure: its label, its kind, the data it reads, the unit of its window and value.

The computations are the validation kernels (risk/metrics) applied to a window of live data; the code that
reads the window from the database is in evaluation.py. Each measure says which way is bad (`direction`),
so a monitor alerts above or below its thresholds without a sign convention to remember.
"""

from dataclasses import dataclass

from governance.core.templatetags.display import money
from risk.metrics.change import CUSUM, EWMA

# Where a measure's window is counted in, as the pages say it.
LABELLED = "labelled predictions"
PREDICTIONS = "predictions"
TRADES = "trades"
DAYS = "days"
HOURS = "trading hours"
REFERENCE_PREDICTIONS = 1000  # rows frozen as the drift reference
OBSERVATIONS = "points"  # of a change rule's stream (each a mean of a batch of observations)


@dataclass(frozen=True)
class Measure:
    code: str
    label: str
    kind: str  # Monitor.Kind
    direction: str  # "above" or "below": which side of the thresholds is bad
    window_unit: str
    unit: str  # how the value reads: "share", "ratio", "number", "money", "hours", "percentile", "level"
    explanation: str


def _m(code, label, kind, direction, window_unit, unit, explanation) -> Measure:
    return Measure(code, label, kind, direction, window_unit, unit, explanation)


MEASURES = {
    m.code: m
    for m in [
        # Performance on labelled predictions, graded against the thresholds the model was validated against.
        _m("accuracy", "Accuracy", "performance", "below", LABELLED, "share", "Share of labelled predictions right."),
        _m("precision", "Precision", "performance", "below", LABELLED, "share", "Share of predicted 1s that were 1."),
        _m("recall", "Recall", "performance", "below", LABELLED, "share", "Share of actual 1s predicted as 1."),
        _m("roc_auc", "ROC AUC", "performance", "below", LABELLED, "number", "Ranking quality of the scores."),
        _m(
            "calibration_error",
            "Calibration error",
            "performance",
            "above",
            LABELLED,
            "share",
            "Mean gap between predicted probability and observed frequency (10 bins).",
        ),
        _m("rmse", "RMSE", "performance", "above", LABELLED, "number", "Root mean squared error."),
        _m("mae", "Mean absolute error", "performance", "above", LABELLED, "number", "Mean absolute error."),
        _m(
            "directional_accuracy",
            "Directional accuracy",
            "performance",
            "below",
            LABELLED,
            "share",
            "Share of labelled predictions with the outcome's sign.",
        ),
        # Drift of every row (labelled or not) against the frozen reference window.
        _m("psi", "PSI", "drift", "above", PREDICTIONS, "number", "Population stability index against the reference."),
        _m("ks", "KS statistic", "drift", "above", PREDICTIONS, "number", "Largest gap between the two distributions."),
        # Trading, in the firm's units.
        _m(
            "trade_count",
            "Trades a day against the first week",
            "trading",
            "above",
            DAYS,
            "ratio",
            "Trades a day in the window, as a multiple of the daily count in the version's first days of trading.",
        ),
        _m("pnl", "P&L", "trading", "below", DAYS, "money", "Sum of the trades' P&L in the window."),
        _m(
            "sharpe_band",
            "Live Sharpe: percentile in the backtest's distribution",
            "trading",
            "below",
            DAYS,
            "percentile",
            "Where the live Sharpe ratio of daily P&L falls in the probabilistic Sharpe distribution of the "
            "backtest's (Bailey and Lopez de Prado): a low percentile means live trading is worse than the "
            "backtest by more than chance explains.",
        ),
        _m(
            "drawdown",
            "Drawdown",
            "trading",
            "above",
            DAYS,
            "share",
            "Largest fall of cumulative P&L from its peak, as a share of the pilot's maximum notional, against "
            "the backtest's maximum drawdown.",
        ),
        _m("hit_rate", "Hit rate", "trading", "below", TRADES, "share", "Share of trades with a positive P&L."),
        _m(
            "losing_streak",
            "Longest losing streak",
            "trading",
            "above",
            TRADES,
            "number",
            "Longest run of consecutive losing trades in the window; thresholds are the streaks a window of "
            "that size reaches by chance 5% and 1% of the time at the backtest's hit rate.",
        ),
        _m(
            "slippage",
            "Slippage against expected",
            "trading",
            "above",
            TRADES,
            "ratio",
            "Mean realised slippage as a multiple of the mean expected slippage.",
        ),
        _m(
            "staleness",
            "Hours without data",
            "staleness",
            "above",
            HOURS,
            "hours",
            "Trading hours (Monday to Friday, UTC) since the version last reported anything.",
        ),
        # Sudden change: a change-point rule on a stream, standardised against its frozen reference window.
        _m(
            "cusum",
            "CUSUM",
            "change",
            "above",
            OBSERVATIONS,
            "level",
            "Two-sided CUSUM; the value is the largest share of the decision limit reached in the window "
            "(1 or more: an alarm).",
        ),
        _m(
            "ewma",
            "EWMA",
            "change",
            "above",
            OBSERVATIONS,
            "level",
            "EWMA chart; the value is the largest share of the control limit reached in the window "
            "(1 or more: an alarm).",
        ),
    ]
}

CLASSIFIER_PERFORMANCE = ["accuracy", "precision", "recall", "roc_auc", "calibration_error"]
REGRESSOR_PERFORMANCE = ["rmse", "mae", "directional_accuracy"]
# The streams a sudden-change rule watches, and how many raw observations make one point of the stream:
# indicator streams are averaged in batches so their standardised points are near normal, which is what the
# rules' published run lengths assume.
CHANGE_STREAMS = {
    "accuracy": ("Accuracy of labelled predictions (1 right, 0 wrong)", 25),
    "losing_trades": ("Losing trades (1 a loss, 0 not)", 10),
    "pnl": ("P&L per trade", 10),
}
RULES = {"cusum": CUSUM, "ewma": EWMA}


def rule_summary(measure: str, params: dict) -> str:
    """The rule's parameters and its expected false-alarm interval, as the pages show them."""
    rule = RULES[measure]
    batch = params.get("batch", 1)
    if measure == "cusum":
        p = f"k = {params.get('k', 0.5)}, h = {params.get('h', 5.0)}"
    else:
        p = f"lambda = {params.get('lambda', 0.1)}, L = {params.get('L', 2.814)}"
    each = f" (each a mean of {batch} observations)" if batch > 1 else ""
    return (
        f"{p}: about one false alarm per {rule.in_control_run_length:.0f} points{each}; a one-standard-deviation "
        f"shift is caught in about {rule.one_sigma_delay:.0f} points."
    )


def label(monitor) -> str:
    """How pages name a monitor: the measure and what it reads."""
    measure = MEASURES[monitor.measure]
    if monitor.kind == "drift":
        return f"{measure.label} of {'the score' if monitor.stream == 'score' else monitor.stream}"
    if monitor.kind == "change":
        return f"{measure.label} on {CHANGE_STREAMS[monitor.stream][0].split(' (')[0].lower()}"
    return measure.label


# Units whose values are stored as fractions and shown, typed and audited in per cent.
PERCENT_UNITS = frozenset({"share", "percentile"})


def as_percent(fraction: float) -> float:
    """A stored fraction in per cent, as the change form shows it (0.55 -> 55.0)."""
    return round(100 * fraction, 6)


def format_value(unit: str, value, money=None) -> str:
    """A monitor's value or threshold as its unit reads ("54.2 %", "2.10x", "5.0 h")."""
    if value is None:
        return "—"
    if unit in PERCENT_UNITS:
        return f"{100 * value:.1f} %"
    if unit == "ratio":
        return f"{value:.2f}x"
    if unit == "hours":
        return f"{value:.1f} h"
    if unit == "money" and money is not None:
        return money(value)
    if unit == "level":  # three decimals: 1.004 is an alarm, and must not read as 1.00
        return f"{value:.3f} of the limit"
    if float(value).is_integer() and abs(value) < 1e6:
        return f"{int(value)}"
    return f"{value:.3f}"


def result_text(monitor, result, outcome: str = "breach") -> str:
    """One sentence for a warning or a breach: "PSI of the score at 0.31, above its breach threshold 0.25 (as of
    ...)" (incidents and alerts say it the same way)."""
    unit = MEASURES[monitor.measure].unit
    threshold = monitor.breach if outcome == "breach" else monitor.warn
    value, limit = format_value(unit, result.value, money), format_value(unit, threshold, money)
    side = "above" if monitor.direction == "above" else "below"
    what = "breach" if outcome == "breach" else "warning"
    return f"{label(monitor)} at {value}, {side} its {what} threshold {limit} (as of {result.slot:%Y-%m-%d %H:%M} UTC)."
