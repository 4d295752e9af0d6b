"""Payment pages: the list (filters, totals of the filtered set per currency, CSV), a
payment's page (its allocations with "Take back", "Allocate" of what is unapplied,
Void, the feed), "Record payment" with a live allocation preview, and "Write off"
from the invoice page's Payments panel.

Views parse the request, call receivables.services and render; who may do what comes
from receivables.permissions. A refusal (more than is left, a void payment, someone
else's change) is a message or a field error, never a 500. The preview answers htmx
with partials of the same template and the page works without JavaScript.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from billing.models import Invoice
from core.concurrency import StaleVersion
from core.lists import FilteredListMixin, ListPageMixin, active_filter_count, mark_invalid_filters
from core.money import format_amount
from core.search import clean_query
from core.tables import CappedPaginator
from crm.forms import FastSelect
from crm.models import Customer
from crm.search import CUSTOMER_FIELDS, ranked_search

from .. import services
from ..forms import AllocateForm, PaymentForm, PaymentVoidForm, WriteOffForm
from ..models import ZERO, Payment
from ..payment_filters import PaymentFilterSet
from ..payment_tables import PaymentTable
from ..permissions import (
    can_allocate,
    can_record_payment,
    can_request_write_off,
    can_view_payments,
    can_view_standing,
    can_void_payment,
)

LIST_TEMPLATE = "receivables/payment_list.html"
DETAIL_TEMPLATE = "receivables/payment_detail.html"
FORM_TEMPLATE = "receivables/payment_form.html"
FILTER_PARAMS = ("q", "customer", "method", "status", "received_from", "received_to")
SHOWN_FILTERS = ("q", "method", "status")
# The open invoices a page offers to allocate to, oldest due first. Auto-allocation
# (and its preview's figures) covers all of them; typing by hand covers these.
INVOICES_SHOWN = 50
CUSTOMERS_FOUND = 20
STALE_PAYMENT = "This payment was changed by someone else since you opened it; check it and try again."

CSV_COLUMNS = {
    "Number": "number",
    "Status": "status",
    "Customer": "customer__name",
    "Received": "received_on",
    "Method": "method",
    "Reference": "reference",
    "Currency": "currency",
    "Amount": "amount",
    "Allocated": "amount_allocated",
    "Unapplied": "unapplied",
    "Voided": "voided_on",
    "Void reason": "void_reason",
}


def _may_read(user) -> None:
    if not can_view_payments(user):
        raise PermissionDenied("You may not see payments.")


def _money_text(amount, currency: str) -> str:
    """An amount for a message (plain text: messages are escaped)."""
    return f"{format_amount(amount)} {currency}"


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


def _version(form) -> int | None:
    return form.cleaned_data.get("version") if form.is_valid() else None


def _add_service_errors(form, error: ValidationError) -> None:
    """A service's refusal next to the field it is about, else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, _message(error))
        return
    for field, messages_ in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


def open_invoices(customer: Customer, currency: str):
    """The customer's open invoices in `currency`, oldest due first (as auto-allocation pays them)."""
    return Invoice.objects.open().filter(customer=customer, currency=currency).order_by("due_date", "issue_date", "pk")


# --- the list ---------------------------------------------------------------------------


def payment_totals(payments) -> list[dict]:
    """The filtered set's count, amount received and unapplied credit (posted payments),
    per currency: one GROUP BY."""
    posted = Q(status=Payment.Status.POSTED)
    return list(
        payments.order_by()
        .values("currency")
        .annotate(
            count=Count("id"),
            received=Sum("amount", filter=posted, default=ZERO),
            unapplied=Sum("unapplied", filter=posted, default=ZERO),
        )
        .order_by("currency")
    )


def prepare_payment_filters(form):
    """Dress PaymentFilterSet's form for the bar above the table."""
    form.fields["q"].widget.input_type = "search"
    form.fields["q"].widget.attrs.update({"class": "form-control", "placeholder": "Number, reference or customer"})
    for name in ("method", "status"):
        field = form.fields[name]
        field.widget = FastSelect(attrs={"class": "form-select"}, choices=field.choices)
    for name in ("received_from", "received_to"):
        form.fields[name].widget.attrs["class"] = "form-control"
    return form


class PaymentListView(FilteredListMixin, ListPageMixin, SingleTableMixin, FilterView):
    """Payments with filters, sortable and paginated, the filtered set's count and
    totals per currency after load, and a CSV export (`?_export=csv`) of exactly that
    set (core.lists)."""

    list_key = "receivables:payment_list"
    filterset_class = PaymentFilterSet
    table_class = PaymentTable
    table_pagination = {"per_page": 25, "paginator_class": CappedPaginator}
    template_name = LIST_TEMPLATE
    filter_params = FILTER_PARAMS
    csv_columns = CSV_COLUMNS
    csv_name = "payments"

    def dispatch(self, request, *args, **kwargs):
        _may_read(request.user)
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        raise PermissionDenied("The payment list has no columns to choose.")

    def get_queryset(self):
        return Payment.objects.visible_to(self.request.user).select_related("customer")

    def summarize(self, queryset) -> dict:
        totals = payment_totals(queryset)
        return {"totals": totals, "payment_count": sum(row["count"] for row in totals)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = context["filter"]
        form = prepare_payment_filters(filterset.form)
        valid = not filterset.is_bound or filterset.is_valid()
        customer_id = form.cleaned_data.get("customer") if filterset.is_bound and valid else None
        context["shown_filters"] = mark_invalid_filters(form, always_shown=SHOWN_FILTERS)
        context["folded_filter_count"] = active_filter_count(form, exclude=("q",))
        context["filter_customer"] = (
            Customer.objects.filter(pk=customer_id).only("id", "name").first() if customer_id else None
        )
        context["can_record"] = can_record_payment(self.request.user)
        return context


# --- "Record payment" ----------------------------------------------------------------------


def _chosen_customer(request) -> Customer | None:
    raw = request.POST.get("customer") or request.GET.get("customer") or ""
    if not raw.isdigit() or len(raw) > 18:
        return None
    return Customer.objects.visible_to(request.user).filter(pk=raw).first()


def preview_context(form: PaymentForm, customer: Customer) -> dict:
    """What the payment would do, from what is typed so far: each shown invoice's share
    (oldest due first, or as typed by hand), the total allocated and what is left as
    unapplied credit."""
    data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    amount = data.get("amount")
    if form.is_manual:
        shares = form.typed_amounts()
    elif amount:
        shares = {invoice.pk: share for invoice, share in services.allocation_plan(customer, customer.currency, amount)}
    else:
        shares = {}
    allocated = sum(shares.values(), ZERO)
    remaining = amount - allocated if amount is not None else None
    return {
        "preview_rows": [(invoice, field, shares.get(invoice.pk)) for invoice, field in form.invoice_rows()],
        "preview_allocated": allocated,
        "preview_remaining": remaining,
        "preview_over": remaining is not None and remaining < 0,
        "preview_manual": form.is_manual,
    }


def _live_preview(form: PaymentForm, url: str) -> None:
    """The fields that refresh the preview as they are typed in (htmx)."""
    figures = {"hx-post": url, "hx-swap": "none", "hx-vals": '{"_part": "figures"}', "hx-sync": "closest form:replace"}
    form.fields["amount"].widget.attrs.update({**figures, "hx-trigger": "input changed delay:250ms, change"})
    for invoice, _field in form.invoice_rows():
        form.fields[form.invoice_field(invoice)].widget.attrs.update(
            {**figures, "hx-trigger": "input changed delay:250ms, change"}
        )
    form.fields["mode"].widget.attrs.update(
        {
            "hx-post": url,
            "hx-trigger": "change",
            "hx-target": "#allocation-preview",
            "hx-swap": "outerHTML",
            "hx-vals": '{"_part": "preview"}',
        }
    )


@require_http_methods(["GET", "POST"])
def payment_create(request):
    """Money received from a customer: find the customer (`?q=`, or `?customer=<id>` from
    its page or an invoice's), type the amount and see, live, which open invoices it
    pays; choose "by hand" to type amounts per invoice."""
    _may_read(request.user)
    if not can_record_payment(request.user):
        raise PermissionDenied("Only finance records payments.")
    customer = _chosen_customer(request)
    if customer is None:
        query = clean_query(request.GET.get("q", ""))
        found = list(ranked_search(Customer.objects.visible_to(request.user), CUSTOMER_FIELDS, query)[:CUSTOMERS_FOUND])
        context = {"query": query, "found": found if query else [], "searched": bool(query)}
        return render(request, FORM_TEMPLATE, context, status=400 if request.method == "POST" else 200)

    url = reverse("receivables:payment_create")
    invoices = list(open_invoices(customer, customer.currency)[:INVOICES_SHOWN])
    form = PaymentForm(request.POST or None, invoices=invoices, currency=customer.currency)
    _live_preview(form, url)
    part = request.POST.get("_part") if request.htmx else None
    if request.method == "POST" and part in ("preview", "figures"):
        form.is_valid()  # errors show next to their fields; nothing is saved
        context = {"form": form, "customer": customer, **preview_context(form, customer), "oob": part == "figures"}
        return render(request, f"{FORM_TEMPLATE}#{part}", context)
    if request.method == "POST" and form.is_valid():
        try:
            payment = services.record_payment(
                customer=customer, by=request.user, data=form.service_data(), allocations=form.allocations()
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Recorded payment {payment.number}: {_money_text(payment.amount_allocated, payment.currency)} "
                f"applied, {_money_text(payment.unapplied, payment.currency)} left as unapplied credit.",
            )
            return redirect(payment)
    context = {
        "form": form,
        "customer": customer,
        "open_invoice_count": len(invoices),
        "invoices_capped": len(invoices) == INVOICES_SHOWN,
        **preview_context(form, customer),
    }
    return render(request, FORM_TEMPLATE, context, status=400 if form.errors else 200)


# --- the payment's page ----------------------------------------------------------------------


def _payment(request, pk: int) -> Payment:
    """The payment, if this person may read it; another rep's customer's is a 404."""
    _may_read(request.user)
    return get_object_or_404(Payment.objects.visible_to(request.user).select_related("customer", "created_by"), pk=pk)


def detail_context(request, payment: Payment, *, allocate_form=None, void_form=None) -> dict:
    user = request.user
    allocations = list(
        payment.allocations.select_related("invoice", "created_by", "reversed_by").order_by("applied_on", "pk")
    )
    may_allocate = can_allocate(user) and not payment.is_void
    context = {
        "payment": payment,
        "object": payment,
        "allocations": allocations,
        "may_allocate": may_allocate,
        "may_void": can_void_payment(user) and not payment.is_void,
    }
    if may_allocate and payment.unapplied > 0:
        invoices = list(open_invoices(payment.customer, payment.currency)[:INVOICES_SHOWN])
        form = allocate_form or AllocateForm(
            invoices=invoices, unapplied=payment.unapplied, initial={"version": payment.version}
        )
        context.update(allocate_form=form, open_invoices=invoices)
    if context["may_void"]:
        context["void_form"] = void_form or PaymentVoidForm(initial={"version": payment.version})
    return context


@require_GET
def payment_detail(request, pk: int):
    payment = _payment(request, pk)
    return render(request, DETAIL_TEMPLATE, detail_context(request, payment))


@require_POST
def payment_allocate(request, pk: int):
    """Allocate what is unapplied: by hand (amounts per invoice), or `auto` oldest due first."""
    payment = _payment(request, pk)
    if not can_allocate(request.user):
        raise PermissionDenied("Only finance allocates payments.")
    try:
        if request.POST.get("auto"):
            made = services.auto_allocate(payment=payment, by=request.user)
        else:
            invoices = list(open_invoices(payment.customer, payment.currency)[:INVOICES_SHOWN])
            form = AllocateForm(request.POST, invoices=invoices, unapplied=payment.unapplied)
            if not form.is_valid():
                context = detail_context(request, payment, allocate_form=form)
                return render(request, DETAIL_TEMPLATE, context, status=400)
            made = services.allocate(
                payment=payment,
                by=request.user,
                allocations=list(form.typed_amounts().items()),
                expected_version=form.cleaned_data.get("version"),
            )
    except StaleVersion:
        messages.error(request, STALE_PAYMENT)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        if made:
            numbers = ", ".join(allocation.invoice.number for allocation in made)
            messages.success(request, f"Applied payment {payment.number} to {numbers}.")
        else:
            messages.info(request, f"{payment.customer.name} has no open invoice in {payment.currency} to pay.")
    return redirect(f"{payment.get_absolute_url()}#allocations-panel")


@require_POST
def payment_unallocate(request, pk: int):
    """Take one allocation back (`allocation`): the invoice owes it again."""
    payment = _payment(request, pk)
    if not can_allocate(request.user):
        raise PermissionDenied("Only finance unallocates payments.")
    raw = request.POST.get("allocation", "")
    allocation = payment.allocations.filter(pk=raw).first() if raw.isdigit() and len(raw) < 19 else None
    if allocation is None:
        messages.error(request, "Choose an allocation of this payment to take back.")
        return redirect(payment)
    try:
        services.unallocate(allocation=allocation, by=request.user)
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(
            request,
            f"Took {_money_text(allocation.amount, payment.currency)} back from invoice {allocation.invoice.number}.",
        )
    return redirect(f"{payment.get_absolute_url()}#allocations-panel")


@require_POST
def payment_void(request, pk: int):
    payment = _payment(request, pk)
    if not can_void_payment(request.user):
        raise PermissionDenied("Only finance voids payments.")
    form = PaymentVoidForm(request.POST)
    if form.is_valid():
        try:
            payment = services.void_payment(
                payment=payment,
                by=request.user,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data.get("version"),
            )
        except StaleVersion:
            form.add_error(None, STALE_PAYMENT)
        except services.LedgerConflict as error:
            messages.error(request, _message(error))
            return redirect(payment)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, f"Payment {payment.number} is void; its invoices owe again what it paid.")
            return redirect(payment)
    payment = _payment(request, pk)
    return render(request, DETAIL_TEMPLATE, detail_context(request, payment, void_form=form), status=400)


# --- from the invoice page's Payments panel ---------------------------------------------------


@require_POST
def invoice_write_off(request, pk: int):
    """Ask a finance manager to write off an invoice's small remaining balance."""
    if not can_view_payments(request.user):
        raise PermissionDenied("You may not see payments.")
    invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=pk)
    if not can_view_standing(request.user, invoice.customer):
        raise PermissionDenied("You may not see this customer's payments.")
    if not can_request_write_off(request.user):
        raise PermissionDenied("Only finance asks for write-offs.")
    form = WriteOffForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the balance should be written off.")
        return redirect(f"{invoice.get_absolute_url()}#payments-panel")
    try:
        write_off = services.request_write_off(invoice=invoice, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, _message(error))
    else:
        messages.success(
            request,
            f"Asked a finance manager to write off {_money_text(write_off.amount, invoice.currency)} "
            f"on {invoice.number}.",
        )
    return redirect(f"{invoice.get_absolute_url()}#payments-panel")


urlpatterns = [
    path("payments/", PaymentListView.as_view(), name="payment_list"),
    path("payments/new/", payment_create, name="payment_create"),
    path("payments/<int:pk>/", payment_detail, name="payment_detail"),
    path("payments/<int:pk>/allocate/", payment_allocate, name="payment_allocate"),
    path("payments/<int:pk>/unallocate/", payment_unallocate, name="payment_unallocate"),
    path("payments/<int:pk>/void/", payment_void, name="payment_void"),
    path("invoices/<int:pk>/write-off/", invoice_write_off, name="invoice_write_off"),
]
