"""Filters of the billing plans and billing runs: the plans list page and the API share them."""

import django_filters
from django.db.models import F, Q

from core.api.filters import IdFilter

from .models import BillingPlan, BillingRun

ENDED = Q(end_date__isnull=False, end_date__lt=F("next_invoice_date"))


class BillingPlanFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", help_text="Plan or customer name, any part.")
    customer = IdFilter(field_name="customer_id", label="Customer", help_text="Id of the customer.")
    status = django_filters.ChoiceFilter(
        label="Status",
        choices=(("active", "Active"), ("stopped", "Stopped"), ("ended", "Ended")),
        method="by_status",
        empty_label="Any status",
        help_text="active: billing; stopped: switched off; ended: every period up to its end date is invoiced.",
    )
    interval = django_filters.ChoiceFilter(
        choices=BillingPlan.Interval.choices, label="Interval", empty_label="Any interval"
    )

    class Meta:
        model = BillingPlan
        fields = ["q", "customer", "status", "interval"]

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(customer__name__icontains=value))

    def by_status(self, queryset, name, value):
        if value == "stopped":
            return queryset.filter(is_active=False)
        if value == "ended":
            return queryset.filter(ENDED, is_active=True)
        return queryset.filter(is_active=True).exclude(ENDED)


class BillingRunFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=BillingRun.Status.choices, label="Status", empty_label="Any status")

    class Meta:
        model = BillingRun
        fields = ["status"]
