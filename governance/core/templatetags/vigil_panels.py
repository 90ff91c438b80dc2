"""Template helpers of the core: {% render_panel panel %} (a registered panel's template, with the page's context
plus the panel's own) and |notification_kind (the label an app registered)."""

from django import template

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
