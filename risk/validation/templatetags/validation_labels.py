"""{{ metric|metric_label }}: a validation metric by its name in words ("max_drawdown" -> "Maximum drawdown")."""

from django import template

from risk.validation.plans import metric_label as label_of
from risk.validation.plans import template_label as template_label_of

register = template.Library()


@register.filter
def metric_label(name: str) -> str:
    return label_of(str(name))


@register.filter
def template_label(name: str) -> str:
    """{{ plan.template|template_label }}: "strategy_classifier" -> "Strategy and classifier (...)"."""
    return template_label_of(str(name))
