"""{{ metric|metric_label }}: a validation metric by its name in words ("max_drawdown" -> "Maximum drawdown")."""

from django import template

from risk.validation.plans import metric_label as label_of

register = template.Library()


@register.filter
def metric_label(name: str) -> str:
    return label_of(str(name))
