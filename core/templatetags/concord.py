"""Template filters of the shared kit: `{% load concord %}`.

{{ invoice.total|money:invoice.currency }}   → 1,234.50 EUR (currency in a span)
{{ amount|amount }}                          → 1,234.50
{{ customer|status_badge }}                  → the coloured status pill
{% icon "building" %}                        → an icon of the sprite (core.icons)
"""

from django import template

from core import badges, icons, money

register = template.Library()


@register.filter(name="money")
def money_filter(amount, currency: str = ""):
    if amount is None or amount == "":
        return ""
    return money.format_money(amount, currency) if currency else money.format_amount(amount)


@register.filter(name="amount")
def amount_filter(amount):
    return "" if amount is None or amount == "" else money.format_amount(amount)


@register.filter(name="status_badge")
def status_badge_filter(record, field: str = "status"):
    return badges.status_badge(record, field)


@register.simple_tag(name="icon")
def icon_tag(name: str, css_class: str = "", label: str = ""):
    return icons.icon(name, css_class, label)
