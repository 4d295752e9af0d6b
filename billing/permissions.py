"""Who may do what in billing: the one place the services, pages, admin and API ask.

- Every role reads invoices, credit notes, plans and runs.
- Finance clerks draft, edit drafts, issue, send and credit invoices, and run billing.
- Finance managers also void invoices and keep the billing plans.
- Sales reps (and managers) may press "Invoice this deal" on their own won deals,
  which makes a draft; they never edit, issue or send it.
"""


def can_view_invoices(user) -> bool:
    return user.is_authenticated and user.has_perm("billing.view_invoice")


def can_create_invoice(user) -> bool:
    return user.is_authenticated and user.has_perm("billing.add_invoice")


def can_invoice_deal(user, opportunity) -> bool:
    """Draft an invoice from a won deal: finance, or the deal's own sales owner."""
    if not user.is_authenticated:
        return False
    return user.has_perm("billing.add_invoice") or (
        user.has_perm("billing.invoice_own_deal") and opportunity.owner_id == user.pk
    )


def can_edit_draft(user, invoice) -> bool:
    return user.is_authenticated and user.has_perm("billing.change_invoice") and invoice.is_draft


def can_issue(user) -> bool:
    return user.is_authenticated and user.has_perm("billing.issue_invoice")


def can_send(user) -> bool:
    return user.is_authenticated and user.has_perm("billing.send_invoice")


def can_void(user) -> bool:
    return user.is_authenticated and user.has_perm("billing.void_invoice")


def can_credit(user) -> bool:
    return user.is_authenticated and user.has_perm("billing.add_creditnote")


def can_manage_plans(user) -> bool:
    return user.is_authenticated and user.has_perm("billing.change_billingplan")


def can_run_billing(user) -> bool:
    return user.is_authenticated and user.has_perm("billing.add_billingrun")
