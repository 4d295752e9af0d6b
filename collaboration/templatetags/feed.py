"""The feed on a record page: `{% load feed %}{% feed_panel customer %}`.

{% feed_panel record %}                 the whole panel: follow button, composer, filters, items, live updates
{% feed_panel person composer=False %}  without the composer
{% feed_panel customer lazy=True %}     the items loaded after the page (htmx), see panel_context
{{ item|item_body }}                    a post's text: escaped, links and @mentions linked
{{ comment|comment_body:item }}         a comment's text, the same way
{{ item|event_text }}                   an event as people read it ("Invoice INV-… issued for 4,200.00 EUR")
{{ item|changes }}                      a change item's rows: label, old, new (formatted by their type)
{{ attachment.size|file_size }}         "2.4 MB"
"""

import string
from datetime import date, datetime
from decimal import Decimal

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from core import formats, money

from .. import registry
from ..text import render_text

register = template.Library()

# Keys of an event's data that hold an amount in the data's "currency".
MONEY_KEYS = frozenset({"amount", "total", "balance", "open_balance", "credit_limit"})


@register.inclusion_tag("collaboration/feed_panel.html", takes_context=True)
def feed_panel(context, record, composer=True, lazy=False):
    from ..views.feed import panel_context

    # An inclusion tag's template sees only what it is given: the cards ask `perms`
    # (may this person comment and like?) as they do when a view renders them.
    panel = panel_context(context["request"], record, composer=composer, lazy=lazy)
    return {**panel, "perms": context.get("perms")}


def person_url(user_id) -> str:
    return reverse("collaboration:person_feed", args=[user_id])


def _people(item) -> dict[str, str]:
    """username → person page, for the people the item (or its comments) mentions."""
    return {m.user.username: person_url(m.user_id) for m in getattr(item, "all_mentions", ())}


@register.filter
def record_key(item) -> str:
    """The `on=` name of the item's record ("crm.customer:12"), from the content type cache."""
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_id(item.target_type_id)
    return f"{content_type.app_label}.{content_type.model}:{item.target_id}"


@register.filter
def item_body(item):
    return render_text(item.body, _people(item))


@register.filter
def comment_body(comment, item):
    return render_text(comment.body, _people(item))


def _money(value, currency: str) -> str:
    try:
        return money.format_money(Decimal(str(value)), currency) if currency else str(value)
    except (ArithmeticError, ValueError, TypeError):
        return str(value)


def humanise(verb: str) -> str:
    """ "invoice.issued" → "Invoice issued"."""
    text = verb.replace(".", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:] if text else "Updated"


@register.filter
def event_text(item):
    """The registered message of the event's verb, filled with its data, every value
    escaped; the verb in words when the message or a value it names is missing."""
    message = registry.event_message(item.verb)
    data = item.data if isinstance(item.data, dict) else {}
    if not message:
        return humanise(item.verb)
    currency = str(data.get("currency") or "")
    values = {}
    for key, value in data.items():
        if key in MONEY_KEYS and currency:
            values[key] = _money(value, currency)  # already HTML (the currency in a span)
        else:
            values[key] = escape("" if value is None else value)
    try:
        names = [field for _, field, _, _ in string.Formatter().parse(message) if field is not None]
        if any(not name.isidentifier() for name in names):  # "{0}", "{x.y}", "{x[0]}": not for data
            return humanise(item.verb)
        if not names:
            return escape(message)
        # The message is the registering app's; every value in it was escaped above.
        return format_html(escape(message), **{name: mark_safe(values[name]) for name in names})  # noqa: S308
    except (KeyError, ValueError, IndexError):
        return humanise(item.verb)


def _formatted(value, kind: str, currency: str):
    if value in (None, ""):
        return mark_safe('<span class="text-body-secondary">(none)</span>')
    try:
        if kind == "money":
            return _money(value, currency)
        if kind == "decimal":
            return formats.format_number(Decimal(str(value)))
        if kind == "date":
            return formats.format_date(date.fromisoformat(value))
        if kind == "datetime":
            return formats.format_datetime(datetime.fromisoformat(value))
    except (ArithmeticError, ValueError, TypeError):
        pass
    return value


@register.filter
def changes(item):
    rows = []
    data = item.data if isinstance(item.data, dict) else {}
    for change in data.get("changes") or ():
        if not isinstance(change, dict):
            continue
        kind, currency = change.get("type", "text"), str(change.get("currency") or "")
        rows.append(
            {
                "label": change.get("label") or humanise(str(change.get("field", ""))),
                "old": _formatted(change.get("old"), kind, currency),
                "new": _formatted(change.get("new"), kind, currency),
            }
        )
    return rows


@register.filter
def file_size(size):
    try:
        size = int(size)
    except (TypeError, ValueError):
        return ""
    if size < 1024:
        return f"{formats.format_number(size)} bytes"
    if size < 1_048_576:
        return f"{formats.format_number(Decimal(size) / 1024, 0)} KB"
    return f"{formats.format_number(Decimal(size) / 1_048_576, 1)} MB"
