"""The aging report: what customers owed as of a day, in buckets by days past due —
as a chart and a table per currency, a table per customer, a drill-down from any
bucket to its invoices, and CSV exports of both (streamed).

Finance and sales managers read the whole book; a rep reads their own customers only.
A date in the future or one that cannot be read is an error on the filter, never a 500.
"""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from billing.models import Invoice
from core.csv import csv_response
from core.lists import mark_invalid_filters
from crm.models import Customer

from .. import aging
from ..forms_aging import AgingFilterForm
from ..permissions import can_view_book, can_view_payments

PER_PAGE = 25


def _may_read(user) -> None:
    if not can_view_payments(user):
        raise PermissionDenied("You may not see receivables.")


def _filters(request):
    """The bound form and, when it is valid, the invoices the person may age."""
    form = AgingFilterForm(request.GET or None, with_owner=can_view_book(request.user))
    if request.GET and not form.is_valid():
        mark_invalid_filters(form, always_shown=tuple(form.fields))
        return form, None, None
    cleaned = form.cleaned_data if request.GET else {}
    as_of = cleaned.get("as_of") or timezone.localdate()
    customer = None
    if cleaned.get("customer"):
        customer = Customer.objects.filter(pk=cleaned["customer"]).only("pk", "name").first()
        if customer is None:
            form.add_error("customer", "There is no such customer.")
            return form, None, None
    where = aging.scope(request.user, owner=cleaned.get("owner"), customer=customer)
    chosen = {"as_of": as_of, "customer": customer, "bucket": cleaned.get("bucket"), "where": where}
    return form, Invoice.objects.filter(where), chosen


def _chart(totals: list[dict]) -> list[dict]:
    """Per currency: each bucket's amount and its share of the largest bucket (bar length)."""
    charts = []
    for row in totals:
        amounts = aging.amounts(row)
        largest = max((amount for _, amount in amounts), default=0) or 1
        charts.append(
            {
                "currency": row["currency"],
                "total": row["total"],
                "bars": [
                    {"bucket": bucket, "amount": amount, "percent": int(amount * 100 / largest)}
                    for bucket, amount in amounts
                ],
            }
        )
    return charts


def aging_report(request):
    """GET /receivables/aging/ (?as_of=&owner=&customer=&page=, ?_export=csv)."""
    _may_read(request.user)
    form, invoices, chosen = _filters(request)
    context = {"form": form, "buckets": aging.buckets(), "today": timezone.localdate()}
    if invoices is None:
        return render(request, "receivables/aging.html", context)
    as_of = chosen["as_of"]
    rows = aging.customer_rows(as_of, invoices)
    if request.GET.get("_export") == "csv":
        return _customers_csv(rows, as_of)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    on_page = [row["customer_id"] for row in page.object_list]
    credit = (
        {
            (row["customer_id"], row["currency"]): row["unapplied"]
            for row in aging.unapplied_credit(as_of, Q(customer__in=on_page), per_customer=True)
        }
        if on_page
        else {}
    )
    for row in page.object_list:
        aging.in_cents(row)
        row["cells"] = aging.amounts(row)
        row["unapplied"] = credit.get((row["customer_id"], row["currency"]))
    totals = aging.totals(as_of, invoices)
    context.update(
        chosen,
        page=page,
        charts=_chart(totals),
        unapplied=aging.unapplied_credit(as_of, chosen["where"]),
    )
    return render(request, "receivables/aging.html", context)


def aging_invoices(request):
    """GET /receivables/aging/invoices/ (?bucket=&customer=&owner=&as_of=&page=, ?_export=csv):
    the invoices behind a bucket, with what each owed at the day."""
    _may_read(request.user)
    form, invoices, chosen = _filters(request)
    context = {"form": form, "buckets": aging.buckets(), "with_bucket": True}
    if invoices is None:
        return render(request, "receivables/aging_invoices.html", context)
    as_of, bucket = chosen["as_of"], chosen["bucket"]
    rows = aging.open_invoices(as_of, invoices, bucket)
    if request.GET.get("_export") == "csv":
        return _invoices_csv(rows, as_of)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for invoice in page.object_list:
        invoice.open_then = invoice.open_then.quantize(aging.CENT)
        invoice.days_late = max(0, (as_of - invoice.due_date).days)
    context.update(chosen, page=page)
    return render(request, "receivables/aging_invoices.html", context)


def _customers_csv(rows, as_of):
    buckets = aging.buckets()
    header = ["Customer", "Customer ID", "Currency", *[b.label for b in buckets], "Total"]
    data = (
        [row["customer__name"], row["customer_id"], row["currency"], *[row[b.key] for b in buckets], row["total"]]
        for row in map(aging.in_cents, rows.iterator(chunk_size=2000))
    )
    return csv_response(data, header, f"aging-{as_of:%Y-%m-%d}.csv")


def _invoices_csv(rows, as_of):
    header = ["Invoice", "Customer", "Issue date", "Due date", "Days past due", "Currency", "Total", "Open"]
    data = (
        [
            invoice.number,
            invoice.customer.name,
            invoice.issue_date,
            invoice.due_date,
            max(0, (as_of - invoice.due_date).days),
            invoice.currency,
            invoice.total,
            invoice.open_then.quantize(aging.CENT),
        ]
        for invoice in rows.iterator(chunk_size=2000)
    )
    return csv_response(data, header, f"aging-invoices-{as_of:%Y-%m-%d}.csv")


urlpatterns = [
    path("receivables/aging/", aging_report, name="aging"),
    path("receivables/aging/invoices/", aging_invoices, name="aging_invoices"),
]
