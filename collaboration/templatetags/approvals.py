"""`{% approvals_on_record record %}`: a record's approval requests and the form to
ask for one of the kinds its model offers (collaboration.registry)."""

from django import template

register = template.Library()


@register.inclusion_tag("collaboration/includes/approvals_on_record.html", takes_context=True)
def approvals_on_record(context, record):
    from ..views.approvals import record_approvals_context

    request = context["request"]
    return {**record_approvals_context(request, record), "csrf_token": context.get("csrf_token")}
