"""One FilterSet per model, shared by the list pages and the API."""

from datetime import UTC, date

import django_filters
from django import forms
from django.db import models
from django.db.models import Q
from django_filters.fields import IsoDateTimeField

from core.api.filters import BooleanFilter, IdFilter

from .cases import case_owner_choices
from .models import Contact, Customer, Lead, Opportunity, Product, ServiceCase, Stage, possible_owners


class UpdatedSinceField(IsoDateTimeField):
    """An ISO 8601 timestamp, turned into UTC before it reaches the database:
    PostgreSQL refuses offsets beyond ±15:59, and a time near year 1 or 9999
    would overflow when converted there."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError("Enter a date and time between the years 1 and 9999.", code="invalid") from None


class UpdatedSinceFilter(django_filters.IsoDateTimeFilter):
    """`?updated_since=<ISO datetime>`: what changed from then on, for sync."""

    field_class = UpdatedSinceField

    def __init__(self, **kwargs):
        kwargs.setdefault("field_name", "updated_at")
        kwargs.setdefault("lookup_expr", "gte")
        kwargs.setdefault("label", "Updated since")
        super().__init__(**kwargs)


class BillingDetails(models.TextChoices):
    INCOMPLETE = "incomplete", "Missing billing details"
    COMPLETE = "complete", "Complete billing details"


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", help_text="Name, legal name, email or tax ID")
    mine = BooleanFilter(method="owned_by_me", label="Mine", help_text="Only the customers you own")
    owner = django_filters.ModelChoiceFilter(queryset=lambda request: possible_owners())
    status = django_filters.ChoiceFilter(choices=Customer.Status.choices)
    billing = django_filters.ChoiceFilter(
        choices=BillingDetails.choices,
        method="billing_details",
        label="Billing details",
        help_text="Missing: no tax ID or an incomplete address, so the customer cannot be invoiced yet",
    )
    currency = django_filters.CharFilter()
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Customer
        fields = ["q", "mine", "owner", "status", "billing", "currency", "updated_since"]

    def search(self, queryset, name, value):
        return queryset.search(value)

    def owned_by_me(self, queryset, name, value):
        if not value:
            return queryset
        user = getattr(self.request, "user", None)
        return queryset.owned_by(user) if user is not None and user.is_authenticated else queryset.none()

    def billing_details(self, queryset, name, value):
        if value == BillingDetails.INCOMPLETE:
            return queryset.missing_billing_details()
        if value == BillingDetails.COMPLETE:
            return queryset.complete_billing_details()
        return queryset


class ContactFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    customer = IdFilter(field_name="customer_id")
    is_primary = BooleanFilter()
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Contact
        fields = ["q", "customer", "is_primary", "updated_since"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value) | Q(job_title__icontains=value))


# --- leads and service cases ---


class LeadFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", help_text="Name, company, email or tax ID")
    status = django_filters.ChoiceFilter(choices=Lead.Status.choices)
    owner = django_filters.ModelChoiceFilter(queryset=lambda request: possible_owners())
    source = django_filters.ChoiceFilter(choices=Lead.Source.choices)
    converted = BooleanFilter(method="is_converted", label="Converted")
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Lead
        fields = ["q", "status", "owner", "source", "converted", "updated_since"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(company__icontains=value)
            | Q(email__icontains=value)
            | Q(tax_id__icontains=value.replace(" ", ""))
        )

    def is_converted(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(converted_at__isnull=not value)


class ServiceCaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", help_text="Subject, customer or invoice number")
    status = django_filters.ChoiceFilter(choices=ServiceCase.Status.choices)
    severity = django_filters.ChoiceFilter(choices=ServiceCase.Severity.choices)
    owner = django_filters.ModelChoiceFilter(queryset=lambda request: case_owner_choices())
    customer = IdFilter(field_name="customer_id")
    open = BooleanFilter(method="only_open", label="Open only")
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = ServiceCase
        fields = ["q", "status", "severity", "owner", "customer", "open", "updated_since"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(subject__icontains=value) | Q(customer__name__icontains=value) | Q(invoice_number__icontains=value)
        )

    def only_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.open() if value else queryset.exclude(pk__in=queryset.open().values("pk"))


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", help_text="Code or name")
    is_active = django_filters.ChoiceFilter(
        label="Active", choices=(("true", "Active"), ("false", "Inactive")), method="active"
    )

    class Meta:
        model = Product
        fields = ["q", "is_active"]

    def search(self, queryset, name, value):
        return queryset.search(value)

    def active(self, queryset, name, value):
        return queryset.filter(is_active=value == "true")


# --- deals (pipeline board, deal list, forecast, API) ----------------------------------


class MonthField(forms.DateField):
    """A calendar month typed as `YYYY-MM` (the browser's month input), read as its first day."""

    input_formats = ["%Y-%m"]
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    default_error_messages = {"invalid": "Enter a month as YYYY-MM, e.g. 2026-03."}


class MonthFilter(django_filters.Filter):
    field_class = MonthField

    def filter(self, qs, value):
        if not value:
            return qs
        start = value.replace(day=1)
        end = date(start.year + 1, 1, 1) if start.month == 12 else date(start.year, start.month + 1, 1)
        return qs.filter(**{f"{self.field_name}__gte": start, f"{self.field_name}__lt": end})


class OpportunityFilterSet(django_filters.FilterSet):
    """The deals' filters: the board, the list, the forecast and the API read the same ones."""

    q = django_filters.CharFilter(method="search", label="Search", help_text="Deal or customer name")
    owner = django_filters.ModelChoiceFilter(queryset=lambda request: possible_owners(), empty_label="All owners")
    close_month = MonthFilter(
        field_name="expected_close_date", label="Close month", help_text="Expected to close in this month"
    )
    # By id: a select of every customer would not scale; the customer page links here.
    customer = IdFilter(field_name="customer_id")
    stage = django_filters.ModelChoiceFilter(queryset=Stage.objects.all(), empty_label="All stages")
    updated_since = UpdatedSinceFilter()

    class Meta:
        model = Opportunity
        fields = ["q", "owner", "close_month", "customer", "stage", "updated_since"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(customer__name__icontains=value))


# --- quotes (quotes helper) ---


class QuoteFilterSet(django_filters.FilterSet):
    """The API's quote list: one deal's or one customer's quotes, by status, changed since."""

    updated_since = UpdatedSinceFilter()

    class Meta:
        from .models import Quote

        model = Quote
        fields = ["opportunity", "customer", "status", "updated_since"]
