"""What billing adds to crm's pages without crm importing it (registered in
billing.apps): the customer 360's invoices panel, the won deal's invoicing panel, and
invoices in the header's global search.

Each panel reads a bounded slice: one GROUP BY for the figures, one LIMITed query for
the rows, so a customer with ten years of invoices costs what a new one does.
"""

from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When
from django.urls import reverse
from django.utils import timezone

from core.money import format_amount
from core.search import SearchProvider, SearchResult
from crm.panels import Panel, ShownPanel, shown_in
from crm.search import customer_ids_named

from . import services
from .forms import DealInvoiceForm
from .models import Invoice
from .permissions import can_create_invoice, can_invoice_deal

OPEN = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
INVOICES_SHOWN = 5
ZERO = Decimal("0.00")


# --- the customer 360 ------------------------------------------------------------------


def customer_invoice_figures(customer, today) -> list[dict]:
    """Per currency: how many invoices, billed this year (issued, not void) and the
    balance due (still open), and how many are overdue: one GROUP BY."""
    issued_this_year = Q(status__in=Invoice.OPEN_OR_SETTLED, issue_date__gte=today.replace(month=1, day=1))
    return list(
        Invoice.objects.filter(customer=customer)
        .order_by()
        .values("currency")
        .annotate(
            count=Count("id"),
            billed=Sum("total", filter=issued_this_year, default=ZERO),
            balance=Sum("balance_due", filter=Q(status__in=OPEN), default=ZERO),
            overdue=Count("id", filter=Q(status__in=OPEN, due_date__lt=today)),
        )
        .order_by("currency")
    )


def customer_invoices_panel(request, customer):
    today = timezone.localdate()
    figures = customer_invoice_figures(customer, today)
    may_create = can_create_invoice(request.user)
    if not figures and not may_create:
        return None
    invoices = []
    if figures:
        # The open ones first, the longest due at the top; then the latest of the rest.
        open_first = Case(When(status__in=OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
        open_due = Case(When(status__in=OPEN, then=F("due_date")), default=None)
        invoices = list(
            Invoice.objects.filter(customer=customer).order_by(open_first, open_due.asc(), "-issue_date", "-id")[
                :INVOICES_SHOWN
            ]
        )
    return {
        "invoice_figures": figures,
        "invoice_count": sum(row["count"] for row in figures),
        "panel_invoices": invoices,
        "invoice_list_url": f"{reverse('billing:invoice_list')}?{urlencode({'customer': customer.pk})}",
        "new_invoice_url": f"{reverse('billing:invoice_create')}?{urlencode({'customer': customer.pk})}",
        "may_create_invoice": may_create,
        "this_year": today.year,
        "today": today,
    }


CUSTOMER_PANEL = Panel(
    "invoices",
    "Invoices",
    "billing/panels/customer_invoices.html",
    customer_invoices_panel,
    order=35,
    permission="billing.view_invoice",
    lazy=True,  # a key account's invoices cost more than the rest of the 360: after the page
)


# --- the won deal's page ------------------------------------------------------------------


def deal_invoicing_panel(request, opportunity):
    """How much of a won deal is invoiced and what is left, its invoices, and the
    buttons to invoice it (for who may); nothing on a deal that is not won."""
    if not opportunity.stage.is_won:
        return None
    invoices = list(opportunity.invoices.order_by("-id"))
    invoiced = services.invoiced_net(opportunity) if invoices else ZERO
    left = max(opportunity.amount - invoiced, ZERO)
    return {
        "deal_invoices": invoices,
        "invoiced": invoiced,
        "left_to_invoice": left,
        "invoiced_percent": int(invoiced * 100 / opportunity.amount) if opportunity.amount else 0,
        "may_invoice_deal": can_invoice_deal(request.user, opportunity) and left > 0,
        "percent_form": DealInvoiceForm(),
    }


DEAL_PANEL = Panel(
    "invoicing",
    "Invoicing",
    "billing/panels/deal_invoicing.html",
    deal_invoicing_panel,
    order=10,
    permission="billing.view_invoice",
)


# --- the invoice's page: panels of the apps above billing (issue 10) ------------------------
# receivables adds a "top" panel on a draft whose customer is on credit hold. Same
# contract as crm.panels: `context(request, invoice)` returns a dict or None.

_invoice_panels: dict[str, Panel] = {}


def register_invoice_panel(panel: Panel) -> None:
    """Add a panel to the invoice page (again with the same key replaces it)."""
    _invoice_panels[panel.key] = panel


def unregister_invoice_panel(key: str) -> None:
    _invoice_panels.pop(key, None)


def shown_invoice_panels(request, invoice) -> dict[str, list[ShownPanel]]:
    return shown_in(_invoice_panels, request, invoice)


# --- global search ----------------------------------------------------------------------


def find_invoices(user, query: str):
    """Invoices whose number or customer's name holds the query: an exact number
    first, then the latest."""
    query = query.strip()
    if not query:
        return Invoice.objects.none()
    exact = Case(When(number__iexact=query, then=Value(0)), default=Value(1), output_field=IntegerField())
    return (
        Invoice.objects.visible_to(user)
        .filter(Q(number__icontains=query) | Q(customer_id__in=customer_ids_named(query)))
        .select_related("customer")
        .annotate(exact=exact)
        .order_by("exact", "-issue_date", "-id")
    )


def _invoice_result(invoice: Invoice) -> SearchResult:
    # Plain text (the template escapes it): the amount in the reader's format, then the code.
    detail = " · ".join(
        (invoice.customer.name, invoice.get_status_display(), f"{format_amount(invoice.total)} {invoice.currency}")
    )
    return SearchResult(str(invoice), invoice.get_absolute_url(), detail)


INVOICES = SearchProvider(
    key="invoices",
    label="Invoices",
    noun="invoice",
    permission="billing.view_invoice",
    find=find_invoices,
    result=_invoice_result,
    see_all_url=lambda query: f"{reverse('billing:invoice_list')}?{urlencode({'q': query})}",
)
