"""What payments add to other apps' pages without them importing receivables
(registered in receivables.apps): the invoice page's Payments panel, and payments in
the header's global search."""

from urllib.parse import urlencode

from django.db.models import Case, IntegerField, Q, Value, When
from django.urls import reverse

from billing.models import Invoice
from core.money import format_amount
from core.search import SearchProvider, SearchResult
from crm.panels import Panel
from crm.search import customer_ids_named

from .forms import WriteOffForm
from .models import Allocation, Payment, WriteOff
from .permissions import can_record_payment, can_request_write_off, can_view_standing
from .services import write_off_limit

OPEN = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)


# --- the invoice's page ----------------------------------------------------------------------


def invoice_payments_panel(request, invoice):
    """The payments applied to an issued invoice (taken-back ones too), its write-offs,
    and for finance "Record payment" (this customer) and "Write off" of a small balance."""
    if invoice.is_draft or not can_view_standing(request.user, invoice.customer):
        return None
    allocations = list(
        Allocation.objects.filter(invoice=invoice).select_related("payment").order_by("applied_on", "pk")
    )
    write_offs = list(WriteOff.objects.filter(invoice=invoice).order_by("-created_at", "-pk"))
    is_open = invoice.status in OPEN
    pending = any(write_off.status == WriteOff.Status.PENDING for write_off in write_offs)
    limit = write_off_limit()
    return {
        "invoice_allocations": allocations,
        "invoice_write_offs": write_offs,
        "may_record_payment": is_open and can_record_payment(request.user),
        "record_payment_url": f"{reverse('receivables:payment_create')}?{urlencode({'customer': invoice.customer_id})}",
        "may_write_off": (
            is_open and not pending and 0 < invoice.balance_due <= limit and can_request_write_off(request.user)
        ),
        "write_off_form": WriteOffForm(),
        "write_off_limit": limit,
    }


INVOICE_PANEL = Panel(
    "payments",
    "Payments",
    "receivables/payment_invoice_panel.html",
    invoice_payments_panel,
    order=10,
)


# --- global search ----------------------------------------------------------------------


def find_payments(user, query: str):
    """Payments whose number, bank reference or customer's name holds the query: an
    exact number or reference first, then the latest."""
    query = query.strip()
    if not query:
        return Payment.objects.none()
    exact = Case(
        When(Q(number__iexact=query) | Q(reference__iexact=query), then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        Payment.objects.visible_to(user)
        .filter(
            Q(number__icontains=query) | Q(reference__icontains=query) | Q(customer_id__in=customer_ids_named(query))
        )
        .select_related("customer")
        .annotate(exact=exact)
        .order_by("exact", "-received_on", "-id")
    )


def _payment_result(payment: Payment) -> SearchResult:
    parts = [payment.customer.name, f"{format_amount(payment.amount)} {payment.currency}"]
    if payment.reference:
        parts.append(payment.reference)
    if payment.is_void:
        parts.append("void")
    return SearchResult(str(payment), payment.get_absolute_url(), " · ".join(parts))


PAYMENTS = SearchProvider(
    key="payments",
    label="Payments",
    noun="payment",
    # Finance reads every payment, reps their own customers' (find_payments narrows it).
    permission=("receivables.view_payment", "receivables.view_own_payment"),
    find=find_payments,
    result=_payment_result,
    see_all_url=lambda query: f"{reverse('receivables:payment_list')}?{urlencode({'q': query})}",
)
