"""{% render_panel panel %}: a registered panel's template, with the page's context plus the panel's own."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def render_panel(context, panel):
    tpl = context.template.engine.get_template(panel.template)
    with context.push(**panel.context):
        return tpl.render(context)
