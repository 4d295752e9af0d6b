"""The customer 360's small Statement panel (registered in receivables.apps): a link to
the customer's statement of open items. It reads nothing from the database, so the
360's query count stays what it was."""

from django.urls import reverse

from crm.panels import Panel

from .permissions import can_view_standing


def customer_statement_panel(request, customer):
    if not can_view_standing(request.user, customer):
        return None
    return {"statement_url": reverse("receivables:customer_statement", args=[customer.pk])}


# After receivables' own panel (order 5), before billing's invoices.
CUSTOMER_PANEL = Panel(
    "statement",
    "Statement",
    "receivables/panels/customer_statement.html",
    customer_statement_panel,
    order=6,
)
