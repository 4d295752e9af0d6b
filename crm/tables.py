"""Tables of the customer pages (django-tables2): columns, sorting and cell formats."""

import django_tables2 as tables
from django.core.paginator import Paginator
from django.template.defaultfilters import floatformat
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime

from .models import Customer

MAX_PER_PAGE = 100


class CappedPaginator(Paginator):
    """Honours ?per_page= between 1 and MAX_PER_PAGE, so nobody asks for 100,000 rows at once."""

    def __init__(self, object_list, per_page, *args, **kwargs):
        super().__init__(object_list, max(1, min(int(per_page), MAX_PER_PAGE)), *args, **kwargs)


def format_money(amount, currency: str) -> str:
    """12345.5, "EUR" → "12,345.50 EUR": two places, grouped, with the currency."""
    return format_html('{} <span class="currency">{}</span>', floatformat(amount, "2g"), currency)


STATUS_BADGE_CLASSES = {
    Customer.Status.ACTIVE: "text-bg-success",
    Customer.Status.PROSPECT: "text-bg-info",
    Customer.Status.INACTIVE: "text-bg-secondary",
}


def status_badge(customer: Customer) -> str:
    """The customer's status as a coloured badge, on the list and on the record page."""
    return format_html(
        '<span class="badge rounded-pill status-badge {}">{}</span>',
        STATUS_BADGE_CLASSES.get(customer.status, "text-bg-secondary"),
        customer.get_status_display(),
    )


class CustomerTable(tables.Table):
    """The customer list. Every column reads the row or its owner (select_related),
    so the page costs the same number of queries for 5 customers or 50."""

    name = tables.Column(order_by=("name", "id"))
    owner = tables.Column(
        order_by=("owner__first_name", "owner__last_name", "owner__username"), attrs={"td": {"class": "text-nowrap"}}
    )
    status = tables.Column(order_by=("status", "name"))
    terms = tables.Column(
        accessor="payment_terms", verbose_name="Terms", order_by=("payment_terms", "payment_days", "name")
    )
    credit_limit = tables.Column(
        verbose_name="Credit limit",
        attrs={"th": {"class": "money"}, "td": {"class": "money"}},
        default=mark_safe('<span class="text-body-secondary">No limit</span>'),  # noqa: S308 -- a constant
    )
    # Not DateTimeColumn: that compiles a template for every cell.
    updated_at = tables.Column(verbose_name="Updated", attrs={"td": {"class": "text-nowrap"}})

    class Meta:
        model = Customer
        fields = ("name", "owner", "status", "terms", "credit_limit", "updated_at")
        order_by = ("name",)
        attrs = {"class": "table table-hover align-middle mb-0 customer-table", "thead": {"class": "table-light"}}
        empty_text = None  # the page shows its own empty state, which says what to do

    def render_name(self, value, record):
        details = " · ".join(part for part in (record.tax_id, record.email) if part)
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a><div class="small text-body-secondary">{}</div>',
            record.get_absolute_url(),
            value,
            details,
        )

    def render_status(self, record):
        return status_badge(record)

    def render_terms(self, record):
        return record.terms_label

    def render_updated_at(self, value):
        return date_format(localtime(value), "SHORT_DATE_FORMAT")

    def render_credit_limit(self, value, record):
        return format_money(value, record.currency)
