"""The metrics a trading system or pipeline may report as points, with their labels.

A closed list, so a typo ("acuracy") is refused instead of starting a series nobody watches. Performance
metrics share their names and labels with validation (a live accuracy is compared with the validated one).
"""

from risk.validation.plans import METRIC_LABELS

PERFORMANCE = ["accuracy", "precision", "recall", "f1", "roc_auc", "calibration_error", "rmse", "mae", "r2"]
PERFORMANCE += ["directional_accuracy"]
TRADING_LABELS = {
    "pnl": "P&L",
    "trade_count": "Number of trades",
    "losing_trades": "Number of losing trades",
    "hit_rate": METRIC_LABELS["hit_rate"],
    "sharpe": METRIC_LABELS["sharpe"],
    "max_drawdown": METRIC_LABELS["max_drawdown"],
    "turnover": "Turnover",
    "gross_exposure": "Gross exposure",
    "net_exposure": "Net exposure",
    "slippage_bps": "Slippage (basis points)",
    "fill_rate": "Fill rate",
    "latency_ms": "Decision latency (ms)",
    "prediction_count": "Number of predictions",
}
LABELS = {**{m: METRIC_LABELS[m] for m in PERFORMANCE}, **TRADING_LABELS}
METRICS = frozenset(LABELS)
