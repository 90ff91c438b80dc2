"""How the pack PDFs name what their records hold by code: monitors by their measure's label (the monitoring
registry), values in their unit, desks by name. The records (JSON, CSV) keep the codes, as signed and recorded."""

from types import SimpleNamespace

from django import template

from governance.core.templatetags.display import money
from risk.monitoring import measures
from risk.monitoring.models import Monitor

register = template.Library()

_KIND_CODES = {str(label): code for code, label in Monitor.Kind.choices}


def _measure(code):
    return measures.MEASURES.get(str(code))


@register.filter
def monitor_named(row: dict) -> str:
    """{{ m|monitor_named }} for a monitor row (kind as displayed, measure, stream): "PSI of the score"."""
    if _measure(row.get("measure")) is None:
        return f"{row.get('kind')}: {row.get('measure')}"
    kind = _KIND_CODES.get(str(row.get("kind")), row.get("kind"))
    try:
        return measures.label(SimpleNamespace(kind=kind, measure=row["measure"], stream=row.get("stream")))
    except KeyError:  # a stream no longer known: the measure alone
        return _measure(row["measure"]).label


@register.filter
def measure_named(text: str) -> str:
    """{{ "Performance: roc_auc"|measure_named }} -> "Performance: ROC AUC" (as frozen in the RTS 6 figures)."""
    kind, _, code = str(text).rpartition(": ")
    measure = _measure(code)
    return f"{kind}: {measure.label}" if measure and kind else str(text)


@register.filter
def in_measure_unit(value, measure) -> str:
    """{{ m.warn|in_measure_unit:m.measure }}: a monitor's value or threshold as its unit reads ("54.2 %")."""
    code = str(measure).rpartition(": ")[2]
    found = _measure(code)
    if value is None:
        return "—"
    if found is None or not isinstance(value, int | float):
        return str(value)
    return measures.format_value(found.unit, value, money).replace(" ", "\u00a0")  # "54.2 %" stays on one line


@register.filter
def desk_named(code, desks: dict) -> str:
    """{{ m.desk|desk_named:desks }}: "Equities Delta One (EQD1)", the code alone when the desk is unknown."""
    name = (desks or {}).get(code)
    return f"{name} ({code})" if name and name != code else str(code or "—")
