"""Template helpers of the core: {% render_panel panel %} (a registered panel's template, with the page's context
plus the panel's own) and |notification_kind (the label an app registered)."""

from django import template
from django.utils.html import format_html

from governance.core import labels
from governance.core.notifications import kind_label

register = template.Library()


@register.simple_tag(takes_context=True)
def render_panel(context, panel):
    tpl = context.template.engine.get_template(panel.template)
    with context.push(**panel.context):
        return tpl.render(context)


@register.filter
def notification_kind(kind: str) -> str:
    """The label an app registered for a kind of notification."""
    return kind_label(kind)


def _words(name: str) -> str:
    return str(name).replace("_", " ").replace(".", ": ").strip().capitalize()


# Abbreviations people write in capitals.
ACRONYMS = {"sha256": "SHA-256", "uri": "URI", "url": "URL", "id": "ID", "otp": "OTP", "pbo": "PBO"}


@register.filter
def audit_field(name: str) -> str:
    """A changed field's name as words ("training_sources" -> "Training sources", "artifact_sha256" ->
    "Artifact SHA-256")."""
    words = [ACRONYMS.get(w, w) for w in str(name).replace(".", " ").replace(":", ": ").split("_")]
    text = " ".join(" ".join(words).split())
    return text[:1].upper() + text[1:]


@register.filter
def audit_action(action: str) -> str:
    """An audit action as words ("version.start_validation" -> "Version: start validation")."""
    subject, _, verb = str(action).partition(".")
    return f"{_words(subject)}: {verb.replace('_', ' ')}" if verb else _words(subject)


@register.filter
def audit_value(value, field=None) -> str:
    """A recorded value as a person reads it: no Python lists, dicts or booleans; coded values by their label
    and amounts in their format when the field's app registered them ({{ value|audit_value:field }})."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    readable = labels.label(field, value)
    if readable is not None:
        return readable
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, list):
        return ", ".join(audit_value(v, field) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{audit_field(k)}: {audit_value(v, k)}" for k, v in value.items())
    return str(value)


@register.simple_tag(takes_context=True)
def sort_header(context, field: str, label: str):
    """A column header that sorts the list by `field`, and the other way round when it already does."""
    request = context["request"]
    params = request.GET.copy()
    current = params.get("ordering", "")
    params["ordering"] = f"-{field}" if current == field else field
    params.pop("page", None)
    arrow = " ▲" if current == field else " ▼" if current == f"-{field}" else ""
    return format_html('<a class="sort" href="?{}">{}{}</a>', params.urlencode(), label, arrow)


@register.filter
def figure(metric: dict) -> str:
    """A run's figure in its unit: 96.14 %, 24, 1.2345."""
    value, unit = metric.get("value"), metric.get("unit", "ratio")
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value * 100:,.2f} %"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:,.4f}"
