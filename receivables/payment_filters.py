"""The payments' and allocations' filters: the payment list page, its totals, its CSV
export and the API read the same ones (as billing.filters does for invoices)."""

import django_filters
from django import forms
from django.db.models import Q

from core.api.filters import BooleanFilter
from crm.filters import UpdatedSinceFilter

from .models import Allocation, Payment

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _id_filter(field_name: str, label: str) -> django_filters.NumberFilter:
    # Bounded to the id column's range: a larger number is a 400, not an overflow.
    return django_filters.NumberFilter(field_name=field_name, min_value=1, max_value=2**63 - 1, label=label)


class PaymentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label="Search", help_text="Payment number, bank reference or customer name"
    )
    # By id: a select of every customer would not scale; the customer and invoice pages link here.
    customer = _id_filter("customer_id", "Customer")
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
    invoice = _id_filter("invoice_id", "Invoice")
    payment = _id_filter("payment_id", "Payment")
    customer = _id_filter("payment__customer_id", "Customer")
    live = BooleanFilter(
        field_name="reversed_on", lookup_expr="isnull", label="Live", help_text="Not taken back (true) or taken back"
    )

    class Meta:
        model = Allocation
        fields = ["invoice", "payment", "customer", "live"]
