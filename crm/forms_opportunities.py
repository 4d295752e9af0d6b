"""Forms of the deal pages: the deal's own fields (create and edit) and the lines
editor. They shape input; crm.opportunities decides and refuses."""

import contextlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q

from accounts.roles import SALES_ROLES
from core import formats
from core.money import line_amount

from .models import Opportunity, Product, Stage, TaxRate, possible_owners
from .opportunities import MAX_LINES, build_line

STALE_DEAL = (
    "This deal was changed by someone else since you opened it. "
    "The form now shows what is stored; check it and save again."
)


class OpportunityForm(forms.ModelForm):
    """A deal's name, close date, terms, next step and (for managers) owner; a new
    deal also chooses its open stage. It carries the version it was opened with, so
    a save over someone else's change is refused instead of overwriting it."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    stage = forms.ModelChoiceField(
        queryset=Stage.objects.filter(is_won=False, is_lost=False),
        empty_label=None,
        help_text="A new deal starts in an open stage; win or lose it from the deal or the board.",
    )

    class Meta:
        model = Opportunity
        fields = ["name", "expected_close_date", "stage", "payment_terms", "payment_days", "next_step", "owner"]
        labels = {"expected_close_date": "Expected close date", "payment_days": "Days"}
        help_texts = {
            "payment_terms": "The customer's terms unless you agreed others for this deal.",
            "next_step": "What happens next, e.g. “Demo with the buyer on Friday”.",
        }
        widgets = {"expected_close_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, user, customer, may_reassign: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        opportunity = self.instance if self.instance.pk else None
        if opportunity is None:
            self.initial.setdefault("payment_terms", customer.payment_terms)
            self.initial.setdefault("payment_days", customer.payment_days)
            if user.has_role(*SALES_ROLES):
                self.initial.setdefault("owner", user.pk)  # whoever sells it owns it, unless they name another
        else:
            del self.fields["stage"]  # moved by the stage buttons and the board
            self.initial.setdefault("version", opportunity.version)
        if may_reassign:
            current = opportunity.owner_id if opportunity else user.pk
            self.fields["owner"].queryset = get_user_model().objects.filter(
                Q(pk__in=possible_owners().values("pk")) | Q(pk=current)
            )
            self.fields["owner"].help_text = "The sales rep who owns the deal."
        else:
            del self.fields["owner"]
        self.fields["payment_days"].widget.attrs.update({"class": "text-end", "max": 32767})
        self.fields["name"].widget.attrs["autofocus"] = True

    def changes(self) -> dict[str, Any]:
        """What the service takes: the deal's fields (the version travels separately)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}

    @property
    def opened_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def stale(self, current: Opportunity) -> None:
        """Someone else saved the deal meanwhile: show what is stored now, with the
        current version, so saving again is a deliberate choice."""
        data = self.data.copy()
        for name in self.fields:
            if name == "version":
                data[self.add_prefix(name)] = current.version
            elif name == "owner":
                data[self.add_prefix(name)] = current.owner_id
            elif name == "expected_close_date":
                data[self.add_prefix(name)] = current.expected_close_date.isoformat()
            else:
                data[self.add_prefix(name)] = getattr(current, name)
        self.data = data
        self._errors = None
        self.full_clean()
        self.add_error(None, STALE_DEAL)


# --- the lines editor -----------------------------------------------------------------

LINE_INPUTS = ("product", "description", "quantity", "unit_price", "discount_percent", "tax_rate")
NUMBER_INPUTS = ("quantity", "unit_price", "discount_percent")
PREFIX = "lines"


@dataclass
class LineRow:
    """One row of the lines editor: what was typed (or stored), its amount when it
    prices, and its errors by field."""

    values: dict[str, str]
    amount: Decimal | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_blank(self) -> bool:
        return not any(str(self.values.get(name) or "").strip() for name in LINE_INPUTS)

    def data(self) -> dict[str, Any]:
        """The row as crm.opportunities.build_line reads it: numbers typed in the
        user's format turned into plain decimals, empty values left out."""
        data: dict[str, Any] = {}
        for name in LINE_INPUTS:
            value = str(self.values.get(name) or "").strip()
            if name == "tax_rate":
                data[name] = value or None  # "no tax" is a choice, not a missing value
                continue
            if not value:
                continue
            if name in NUMBER_INPUTS:
                with contextlib.suppress(ValueError):  # else build_line says what is wrong with it
                    value = str(formats.parse_number(value))
            data[name] = value
        return data


def _number(value: Decimal, places: int | None = None) -> str:
    """A stored number as the user reads it: whole numbers without decimals ("2", not "2.000")."""
    if places is None and value == value.to_integral():
        return formats.format_number(value, 0)
    return formats.format_number(value.normalize() if places is None else value, places)


def rows_from_lines(lines) -> list[LineRow]:
    return [
        LineRow(
            values={
                "product": str(line.product_id or ""),
                "description": line.description,
                "quantity": _number(line.quantity),
                "unit_price": _number(line.unit_price, 2),
                "discount_percent": _number(line.discount_percent),
                "tax_rate": str(line.tax_rate_id or ""),
            },
            amount=line.amount,
        )
        for line in lines
    ]


def rows_from_post(post) -> list[LineRow]:
    """The rows as posted: `lines-<n>-<field>` for n below `lines-count`."""
    try:
        count = int(post.get(f"{PREFIX}-count", 0))
    except (TypeError, ValueError):
        count = 0
    count = max(0, min(count, MAX_LINES + 1))
    return [
        LineRow(values={name: post.get(f"{PREFIX}-{index}-{name}", "") for name in LINE_INPUTS})
        for index in range(count)
    ]


def fill_from_product(row: LineRow, products: dict[str, Product], currency: str) -> None:
    """The product picker changed: the row takes the product's name, price and tax rate."""
    product = products.get(str(row.values.get("product") or ""))
    if product is None:
        return
    row.values["description"] = product.name
    if product.currency == currency:
        row.values["unit_price"] = formats.format_number(product.unit_price, 2)
    row.values["tax_rate"] = str(product.default_tax_rate_id or "")
    if not str(row.values.get("quantity") or "").strip():
        row.values["quantity"] = "1"


def check_rows(rows: list[LineRow], currency: str) -> bool:
    """Price each row that is not blank (build_line, as the service does), noting
    its amount or its errors by field. True when every row prices."""
    valid = True
    for index, row in enumerate(rows):
        row.errors, row.amount = {}, None
        if row.is_blank:
            continue
        try:
            line = build_line(row.data(), currency=currency, position=index)
        except ValidationError as error:
            row.errors = {name: list(messages) for name, messages in error.message_dict.items()}
            valid = False
        else:
            row.amount = line_amount(line.quantity, line.unit_price, line.discount_percent)
    return valid


def choices_for_lines(rows: list[LineRow]) -> tuple[list[Product], list[TaxRate]]:
    """The picker's products and tax rates: the active ones, plus any inactive one a
    row still names (so editing an old deal never drops what it holds)."""
    named_products = {row.values.get("product") for row in rows} - {"", None}
    named_rates = {row.values.get("tax_rate") for row in rows} - {"", None}
    product_ids = [int(pk) for pk in named_products if str(pk).isdigit()]
    rate_ids = [int(pk) for pk in named_rates if str(pk).isdigit()]
    products = list(
        Product.objects.filter(Q(is_active=True) | Q(pk__in=product_ids))
        .order_by("code")
        .only("id", "code", "name", "unit_price", "currency", "default_tax_rate_id")
    )
    rates = list(TaxRate.objects.filter(Q(is_active=True) | Q(pk__in=rate_ids)).order_by("name"))
    return products, rates
