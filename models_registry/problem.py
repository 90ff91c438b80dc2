"""The problem definition in words (issue 24): a success criterion or an operating boundary as a reader says it.
Pure functions over the stored lists, shared by the model page and the model card."""

from models_registry.validators import OPERATORS


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _with_unit(value, unit) -> str:
    return f"{_number(value)} {unit}".rstrip() if unit else _number(value)


# How a reader says the figures success criteria most often name; any other metric reads with spaces for
# underscores ("fill_rate" -> "fill rate").
METRIC_WORDS = {
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "max_drawdown": "maximum drawdown",
    "roc_auc": "ROC AUC",
    "rmse": "RMSE",
    "mae": "mean absolute error",
    "pnl": "P&L",
    "slippage_vs_vwap": "slippage against VWAP",
}
UNIT_WORDS = {"ratio": ""}  # "Sharpe ratio at least 0.8", never "... 0.8 ratio"


def metric_words(metric) -> str:
    metric = str(metric or "")
    return METRIC_WORDS.get(metric, metric.replace("_", " "))


def criterion_text(item: dict) -> str:
    """{"metric": "sharpe", "operator": ">=", "value": 1.2} -> "Sharpe ratio at least 1.2"."""
    operator = str(item.get("operator", ""))
    words = OPERATORS.get(operator, operator)
    unit = item.get("unit")
    unit = UNIT_WORDS.get(unit, unit) if isinstance(unit, str) else unit
    return f"{metric_words(item.get('metric'))} {words} {_with_unit(item.get('value'), unit)}"


def boundary_text(item: dict) -> str:
    """{"name": "order size", "min": 0, "max": 5e6, "unit": "USD"} -> "order size from 0 to 5,000,000 USD"."""
    low, high, unit = item.get("min"), item.get("max"), item.get("unit")
    if low is not None and high is not None:
        return f"{item.get('name', '')} from {_number(low)} to {_with_unit(high, unit)}"
    if low is not None:
        return f"{item.get('name', '')} at least {_with_unit(low, unit)}"
    return f"{item.get('name', '')} at most {_with_unit(high, unit)}"
