"""Template filters of the shared kit: `{% load concord %}`.

Dates, times, numbers and money read in the user's format (core.formats). Django's
own `|date`, `|time`, `naturaltime`, `intcomma` and `floatformat` would bypass it;
tests/core/test_formats_guard.py keeps them out of the templates.

{{ invoice.total|money:invoice.currency }}   → 1,234.50 EUR / 1.234,50 EUR (currency in a span)
{{ amount|amount }}                          → 1,234.50 / 1.234,50
{{ count|number }}  {{ rate|number:1 }}      → 1,234 / 1.234   12.5 / 12,5
{{ day|local_date }}                         → Dec 4, 2026 / 4 Dec 2026 / 04.12.2026
{{ moment|local_datetime }}                  → 4 Dec 2026, 17:31 (the user's time zone)
{{ moment|local_time }}                      → 17:31 / 5:31 PM
{{ moment|relative }}                        → <time …>3 minutes ago</time>, exact time on hover and focus
{{ customer|status_badge }}                  → the coloured status pill
{% icon "building" %}                        → an icon of the sprite (core.icons)
{% list_url "crm:customer_list" %}          → the list with the filters it was left with
{% empty_state icon="building" filtered=is_filtered … %}…{% endempty_state %}
                                             → an empty list's card (includes/empty_state.html)
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.template.base import token_kwargs
from django.utils.html import format_html

from core import badges, formats, forms, icons, lists, money

register = template.Library()


def _decimal(value) -> Decimal | None:
    """A number a template hands over (Decimal, int, float or digits), or None."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


@register.filter(name="money")
def money_filter(amount, currency: str = ""):
    number = _decimal(amount)
    if number is None:
        return ""
    return money.format_money(number, currency) if currency else money.format_amount(number)


@register.filter(name="amount")
def amount_filter(amount):
    number = _decimal(amount)
    return "" if number is None else money.format_amount(number)


@register.filter(name="number")
def number_filter(value, decimal_places=None):
    number = _decimal(value)
    if number is None:
        return ""
    try:
        places = None if decimal_places in (None, "") else int(decimal_places)
    except ValueError:
        places = None
    return formats.format_number(number, places)


@register.filter(name="quantity")
def quantity_filter(value):
    """A line's quantity as people write it: 7, 2.5, 0.125 (no trailing zeros of the
    column's three places), in the reader's format."""
    number = _decimal(value)
    if number is None:
        return ""
    places = 0 if number == number.to_integral_value() else max(0, -number.normalize().as_tuple().exponent)
    return formats.format_number(number, places)


@register.filter(name="local_date")
def local_date_filter(value):
    return formats.format_date(value) if isinstance(value, date) else ""


@register.filter(name="local_datetime")
def local_datetime_filter(value):
    if isinstance(value, datetime):
        return formats.format_datetime(value)
    return formats.format_date(value) if isinstance(value, date) else ""


@register.filter(name="local_time")
def local_time_filter(value):
    return formats.format_time(value) if isinstance(value, datetime) else ""


@register.filter(name="relative")
def relative_filter(value):
    """ "3 minutes ago", with the exact local date-time a hover or a keyboard focus
    away (WCAG 2.2: 1.4.13 content on hover or focus, 2.1.1 keyboard).

    The exact time is text inside the <time> element, so screen readers read both,
    shown as a tooltip by CSS on :hover and :focus (concord.css: hoverable, since it
    is part of the element hovered) and dismissed with Escape (concord.js). The
    element takes focus (tabindex) so keyboard users reach the tooltip too."""
    if not isinstance(value, datetime):
        return ""
    return format_html(
        '<time class="relative-time" datetime="{}" tabindex="0">{}'
        '<span class="relative-time-exact"><span class="visually-hidden">, </span>{}</span></time>',
        value.isoformat(timespec="seconds"),
        formats.format_relative(value),
        formats.format_datetime(value),
    )


@register.filter(name="status_badge")
def status_badge_filter(record, field: str = "status"):
    return badges.status_badge(record, field)


@register.simple_tag(name="icon")
def icon_tag(name: str, css_class: str = "", label: str = ""):
    return icons.icon(name, css_class, label)


@register.simple_tag(name="list_url", takes_context=True)
def list_url_tag(context, key: str):
    """`{% list_url "crm:customer_list" %}`: the list as this person last left it
    (its filters, search, sort and page; core.lists.remember_list_query)."""
    return lists.list_url(context.get("request"), key)


class EmptyStateNode(template.Node):
    def __init__(self, nodelist, options):
        self.nodelist = nodelist
        self.options = options

    def render(self, context):
        options = {name: value.resolve(context) for name, value in self.options.items()}
        # What the tag wraps is drawn only when the list is not filtered: it is the
        # page's own words (its conditions and links), which an include could not take.
        body = "" if options.get("filtered") else self.nodelist.render(context)
        card = context.template.engine.get_template("includes/empty_state.html")
        return card.render(context.new({**options, "body": body}))


@register.tag("empty_state")
def empty_state(parser, token):
    """The card an empty list shows instead of its table:

        {% empty_state icon="file-invoice-dollar" filtered=is_filtered filtered_title="No invoices match these filters" clear_url=list_url %}
          <h2 class="h5">No invoices yet</h2> …
        {% endempty_state %}

    `icon` (optional, decorative; a magnifying glass when filtered); when `filtered`,
    `filtered_title`, an optional `filtered_hint` and "Clear filters" to `clear_url`
    instead of what the tag wraps."""
    bits = token.split_contents()[1:]
    options = token_kwargs(bits, parser)
    if bits:
        raise template.TemplateSyntaxError(f"empty_state takes name=value options only, not {bits[0]!r}")
    nodelist = parser.parse(("endempty_state",))
    parser.delete_first_token()
    return EmptyStateNode(nodelist, options)


@register.inclusion_tag("core/error_summary.html")
def error_summary(form):
    """GOV.UK's error summary for `form` (core.forms); nothing when it has no errors.

    Drawn once per form, where it comes first: a page may draw it above its own
    notices, and `{% crispy form %}` then leaves it out. While shown it takes the
    focus, so the form's autofocus is dropped."""
    if form is None or not form.is_bound or not form.errors or getattr(form, "error_summary_shown", False):
        return {}
    form.error_summary_shown = True
    forms.drop_autofocus(form)
    return forms.error_summary(form)


@register.simple_tag(takes_context=True)
def error_title_prefix(context):
    """ "Error: " when a form on the page has errors, for the start of its <title>."""
    return "Error: " if forms.forms_with_errors(context.flatten().values()) else ""
