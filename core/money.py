"""Money as Concord shows it: one format for lists, record pages, CSV and documents.

Amounts are Decimals stored with two places, so nothing is rounded here: a value
with more places is a bug upstream, not something to hide in the display.
"""

from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString


def format_amount(amount: Decimal | int) -> str:
    """Decimal("12345.5") → "12,345.50": two places, thousands grouped.

    Python's own Decimal formatting rather than floatformat: it runs for every row
    of a list, and it never passes through a float."""
    return f"{amount:,.2f}"


def plain_amount(amount: Decimal | int | None) -> str:
    """Decimal("12345.5") → "12345.50": for CSV and machine-read files, where a
    grouping comma would split or misread the number. None → ""."""
    return "" if amount is None else f"{amount:.2f}"


def format_money(amount: Decimal | int, currency: str) -> SafeString:
    """Decimal("12345.5"), "EUR" → `12,345.50 <span class="currency">EUR</span>`."""
    return format_html('{} <span class="currency">{}</span>', format_amount(amount), currency)
