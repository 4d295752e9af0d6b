"""One FilterSet per model, shared by the list pages and the API."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.roles import SALES_ROLES

from .models import Contact, Customer


def possible_owners():
    """Who can own a customer: active users in a sales role."""
    return get_user_model().objects.filter(is_active=True, groups__name__in=SALES_ROLES).distinct()


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", help_text="Name, legal name, email or tax ID")
    owner = django_filters.ModelChoiceFilter(queryset=lambda request: possible_owners())
    status = django_filters.ChoiceFilter(choices=Customer.Status.choices)
    currency = django_filters.CharFilter()
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte", label="Updated since")

    class Meta:
        model = Customer
        fields = ["q", "owner", "status", "currency", "updated_since"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(legal_name__icontains=value)
            | Q(email__icontains=value)
            | Q(tax_id__icontains=value.replace(" ", ""))
        )


class ContactFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    customer = django_filters.NumberFilter(field_name="customer_id")
    is_primary = django_filters.BooleanFilter()
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Contact
        fields = ["q", "customer", "is_primary", "updated_since"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value) | Q(job_title__icontains=value))
