"""Forms of the billing pages. They shape input; billing.services decides and refuses."""

from decimal import Decimal

from django import forms

from core.forms import MoneyField, MoneyInput
from crm.models import Customer

from .models import Invoice

MAX_PAYMENT_DAYS = 365


class InvoiceCreateForm(forms.Form):
    """A new draft invoice: only its customer (its terms and currency come from there;
    the lines are added on the draft's page)."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.visible_to(user)
        self.fields["customer"].error_messages["invalid_choice"] = "Choose a customer from the list."


class InvoiceDraftForm(forms.ModelForm):
    """A draft's terms and notes (its lines have their own editor). It carries the
    version it was opened with, so a save over someone else's change is refused."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = Invoice
        fields = ["payment_terms", "payment_days", "notes"]
        labels = {"payment_days": "Days"}
        help_texts = {"payment_terms": "The due date is counted from the day the invoice is issued."}
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment_days"].max_value = MAX_PAYMENT_DAYS
        self.fields["payment_days"].widget.attrs.update({"class": "text-end", "max": MAX_PAYMENT_DAYS})
        if self.instance.pk:
            self.initial.setdefault("version", self.instance.version)

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class InvoiceSendForm(forms.Form):
    """Where the invoice goes; a second sending needs `resend` ticked."""

    to = forms.EmailField(label="Send to", max_length=254, help_text="The customer's address for invoices.")
    resend = forms.BooleanField(required=False, label="Yes, send it again")


class InvoiceVoidForm(forms.Form):
    reason = forms.CharField(
        label="Why is it void?", max_length=200, help_text="Kept on the invoice and shown in its feed."
    )


class DealInvoiceForm(forms.Form):
    """ "Invoice a percentage…" of a won deal (a 30 % deposit)."""

    percent = MoneyField(
        label="Percentage of the deal",
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        decimal_places=2,
        max_digits=5,
        widget=MoneyInput(attrs={"placeholder": "30"}),
    )


class CreditNoteForm(forms.Form):
    """A credit note against an issued invoice: everything not credited yet, or a
    quantity of each line (0 leaves a line out)."""

    EVERYTHING, SELECTED = "all", "lines"
    scope = forms.ChoiceField(
        label="What to credit",
        choices=[(EVERYTHING, "Everything not credited yet"), (SELECTED, "The quantities below")],
        initial=SELECTED,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="Reason", max_length=300, help_text="Printed on the credit note.")

    def __init__(self, *args, lines, **kwargs):
        """`lines`: the invoice's lines, each with `left` (the quantity not credited yet)."""
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[self.field_name(line)] = MoneyField(
                label=f"Quantity of “{line.description}” to credit",
                required=False,
                min_value=Decimal("0"),
                max_value=line.left,
                max_digits=12,
                decimal_places=3,
                initial="0",
            )

    @staticmethod
    def field_name(line) -> str:
        return f"line_{line.pk}"

    def rows(self):
        """(line, its quantity field) for the template's table."""
        return [(line, self[self.field_name(line)]) for line in self.lines]

    def clean(self):
        data = super().clean()
        if data.get("scope") == self.SELECTED and not self.errors and not self.chosen_lines():
            raise forms.ValidationError("Enter a quantity to credit on at least one line, or credit everything.")
        return data

    def chosen_lines(self) -> list[dict] | None:
        """What billing.services.credit_invoice takes: None (everything left), or
        [{"invoice_line": id, "quantity": q}] for each line with a quantity."""
        if self.cleaned_data.get("scope") == self.EVERYTHING:
            return None
        chosen = []
        for line in self.lines:
            quantity = self.cleaned_data.get(self.field_name(line))
            if quantity:
                chosen.append({"invoice_line": line.pk, "quantity": quantity})
        return chosen
