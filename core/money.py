"""Money as Concord shows it: in the reader's format on pages, plain in CSV and files.

Amounts are Decimals stored with two places. On a page they read in the active
format locale (core.formats): "12,345.50" for en-GB, "12.345,50" for de-DE, with
the ISO currency code after the number in every locale so right-aligned columns
line up. CSV, the API and other machine-read output use plain_amount.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

from core import formats


def format_amount(amount: Decimal | int) -> str:
    """Decimal("12345.5") → "12,345.50" (en-GB) or "12.345,50" (de-DE): two places,
    thousands grouped, in the active format locale. Never through a float."""
    return formats.format_number(amount, 2)


def plain_amount(amount: Decimal | int | None) -> str:
    """Decimal("12345.5") → "12345.50": for CSV and machine-read files, where a
    grouping comma would split or misread the number. None → ""."""
    return "" if amount is None else f"{amount:.2f}"


def format_money(amount: Decimal | int, currency: str) -> SafeString:
    """Decimal("12345.5"), "EUR" → `12,345.50 <span class="currency">EUR</span>`."""
    return format_html('{} <span class="currency">{}</span>', format_amount(amount), currency)


CENT = Decimal("0.01")
HUNDRED = Decimal("100")


def round_money(amount: Decimal) -> Decimal:
    """Half-up to the cent, as invoices round: Decimal("2.345") → Decimal("2.35")."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal = Decimal("0")) -> Decimal:
    """A document line's net amount, rounded once, per line: quantity × unit price,
    less the discount. Deals, quotes, invoices and credit notes all price lines here."""
    gross = Decimal(quantity) * Decimal(unit_price)
    return round_money(gross * (HUNDRED - Decimal(discount_percent)) / HUNDRED)


def tax_amount(net: Decimal, percentage: Decimal | None) -> Decimal:
    """The tax on one line's net amount at `percentage` (None: untaxed), rounded per line."""
    if not percentage:
        return Decimal("0.00")
    return round_money(Decimal(net) * Decimal(percentage) / HUNDRED)


def tax_summary(lines) -> list[dict[str, Any]]:
    """Net and tax per rate of document lines (tax_name, tax_percent, amount, tax_amount), as quotes, invoices and credit notes print them: [{"name", "percent", "net", "tax"}]."""
    rates: dict[tuple[str, Decimal], dict[str, Any]] = {}
    for line in lines:
        key = (line.tax_name, line.tax_percent)
        row = rates.setdefault(
            key,
            {
                "name": line.tax_name or "No tax",
                "percent": line.tax_percent,
                "net": Decimal("0.00"),
                "tax": Decimal("0.00"),
            },
        )
        row["net"] += line.amount
        row["tax"] += line.tax_amount
    return sorted(rates.values(), key=lambda row: (-row["percent"], row["name"]))
