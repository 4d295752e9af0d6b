"""The payments' and allocations' filters: the payment list page, its totals, its CSV
export and the API read the same ones (as billing.filters does for invoices)."""

import django_filters
from django import forms
from django.db.models import Q

from core.api.filters import BooleanFilter, IdFilter
from crm.filters import UpdatedSinceFilter

from .models import Allocation, Payment

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PaymentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label="Search", help_text="Payment number, bank reference or customer name"
    )
    # By id: a select of every customer would not scale; the customer and invoice pages link here.
    customer = IdFilter(field_name="customer_id", label="Customer")
    method = django_filters.ChoiceFilter(choices=Payment.Method.choices, empty_label="All methods")
    status = django_filters.ChoiceFilter(choices=Payment.Status.choices, empty_label="All statuses")
    received_from = django_filters.DateFilter(
        field_name="received_on", lookup_expr="gte", label="Received from", widget=_DATE
    )
    received_to = django_filters.DateFilter(
        field_name="received_on", lookup_expr="lte", label="Received to", widget=_DATE
    )
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Payment
        fields = ["q", "customer", "method", "status", "received_from", "received_to", "updated_since"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value) | Q(reference__icontains=value) | Q(customer__name__icontains=value)
        )


class AllocationFilterSet(django_filters.FilterSet):
    invoice = IdFilter(field_name="invoice_id", label="Invoice")
    payment = IdFilter(field_name="payment_id", label="Payment")
    customer = IdFilter(field_name="payment__customer_id", label="Customer")
    live = BooleanFilter(
        field_name="reversed_on", lookup_expr="isnull", label="Live", help_text="Not taken back (true) or taken back"
    )

    class Meta:
        model = Allocation
        fields = ["invoice", "payment", "customer", "live"]
