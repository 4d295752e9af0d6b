"""`{% load quotes %}{% deal_quotes opportunity %}`: a deal's quotes with a "New quote" button."""

from django import template

from ..permissions import can_quote

register = template.Library()


@register.inclusion_tag("crm/includes/deal_quotes_panel.html", takes_context=True)
def deal_quotes(context, opportunity):
    user = context["request"].user
    visible = user.has_perm("crm.view_quote")
    return {
        "opportunity": opportunity,
        "quotes": list(opportunity.quotes.order_by("-id")) if visible else [],
        "can_quote": can_quote(user, opportunity),
        "has_lines": opportunity.amount > 0 or opportunity.lines.exists(),
    }
