"""Tables of the customer pages (django-tables2): columns, sorting and cell formats."""

import django_tables2 as tables
from django.forms.utils import flatatt
from django.urls import reverse
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django_tables2.paginators import LazyPaginator

from .models import Customer

MAX_PER_PAGE = 100


class CappedPaginator(LazyPaginator):
    """Pages without counting (a COUNT over 100,000 rows cost more than the rest of the
    page; the list shows the count after load instead), looking a few pages ahead, and
    honours ?per_page= between 1 and MAX_PER_PAGE, so nobody asks for 100,000 rows at once."""

    look_ahead = 1

    def __init__(self, object_list, per_page, *args, **kwargs):
        super().__init__(object_list, max(1, min(int(per_page), MAX_PER_PAGE)), *args, **kwargs)


def format_money(amount, currency: str) -> str:
    """Decimal("12345.5"), "EUR" → "12,345.50 EUR": two places, grouped, with the currency.

    Python's own Decimal formatting, not floatformat: this runs for every row of a list,
    and money is stored with two places, so nothing is rounded here."""
    return format_html('{} <span class="currency">{}</span>', f"{amount:,.2f}", currency)


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


class FastRowsTable(tables.Table):
    """A table whose body rows are rendered in Python.

    django-tables2 renders each cell through the template engine, which made the
    25 rows cost most of the list page's time. Here a row is one format_html
    over the columns' `render_<name>(value, record)` methods, so the columns,
    sorting and pagination stay django-tables2's and only the row loop is fast.
    The table's template overrides `table.tbody` to print `rendered_rows`.
    """

    def rendered_rows(self):
        columns = []
        for bound in self.columns:  # visible columns, in order
            render = getattr(self, f"render_{bound.name}", None)
            columns.append((bound, flatatt(bound.attrs.get("td", {})), render))
        for row in self.paginated_rows:
            record = row.record
            cells = []
            for bound, attrs, render in columns:
                value = bound.accessor.resolve(record, quiet=True)
                if value in bound.column.empty_values:
                    html = bound.default
                else:
                    html = render(value=value, record=record) if render else value
                # attrs come from flatatt (escaped); the cell is escaped unless already safe.
                cells.append(f"<td{attrs}>{conditional_escape(html)}</td>")
            yield mark_safe("<tr>" + "".join(cells) + "</tr>")  # noqa: S308 -- cells are escaped above


class CustomerTable(FastRowsTable):
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
        template_name = "crm/customer_table.html"

    @cached_property
    def _detail_url(self) -> str:
        # One reverse() per table, not per row: the record links differ only by id.
        return reverse("crm:customer_detail", args=[0]).replace("/0/", "/{}/")

    @cached_property
    def _date_format(self) -> str:
        return get_format("SHORT_DATE_FORMAT")

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
        return dateformat.format(localtime(value), self._date_format)

    def render_credit_limit(self, value, record):
        return format_money(value, record.currency)
