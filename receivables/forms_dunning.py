"""The collections forms (worklist rows and the customer 360's Collections panel) and the
worklist's filters. Forms check the shape of the input; the dunning services refuse what
the business does not allow (a promise above the balance, a dispute above the invoice…)."""

import django_filters
from django import forms

from billing.models import Invoice
from core.validators import no_bidi_controls
from crm.forms import FastSelect
from crm.models import possible_owners

from . import aging
from .models import CollectionTask, DunningLevel, DunningNoticeLine

_SMALL = {"class": "form-control form-control-sm"}
_DATE = forms.DateInput(attrs={"type": "date", **_SMALL}, format="%Y-%m-%d")


class InvoiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, invoice):
        return f"{invoice.number} ({invoice.balance_due} {invoice.currency} open)"


def _invoices(customer):
    return Invoice.objects.open().filter(customer=customer).order_by("due_date", "pk")


class DunningHoldForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        validators=[no_bidi_controls],
        widget=forms.TextInput(attrs={**_SMALL, "placeholder": "Waiting for the PO"}),
    )
    until = forms.DateField(required=False, label="Until (optional)", widget=_DATE)
    invoice = InvoiceChoiceField(queryset=Invoice.objects.none(), required=False, empty_label="All invoices")

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = _invoices(customer)
        self.fields["invoice"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["reason"].error_messages["required"] = "Say why reminders are held."


class PromiseForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=0.01, widget=forms.NumberInput(attrs={**_SMALL, "step": "0.01"})
    )
    promised_for = forms.DateField(label="Promised for", widget=_DATE)
    invoice = InvoiceChoiceField(queryset=Invoice.objects.none(), required=False, empty_label="The whole account")

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = _invoices(customer)
        self.fields["invoice"].widget.attrs["class"] = "form-select form-select-sm"


class DisputeForm(forms.Form):
    invoice = InvoiceChoiceField(queryset=Invoice.objects.none(), empty_label="Choose the invoice")
    amount = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=0.01, widget=forms.NumberInput(attrs={**_SMALL, "step": "0.01"})
    )
    reason = forms.CharField(max_length=300, validators=[no_bidi_controls], widget=forms.TextInput(attrs=_SMALL))

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = _invoices(customer)
        self.fields["invoice"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["invoice"].error_messages["required"] = "Choose the invoice the customer disputes."


class TaskDoneForm(forms.Form):
    outcome = forms.ChoiceField(choices=CollectionTask.Outcome.choices)
    note = forms.CharField(required=False, max_length=300, validators=[no_bidi_controls])


def _bucket_choices():
    return [(bucket.key, bucket.label) for bucket in aging.buckets() if bucket.low is not None]


class WorklistFilterSet(django_filters.FilterSet):
    """The worklist's filters, over the overdue invoices it sums per customer."""

    owner = django_filters.ModelChoiceFilter(
        field_name="customer__owner", queryset=possible_owners(), label="Owner", empty_label="All owners"
    )
    level = django_filters.ChoiceFilter(method="reached_level", label="Level reached", empty_label="Any level")
    bucket = django_filters.ChoiceFilter(method="in_bucket", label="Days overdue", empty_label="Any")

    class Meta:
        model = Invoice
        fields = ["owner", "level", "bucket"]

    def __init__(self, *args, as_of, **kwargs):
        super().__init__(*args, **kwargs)
        self.as_of = as_of
        self.filters["owner"].queryset = possible_owners()
        names = DunningLevel.objects.order_by("days_after_due").values_list("name", flat=True).distinct()
        self.filters["level"].extra["choices"] = [(name, name) for name in dict.fromkeys(names)]
        self.filters["bucket"].extra["choices"] = _bucket_choices()
        form = self.form
        form.fields["owner"].widget = FastSelect(attrs={"class": "form-select"}, choices=form.fields["owner"].choices)
        for name in ("level", "bucket"):
            form.fields[name].widget.attrs["class"] = "form-select"

    def reached_level(self, queryset, name, value):
        reached = DunningNoticeLine.objects.filter(level__name=value).values("invoice_id")
        return queryset.filter(pk__in=reached) if value else queryset

    def in_bucket(self, queryset, name, value):
        bucket = aging.bucket_by_key(value)
        return queryset.filter(bucket.due_dates(self.as_of)) if bucket else queryset
