"""Tables of the billing pages (django-tables2): columns, sorting and cell formats."""

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from core.badges import status_badge
from core.formats import format_date
from core.money import format_money
from core.tables import FastRowsTable

from .models import Invoice

OPEN = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)


def _url_template(name: str) -> str:
    """A record link with `{}` for the id: one reverse() per table, not per row."""
    return reverse(name, args=[0]).replace("/0/", "/{}/")


class InvoiceTable(FastRowsTable):
    """The invoice list. Every column reads the row or its customer (select_related),
    so a page costs one query however many invoices there are."""

    number = tables.Column(verbose_name="Invoice", order_by=("number", "id"), empty_values=())
    customer = tables.Column(order_by=("customer__name", "id"))
    status = tables.Column(order_by=("status", "-id"))
    issue_date = tables.Column(verbose_name="Issued", attrs={"td": {"class": "text-nowrap"}})
    due_date = tables.Column(verbose_name="Due", attrs={"td": {"class": "text-nowrap"}}, order_by=("due_date", "id"))
    total = tables.Column(attrs={"th": {"class": "money"}, "td": {"class": "money"}}, order_by=("total", "id"))
    balance_due = tables.Column(
        verbose_name="Balance due",
        attrs={"th": {"class": "money"}, "td": {"class": "money"}},
        order_by=("balance_due", "id"),
    )

    phone_columns = ("number", "balance_due")

    class Meta:
        model = Invoice
        fields = ("number", "customer", "status", "issue_date", "due_date", "total", "balance_due")
        attrs = {"class": "table table-hover align-middle mb-0 invoice-table", "thead": {"class": "table-light"}}
        empty_text = None  # the page shows its own empty state, which says what to do
        template_name = "core/fast_table.html"

    @cached_property
    def _detail_url(self) -> str:
        return _url_template("billing:invoice_detail")

    @cached_property
    def _customer_url(self) -> str:
        return _url_template("crm:customer_detail")

    @cached_property
    def _today(self):
        return timezone.localdate()

    def render_number(self, value, record):
        return format_html(
            '<a class="fw-semibold" href="{}">{}</a>', self._detail_url.format(record.pk), value or "Draft"
        )

    def render_customer(self, value, record):
        return format_html('<a href="{}">{}</a>', self._customer_url.format(record.customer_id), value)

    def render_status(self, value, record):
        return status_badge(record)

    def render_issue_date(self, value, record):
        return format_date(value)

    def render_due_date(self, value, record):
        if record.status in OPEN and value < self._today:
            return format_html(
                '{} <span class="badge rounded-pill text-bg-danger overdue-badge">overdue</span>', format_date(value)
            )
        return format_date(value)

    def render_total(self, value, record):
        return format_money(value, record.currency)

    def render_balance_due(self, value, record):
        return format_money(value, record.currency)
