"""One FilterSet per model, shared by the list pages and the API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from core.api.filters import BooleanFilter, IdFilter
from crm.filters import UpdatedSinceFilter
from crm.models import possible_owners

from .models import Invoice

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _date_filter(field_name: str, lookup_expr: str, label: str) -> django_filters.DateFilter:
    return django_filters.DateFilter(field_name=field_name, lookup_expr=lookup_expr, label=label, widget=_DATE)


class InvoiceFilterSet(django_filters.FilterSet):
    """The invoices' filters: the invoice list, its totals, its CSV export and the API
    read the same ones."""

    q = django_filters.CharFilter(method="search", label="Search", help_text="Invoice number or customer name")
    status = django_filters.ChoiceFilter(choices=Invoice.Status.choices, empty_label="All statuses")
    # By id: a select of every customer would not scale; the customer page links here.
    customer = IdFilter(field_name="customer_id")
    owner = django_filters.ModelChoiceFilter(
        field_name="customer__owner",
        queryset=lambda request: possible_owners(),
        label="Customer owner",
        empty_label="All owners",
    )
    issued_from = _date_filter("issue_date", "gte", "Issued from")
    issued_to = _date_filter("issue_date", "lte", "Issued to")
    due_from = _date_filter("due_date", "gte", "Due from")
    due_to = _date_filter("due_date", "lte", "Due to")
    overdue = BooleanFilter(
        method="only_overdue", label="Overdue", help_text="Open and past their due date (yes), or not (no)"
    )
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Invoice
        fields = [
            "q",
            "status",
            "customer",
            "owner",
            "issued_from",
            "issued_to",
            "due_from",
            "due_to",
            "overdue",
            "updated_since",
        ]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(number__icontains=value) | Q(customer__name__icontains=value))

    def only_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = Q(
            status__in=(Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID), due_date__lt=timezone.localdate()
        )
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
