"""`{% url %}` as Django's, with its answers remembered.

Loaded as a template builtin (settings.TEMPLATES) after Django's, so every template's
`{% url 'crm:lead_list' %}` uses it without a `{% load %}`. A page draws the same thirty
navigation links on every request and a list the same links per row each time it is
shown, and each reverse() walks the URL resolver (~100 Python calls: ≈ 2 ms of a
customer 360, ≈ 5 ms of the collections worklist). A URL is a pure function of the
view name, its arguments, the URLconf, the script prefix and the current namespace, so
the answers are kept per those (the most recent REMEMBER_AT_MOST of them). Arguments
that are not plain values (a model instance, a list), `as var`, and a name that does
not reverse (the error is Django's) go to Django's tag unchanged.
"""

import contextlib
from collections import OrderedDict

from django import template
from django.conf import settings
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import get_script_prefix, get_urlconf

register = template.Library()

REMEMBER_AT_MOST = 10_000  # ~2 MB at most
PLAIN = (int, str)
_remembered: OrderedDict[tuple, str] = OrderedDict()


class CachedURLNode(URLNode):
    def render(self, context):
        if self.asvar:
            return super().render(context)
        args = tuple(arg.resolve(context) for arg in self.args)
        kwargs = tuple(sorted((name, value.resolve(context)) for name, value in self.kwargs.items()))
        if not all(type(value) in PLAIN for value in (*args, *(value for _, value in kwargs))):
            return super().render(context)  # e.g. a model instance: Django's tag, as written
        request = getattr(context, "request", None)  # as Django's tag finds the namespace
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        key = (
            self.view_name.resolve(context),
            args,
            kwargs,
            current_app,
            settings.ROOT_URLCONF,
            get_urlconf(),
            get_script_prefix(),
            context.autoescape,
        )
        url = _remembered.get(key)
        if url is None:
            url = super().render(context)  # raises NoReverseMatch as Django's does: nothing kept
            _remembered[key] = url
            if len(_remembered) > REMEMBER_AT_MOST:
                with contextlib.suppress(KeyError):  # another thread emptied it first
                    _remembered.popitem(last=False)
        return url


@register.tag
def url(parser, token):
    node = django_url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
