"""What receivables adds to crm's and billing's pages without them importing it
(registered in receivables.apps): the payment-risk card first on the deal and quote
pages, the customer 360's receivables panel and its "Credit hold" badge, and the
warning on a draft invoice of a customer on credit hold.

Each reads receivables.credit.receivables_figures: one query, whatever the history.
Who sees them: receivables.permissions.can_view_standing (reps: their own customers).
"""

from django.urls import reverse

from collaboration.permissions import can_request_approval
from crm.panels import Badge, Panel

from . import credit
from .permissions import can_set_holds, can_view_standing

CACHE = "_receivables_figures"


def _figures(request, customer) -> credit.ReceivablesFigures:
    """The customer's figures, read once per request (the badge reuses the panel's)."""
    cached = getattr(request, CACHE, None)
    if cached is None:
        cached = {}
        setattr(request, CACHE, cached)
    if customer.pk not in cached:
        cached[customer.pk] = credit.receivables_figures(customer)
    return cached[customer.pk]


def _gate_context(request, target, customer, kind: str, figures, *, action: str) -> dict:
    gate = credit.hold_gate(target, customer, kind, figures.credit)
    if gate is None:
        return {}
    return {
        "gate": gate,
        "gate_action": action,
        "gate_record_key": f"{type(target)._meta.label_lower}:{target.pk}",
        "may_ask": gate.pending is None and gate.approved is None and can_request_approval(request.user, target),
    }


# --- the customer 360 -----------------------------------------------------------------------


def customer_receivables_panel(request, customer):
    if not can_view_standing(request.user, customer):
        return None
    figures = _figures(request, customer)
    return {
        "figures": figures,
        "credit": figures.credit,
        "may_set_holds": can_set_holds(request.user),
        "set_hold_url": reverse("receivables:credit_hold_set", args=[customer.pk]),
        "panel_customer": customer,
    }


CUSTOMER_PANEL = Panel(
    "receivables",
    "Receivables",
    "receivables/panels/customer_receivables.html",
    customer_receivables_panel,
    order=5,
)


def credit_hold_badges(request, customer) -> list[Badge]:
    """ "Credit hold" in the header, for who sees the receivables panel (no query of its own)."""
    figures = getattr(request, CACHE, {}).get(customer.pk)
    if figures is None or not figures.credit.on_hold:
        return []
    return [Badge("Credit hold", "danger", title="; ".join(figures.credit.reasons), url="#receivables-panel")]


# --- the deal and the quote: the payment-risk card, first on the page -------------------------


def deal_risk_card(request, opportunity):
    customer = opportunity.customer
    if not can_view_standing(request.user, customer):
        return None
    figures = _figures(request, customer)
    context = {"figures": figures, "credit": figures.credit, "card_customer": customer}
    if not opportunity.stage.is_closed:
        context.update(
            _gate_context(request, opportunity, customer, credit.WIN_APPROVAL, figures, action="win this deal")
        )
    return context


DEAL_PANEL = Panel("payment_risk", "Payment risk", "receivables/panels/risk_card.html", deal_risk_card, column="top")


def quote_risk_card(request, quote):
    customer = quote.customer
    if not can_view_standing(request.user, customer):
        return None
    figures = _figures(request, customer)
    return {"figures": figures, "credit": figures.credit, "card_customer": customer}


QUOTE_PANEL = Panel("payment_risk", "Payment risk", "receivables/panels/risk_card.html", quote_risk_card, column="top")


# --- a draft invoice of a customer on hold ------------------------------------------------------


def invoice_hold_warning(request, invoice):
    if not invoice.is_draft or not can_view_standing(request.user, invoice.customer):
        return None
    status = credit.credit_status(invoice.customer)
    if not status.on_hold:
        return None
    figures = credit.ReceivablesFigures(credit=status)
    context = _gate_context(
        request, invoice, invoice.customer, credit.ISSUE_APPROVAL, figures, action="issue this invoice"
    )
    return {"credit": status, "card_customer": invoice.customer, **context}


INVOICE_PANEL = Panel(
    "credit_hold", "Credit hold", "receivables/panels/hold_gate.html", invoice_hold_warning, column="top"
)
