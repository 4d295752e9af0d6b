"""Tables of the customer pages (django-tables2): columns, sorting and cell formats."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django_countries import countries

from core.badges import status_badge
from core.formats import format_date
from core.money import format_money
from core.tables import FastRowsTable

from .models import Customer, Lead, Opportunity, ServiceCase


class CustomerTable(FastRowsTable):
    """The customer list. Every column reads the row or its owner (select_related),
    so the page costs the same number of queries for 5 customers or 50."""

    name = tables.Column(order_by=("name", "id"))
    owner = tables.Column(
        order_by=("owner__first_name", "owner__last_name", "owner__username", "name", "id"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    status = tables.Column(order_by=("status", "name", "id"))
    terms = tables.Column(
        accessor="payment_terms", verbose_name="Terms", order_by=("payment_terms", "payment_days", "name", "id")
    )
    credit_limit = tables.Column(
        verbose_name="Credit limit",
        attrs={"th": {"class": "money"}, "td": {"class": "money"}},
        default=mark_safe('<span class="text-body-secondary">No limit</span>'),  # noqa: S308 -- a constant
    )
    # Not DateTimeColumn: that compiles a template for every cell.
    updated_at = tables.Column(verbose_name="Updated", attrs={"td": {"class": "text-nowrap"}})
    # Optional columns, from the column chooser.
    # empty_values=(): a customer with a country but no city still shows its country.
    location = tables.Column(
        accessor="city", verbose_name="City, country", order_by=("country", "city", "name"), empty_values=()
    )
    primary_contact = tables.Column(
        accessor="primary_contact_name", verbose_name="Primary contact", order_by=("primary_contact_name", "name")
    )
    phone = tables.Column(verbose_name="Phone", orderable=False, attrs={"td": {"class": "text-nowrap"}})
    created_at = tables.Column(verbose_name="Created", attrs={"td": {"class": "text-nowrap"}})

    optional_columns = ("location", "primary_contact", "phone", "created_at")
    phone_columns = ("name", "status")
    columns_key = "crm.customer"

    class Meta:
        model = Customer
        fields = ("name", "owner", "status", "terms", "credit_limit", "updated_at")
        sequence = (
            "name",
            "location",
            "primary_contact",
            "phone",
            "owner",
            "status",
            "terms",
            "credit_limit",
            "created_at",
            "updated_at",
        )
        order_by = ("name",)
        attrs = {"class": "table table-hover align-middle mb-0 customer-table", "thead": {"class": "table-light"}}
        empty_text = None  # the page shows its own empty state, which says what to do
        template_name = "core/fast_table.html"

    @cached_property
    def _detail_url(self) -> str:
        # One reverse() per table, not per row: the record links differ only by id.
        return reverse("crm:customer_detail", args=[0]).replace("/0/", "/{}/")

    def render_name(self, value, record):
        details = " · ".join(part for part in (record.tax_id, record.email) if part)
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a><div class="small text-body-secondary">{}</div>',
            self._detail_url.format(record.pk),
            value,
            details,
        )

    def render_status(self, value, record):
        return status_badge(record)

    def render_terms(self, value, record):
        return record.terms_label

    def render_updated_at(self, value, record):
        return format_date(value)  # the user's format and time zone (core.formats)

    def render_created_at(self, value, record):
        return format_date(value)

    def render_location(self, value, record):
        return ", ".join(part for part in (record.city, countries.name(record.country) or record.country) if part)

    def render_primary_contact(self, value, record):
        if not record.primary_contact_email:
            return value
        return format_html(
            '{}<div class="small text-body-secondary text-truncate">{}</div>', value, record.primary_contact_email
        )

    @classmethod
    def prepare_queryset(cls, queryset, chosen_columns):
        if "primary_contact" in chosen_columns:
            queryset = queryset.with_primary_contact()
        return queryset

    def order_credit_limit(self, queryset, is_descending):
        # "No limit" sorts above every limit, as in the API (Customer.objects.with_credit_limit_sort).
        sort = "-credit_limit_sort" if is_descending else "credit_limit_sort"
        return queryset.with_credit_limit_sort().order_by(sort, "name", "id"), True

    def render_credit_limit(self, value, record):
        return format_money(value, record.currency)


# --- leads and service cases ---


def _detail_url_template(name: str) -> str:
    """A record link with `{}` for the id: one reverse() per table, not per row."""
    return reverse(name, args=[0]).replace("/0/", "/{}/")


class LeadTable(FastRowsTable):
    """The lead list: every column reads the lead or its owner (select_related)."""

    name = tables.Column(order_by=("name", "id"))
    company = tables.Column(order_by=("company", "name", "id"))
    status = tables.Column(order_by=("status", "-created_at"))
    source = tables.Column(order_by=("source", "-created_at"))
    owner = tables.Column(
        order_by=("owner__first_name", "owner__last_name", "owner__username", "name", "id"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    created_at = tables.Column(verbose_name="Created", attrs={"td": {"class": "text-nowrap"}})

    phone_columns = ("name", "status")

    class Meta:
        model = Lead
        fields = ("name", "company", "status", "source", "owner", "created_at")
        order_by = ("-created_at",)
        attrs = {"class": "table table-hover align-middle mb-0 lead-table", "thead": {"class": "table-light"}}
        empty_text = None
        template_name = "core/fast_table.html"

    @cached_property
    def _detail_url(self) -> str:
        return _detail_url_template("crm:lead_detail")

    def render_name(self, value, record):
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a><div class="small text-body-secondary">{}</div>',
            self._detail_url.format(record.pk),
            value,
            record.email,
        )

    def render_status(self, value, record):
        badge = status_badge(record)
        if record.converted_at is not None:
            return format_html('{} <span class="badge rounded-pill text-bg-light border">Converted</span>', badge)
        return badge

    def render_created_at(self, value, record):
        return format_date(value)


class ServiceCaseTable(FastRowsTable):
    """The case list, open cases first (the view orders them): each row reads the
    case, its customer and its owner (select_related)."""

    subject = tables.Column(order_by=("subject", "id"))
    customer = tables.Column(order_by=("customer__name", "id"))
    severity = tables.Column(order_by=("severity_rank", "-created_at"))
    status = tables.Column(order_by=("status", "-created_at"))
    owner = tables.Column(
        order_by=("owner__first_name", "owner__last_name", "owner__username", "name", "id"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    created_at = tables.Column(verbose_name="Opened", attrs={"td": {"class": "text-nowrap"}})

    phone_columns = ("subject", "severity")

    class Meta:
        model = ServiceCase
        fields = ("subject", "customer", "severity", "status", "owner", "created_at")
        attrs = {"class": "table table-hover align-middle mb-0 case-table", "thead": {"class": "table-light"}}
        empty_text = None
        template_name = "core/fast_table.html"

    @cached_property
    def _detail_url(self) -> str:
        return _detail_url_template("crm:case_detail")

    @cached_property
    def _customer_url(self) -> str:
        return _detail_url_template("crm:customer_detail")

    def render_subject(self, value, record):
        extra = f"Invoice {record.invoice_number}" if record.invoice_number else ""
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a><div class="small text-body-secondary">{}</div>',
            self._detail_url.format(record.pk),
            value,
            extra,
        )

    def render_customer(self, value, record):
        return format_html('<a href="{}">{}</a>', self._customer_url.format(record.customer_id), value)

    def render_severity(self, value, record):
        tone = ServiceCase.SEVERITY_BADGES.get(record.severity, "secondary")
        return format_html('<span class="badge rounded-pill text-bg-{}">{}</span>', tone, value)

    def render_status(self, value, record):
        return status_badge(record)

    def render_created_at(self, value, record):
        return format_date(value)


# --- deals -------------------------------------------------------------------------------


class OpportunityTable(FastRowsTable):
    """The deal list. Every column reads the row, its customer, owner or stage
    (select_related), so a page costs one query however many deals there are."""

    name = tables.Column(verbose_name="Deal", order_by=("name", "id"))
    customer = tables.Column(order_by=("customer__name", "id"))
    stage = tables.Column(order_by=("stage__order", "expected_close_date", "id"))
    amount = tables.Column(attrs={"th": {"class": "money"}, "td": {"class": "money"}}, order_by=("amount", "id"))
    expected_close_date = tables.Column(
        verbose_name="Close date", attrs={"td": {"class": "text-nowrap"}}, order_by=("expected_close_date", "id")
    )
    owner = tables.Column(
        order_by=("owner__first_name", "owner__last_name", "owner__username", "id"),
        attrs={"td": {"class": "text-nowrap"}},
    )
    next_step = tables.Column(verbose_name="Next step", orderable=False)
    updated_at = tables.Column(verbose_name="Updated", attrs={"td": {"class": "text-nowrap"}})

    optional_columns = ("next_step", "updated_at")
    phone_columns = ("name", "amount")
    columns_key = "crm.opportunity"

    class Meta:
        model = Opportunity
        fields = ("name", "customer", "stage", "amount", "expected_close_date", "owner", "next_step", "updated_at")
        order_by = ("expected_close_date",)
        attrs = {"class": "table table-hover align-middle mb-0 opportunity-table", "thead": {"class": "table-light"}}
        empty_text = None
        template_name = "core/fast_table.html"

    @cached_property
    def _detail_url(self) -> str:
        return reverse("crm:opportunity_detail", args=[0]).replace("/0/", "/{}/")

    @cached_property
    def _customer_url(self) -> str:
        return reverse("crm:customer_detail", args=[0]).replace("/0/", "/{}/")

    def render_name(self, value, record):
        return format_html('<a class="fw-semibold" href="{}">{}</a>', self._detail_url.format(record.pk), value)

    def render_customer(self, value, record):
        return format_html('<a href="{}">{}</a>', self._customer_url.format(record.customer_id), value)

    def render_stage(self, value, record):
        css = "success" if value.is_won else "secondary" if value.is_lost else "primary"
        return format_html(
            '<span class="badge text-bg-{}-subtle text-{}-emphasis border border-{}-subtle">{}</span>',
            css,
            css,
            css,
            value.name,
        )

    def render_amount(self, value, record):
        return format_money(value, record.currency)

    def render_expected_close_date(self, value, record):
        return format_date(value)

    def render_updated_at(self, value, record):
        return format_date(value)
