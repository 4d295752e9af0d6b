"""`{% load customer_panels %}{% render_panel shown %}`: one panel of the customer 360 (crm.panels)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def render_panel(context, shown):
    """The panel's template with the page's context, the panel's own context and `panel`,
    as `{% include %}` would render it; a lazy one's placeholder, which asks for it."""
    if shown.lazy_url:
        panel_template = context.template.engine.get_template("crm/includes/lazy_panel.html")
        with context.push(panel=shown.panel, lazy_url=shown.lazy_url):
            return panel_template.render(context)
    panel_template = context.template.engine.get_template(shown.panel.template)
    with context.push(panel=shown.panel, **shown.context):
        return panel_template.render(context)
