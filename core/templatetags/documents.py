"""`{% load documents %}`: the document pipeline in templates (core.documents).

{% document_status document %}                 the status partial: polls while pending,
                                               Download when ready, Retry when failed
{% document_static "concord/logo.png" %}       a static file as the PDF renderer reads it
"""

from django import template

from core import documents
from core.document_views import STATUS_TEMPLATE, status_context

register = template.Library()


@register.inclusion_tag(STATUS_TEMPLATE, takes_context=True)
def document_status(context, document):
    # An inclusion tag starts a context of its own: the Retry form needs the token.
    return {**status_context(context["request"], document), "csrf_token": context.get("csrf_token")}


@register.simple_tag
def document_static(path: str) -> str:
    return documents.static_file_uri(path)
