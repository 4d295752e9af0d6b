"""The payment list's table (django-tables2)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html

from core.badges import status_badge
from core.formats import format_date
from core.money import format_money
from core.tables import FastRowsTable

from .models import Payment


def _url_template(name: str) -> str:
    """A record link with `{}` for the id: one reverse() per table, not per row."""
    return reverse(name, args=[0]).replace("/0/", "/{}/")


class PaymentTable(FastRowsTable):
    """Every column reads the row or its customer (select_related): one query a page."""

    number = tables.Column(verbose_name="Payment", order_by=("number", "id"))
    customer = tables.Column(order_by=("customer__name", "id"))
    received_on = tables.Column(
        verbose_name="Received", attrs={"td": {"class": "text-nowrap"}}, order_by=("received_on", "id")
    )
    method = tables.Column(order_by=("method", "id"))
    reference = tables.Column(orderable=False)
    status = tables.Column(order_by=("status", "-id"))
    amount = tables.Column(attrs={"th": {"class": "money"}, "td": {"class": "money"}}, order_by=("amount", "id"))
    unapplied = tables.Column(
        verbose_name="Unapplied",
        attrs={"th": {"class": "money"}, "td": {"class": "money"}},
        order_by=("unapplied", "id"),
    )

    phone_columns = ("number", "amount")

    class Meta:
        model = Payment
        fields = ("number", "customer", "received_on", "method", "reference", "status", "amount", "unapplied")
        attrs = {"class": "table table-hover align-middle mb-0 payment-table", "thead": {"class": "table-light"}}
        empty_text = None  # the page shows its own empty state
        template_name = "core/fast_table.html"

    @cached_property
    def _detail_url(self) -> str:
        return _url_template("receivables:payment_detail")

    @cached_property
    def _customer_url(self) -> str:
        return _url_template("crm:customer_detail")

    def render_number(self, value, record):
        return format_html('<a class="fw-semibold" href="{}">{}</a>', self._detail_url.format(record.pk), value)

    def render_customer(self, value, record):
        return format_html('<a href="{}">{}</a>', self._customer_url.format(record.customer_id), value)

    def render_received_on(self, value, record):
        return format_date(value)

    def render_status(self, value, record):
        return status_badge(record)

    def render_amount(self, value, record):
        return format_money(value, record.currency)

    def render_unapplied(self, value, record):
        return format_money(value, record.currency)
