"""Forms of the receivables pages. They shape input; receivables.services decides and refuses."""

from decimal import Decimal

from django import forms
from django.utils import timezone

from core.forms import MoneyField, MoneyInput
from core.money import format_money

from .models import Payment

# --- payments -----------------------------------------------------------------------------

AMOUNT_LIMITS = {"min_value": Decimal("0.01"), "max_value": Decimal("999999999999.99"), "max_digits": 14}
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InvoiceAmountsMixin:
    """One optional amount field per open invoice (`alloc_<id>`), for allocating by hand:
    never more than the invoice's balance due. `invoices` are the rows offered."""

    def add_invoice_fields(self, invoices) -> None:
        self.invoices = list(invoices)
        for invoice in self.invoices:
            self.fields[self.invoice_field(invoice)] = MoneyField(
                label=f"Amount for invoice {invoice.number}",
                required=False,
                min_value=Decimal("0"),
                max_value=invoice.balance_due,
                max_digits=14,
                decimal_places=2,
                widget=MoneyInput(attrs={"class": "money-input form-control form-control-sm", "placeholder": "0.00"}),
                error_messages={
                    "max_value": f"Invoice {invoice.number} has only "
                    f"{format_money(invoice.balance_due, invoice.currency)} left to pay."
                },
            )

    @staticmethod
    def invoice_field(invoice) -> str:
        return f"alloc_{invoice.pk}"

    def invoice_rows(self):
        """(invoice, its amount field) for the template's table."""
        return [(invoice, self[self.invoice_field(invoice)]) for invoice in self.invoices]

    def typed_amounts(self) -> dict[int, Decimal]:
        """The amounts typed per invoice id (valid ones only, more than zero)."""
        data = getattr(self, "cleaned_data", {})
        return {
            invoice.pk: data[self.invoice_field(invoice)]
            for invoice in self.invoices
            if data.get(self.invoice_field(invoice))
        }


class PaymentForm(InvoiceAmountsMixin, forms.Form):
    """Money received from one customer, and how to apply it: oldest due first (the
    default) or by hand over the open invoices shown."""

    AUTO, MANUAL = "auto", "manual"

    received_on = forms.DateField(label="Date received", widget=_DATE)
    amount = MoneyField(label="Amount", decimal_places=2, **AMOUNT_LIMITS)
    method = forms.ChoiceField(choices=Payment.Method.choices, initial=Payment.Method.BANK_TRANSFER)
    reference = forms.CharField(
        max_length=100, required=False, help_text="The bank's reference or the cheque number: search finds it."
    )
    notes = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    mode = forms.ChoiceField(
        label="Apply it",
        choices=[(AUTO, "To the oldest due invoices first"), (MANUAL, "By hand, invoice by invoice")],
        initial=AUTO,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, invoices=(), currency="", **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("received_on", timezone.localdate())
        if currency:
            self.fields["amount"].label = f"Amount ({currency})"
        self.add_invoice_fields(invoices)

    def clean_received_on(self):
        received_on = self.cleaned_data["received_on"]
        if received_on > timezone.localdate():
            raise forms.ValidationError("A payment cannot be received in the future.")
        return received_on

    @property
    def is_manual(self) -> bool:
        value = self.cleaned_data.get("mode") if hasattr(self, "cleaned_data") else None
        return (value or self.data.get("mode") or self.initial.get("mode")) == self.MANUAL

    def clean(self):
        data = super().clean()
        if data.get("mode") == self.MANUAL and data.get("amount") is not None:
            total = sum(self.typed_amounts().values(), Decimal("0"))
            if total > data["amount"]:
                raise forms.ValidationError(
                    f"The amounts typed come to {total}, more than the payment's {data['amount']}: "
                    "lower them, or raise the amount received."
                )
        return data

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("received_on", "amount", "method", "reference", "notes")}

    def allocations(self) -> list[tuple[int, Decimal]] | None:
        """What record_payment takes: None (oldest due first) or [(invoice id, amount)]."""
        if self.cleaned_data.get("mode") != self.MANUAL:
            return None
        return list(self.typed_amounts().items())


class AllocateForm(InvoiceAmountsMixin, forms.Form):
    """The payment page's "Allocate": amounts for some of the customer's open invoices.
    It carries the payment's version, so allocating over someone else's change is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args, invoices=(), unapplied=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.unapplied = unapplied
        self.add_invoice_fields(invoices)

    def clean(self):
        data = super().clean()
        if not self.errors:
            typed = self.typed_amounts()
            if not typed:
                raise forms.ValidationError("Type an amount for at least one invoice.")
            total = sum(typed.values(), Decimal("0"))
            if self.unapplied is not None and total > self.unapplied:
                raise forms.ValidationError(
                    f"The amounts come to {total}; only {self.unapplied} of the payment is left to allocate."
                )
        return data


class PaymentVoidForm(forms.Form):
    reason = forms.CharField(
        label="Why is it void?",
        max_length=200,
        help_text="A bounced cheque, a payment recorded twice… Kept on the payment and shown in its feed.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1)


class WriteOffForm(forms.Form):
    reason = forms.CharField(
        label="Why write it off?", max_length=200, help_text="A finance manager approves it before it counts."
    )
