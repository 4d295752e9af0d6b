"""`{% load customer_panels %}{% render_panel shown %}`: one panel of the customer 360 (crm.panels)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def render_panel(context, shown):
    """The panel's template with the page's context, the panel's own context and `panel`,
    as `{% include %}` would render it."""
    panel_template = context.template.engine.get_template(shown.panel.template)
    with context.push(panel=shown.panel, **shown.context):
        return panel_template.render(context)
