"""{{ metric|metric_label }}: a validation metric by its name in words ("max_drawdown" -> "Maximum drawdown")."""

from django import template

from governance.core.templatetags.vigil_panels import figure
from risk.validation import chart_facts, plans
from risk.validation.plans import label_for_test as label_for_test_of
from risk.validation.plans import metric_label as label_of
from risk.validation.plans import metric_unit
from risk.validation.plans import option_label as option_label_of
from risk.validation.plans import template_label as template_label_of

register = template.Library()


@register.filter
def metric_label(name: str) -> str:
    return label_of(str(name))


@register.filter
def template_label(name: str) -> str:
    """{{ plan.template|template_label }}: "strategy_classifier" -> "Strategy and classifier (...)"."""
    return template_label_of(str(name))


@register.filter
def test_label(row) -> str:
    """{{ row|test_label }} for a result row or plan test ({"test", "metric"}), or a bare test name."""
    if isinstance(row, dict):
        return label_for_test_of(row.get("test", ""), row.get("metric"))
    return label_for_test_of(str(row))


@register.filter
def result_value(row: dict) -> str:
    """{{ row|result_value }}: a graded value in its metric's unit, as the figures above it read (10.54 %)."""
    return figure({"value": row.get("value"), "unit": metric_unit(str(row.get("metric", "")))})


@register.filter
def in_unit(row: dict, value) -> str:
    """{{ row|in_unit:threshold }}: a threshold in the unit of the row's metric, as its value reads, without
    trailing zeros (pass ≥ 15 %, fail < 0.5)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "—" if value is None else str(value)
    unit = metric_unit(str(row.get("metric", "")))
    if unit == "percent":
        return f"{_trimmed(value * 100, 2)} %"
    if unit == "count":
        return f"{value:,.0f}"
    return _trimmed(value, 6)


def _trimmed(value: float, places: int) -> str:
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def claim_precision(threshold: dict) -> str:
    return plans.claim_precision(threshold)


@register.filter
def option_label(name: str) -> str:
    return option_label_of(str(name))


@register.filter
def percent_level(level) -> str:
    """{{ 0.95|percent_level }}: "95%", a confidence level as people write it."""
    return f"{float(level) * 100:.0f}%"


@register.filter
def metric_in_sentence(name: str) -> str:
    """{{ "accuracy"|metric_in_sentence }}: "accuracy" inside a sentence; "Sharpe ratio" keeps its capital."""
    return chart_facts.in_sentence(str(name))


@register.filter
def chart_num(value) -> str:
    """{{ 0.0625|chart_num }}: a chart's figure as the run page's captions and tables write it (chart_facts.num)."""
    return chart_facts.num(value)
