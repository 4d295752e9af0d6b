"""Who may do what in receivables: the one place the services, pages, admin and API ask.

- Finance reads every payment, allocation and customer's standing; sales managers too.
- Sales reps read the payments and standing of their own customers (the risk card).
- Only finance records, allocates, unallocates and voids payments, and asks for write-offs.
- Finance managers approve write-offs and set or release manual credit holds.
"""


def can_view_payments(user) -> bool:
    return user.is_authenticated and (
        user.has_perm("receivables.view_payment") or user.has_perm("receivables.view_own_payment")
    )


def can_view_payment(user, payment) -> bool:
    if not user.is_authenticated:
        return False
    if user.has_perm("receivables.view_payment"):
        return True
    return user.has_perm("receivables.view_own_payment") and payment.customer.owner_id == user.pk


def can_view_standing(user, customer) -> bool:
    """Balance, aging, behaviour, credit and holds of one customer."""
    if not user.is_authenticated:
        return False
    if user.has_perm("receivables.view_payment"):
        return True
    return user.has_perm("receivables.view_own_payment") and customer.owner_id == user.pk


def can_view_book(user) -> bool:
    """The whole book: aging of every customer, every payment."""
    return user.is_authenticated and user.has_perm("receivables.view_payment")


def can_record_payment(user) -> bool:
    return user.is_authenticated and user.has_perm("receivables.add_payment")


def can_allocate(user) -> bool:
    return user.is_authenticated and user.has_perm("receivables.allocate_payment")


def can_void_payment(user) -> bool:
    return user.is_authenticated and user.has_perm("receivables.void_payment")


def can_request_write_off(user) -> bool:
    return user.is_authenticated and user.has_perm("receivables.add_writeoff")


def can_approve_write_off(user) -> bool:
    return user.is_authenticated and user.has_perm("receivables.approve_writeoff")


def can_set_holds(user) -> bool:
    return user.is_authenticated and user.has_perm("receivables.add_credithold")


def can_manage_statements(user) -> bool:
    """Send statements and choose who gets one monthly."""
    return user.is_authenticated and user.has_perm("receivables.change_standing")


# --- dunning ---
# Clerks run dunning, log calls, take promises and set dunning holds; finance managers edit
# the policies; reps and clerks open disputes (a rep on their own customers' invoices);
# finance resolves them. The account owner completes their own collection tasks and logs
# calls with their customers; clerks log calls with any customer.


def can_run_dunning(user) -> bool:
    return user.is_authenticated and user.has_perm("receivables.run_dunning")


def can_edit_dunning_policies(user) -> bool:
    return user.is_authenticated and user.has_perm("receivables.change_dunningpolicy")


def can_set_dunning_holds(user) -> bool:
    return user.is_authenticated and user.has_perm("receivables.add_dunninghold")


def can_take_promises(user) -> bool:
    return user.is_authenticated and user.has_perm("receivables.add_paymentpromise")


def can_open_dispute(user, customer) -> bool:
    """Finance on any invoice; a rep on their own customers' invoices."""
    if not (user.is_authenticated and user.has_perm("receivables.add_dispute")):
        return False
    return user.has_perm("receivables.view_payment") or customer.owner_id == user.pk


def can_resolve_disputes(user) -> bool:
    return user.is_authenticated and user.has_perm("receivables.change_dispute")


def can_complete_task(user, task) -> bool:
    """The owner the call was asked of, or finance (clerks log calls)."""
    if not user.is_authenticated:
        return False
    return task.owner_id == user.pk or user.has_perm("receivables.change_collectiontask")


def can_log_call(user, customer) -> bool:
    """A call with the customer, asked for or not: its account owner, or finance (clerks
    log calls)."""
    if not user.is_authenticated:
        return False
    return customer.owner_id == user.pk or user.has_perm("receivables.change_collectiontask")


def can_view_disputes(user) -> bool:
    """The disputes list: finance (and sales managers) read every dispute; a rep reads
    their own customers' (Dispute.objects.visible_to)."""
    return user.is_authenticated and user.has_perm("receivables.view_dispute")


def can_view_dispute(user, dispute) -> bool:
    if not can_view_disputes(user):
        return False
    return user.has_perm("receivables.view_payment") or dispute.invoice.customer.owner_id == user.pk


def can_view_dunning_policies(user) -> bool:
    """The policies and their levels, read-only (finance and sales managers)."""
    return user.is_authenticated and user.has_perm("receivables.view_dunningpolicy")


def can_view_dunning(user) -> bool:
    """Runs, notices and the worklist of the whole book."""
    return user.is_authenticated and user.has_perm("receivables.view_dunningrun")
