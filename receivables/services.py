"""Payments and their allocation to invoices. Pages, the API, tasks, the demo and tests
call these; nothing writes a Payment, an Allocation or an invoice's amount_paid another way.

- record_payment numbers the payment (PAY-<year>-<seq>) and, by default, allocates it to
  the customer's open invoices oldest due first; what is left is unapplied credit.
- allocate / unallocate / void_payment change the payment and its invoices in one
  transaction under row locks taken in one order — the payment, then its invoices by id —
  so concurrent allocations neither over-allocate nor deadlock.
- An invoice's amount_paid is the sum of its live allocations and approved write-offs;
  billing.services.settle turns it into the balance due and the status
  (issued → partially paid → paid).
- Allocations are reversed, never deleted: the ledger reads the same as of any past date.
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

import collaboration
from billing.models import Invoice
from billing.services import settle
from core.concurrency import StaleVersion, check_version
from core.money import format_amount, format_money
from core.numbering import next_number
from crm.models import Customer

from . import behaviour
from .models import ZERO, Allocation, Payment, WriteOff
from .permissions import (
    can_allocate,
    can_approve_write_off,
    can_record_payment,
    can_request_write_off,
    can_void_payment,
)

__all__ = [
    "LedgerConflict",
    "StaleVersion",
    "allocate",
    "allocation_plan",
    "auto_allocate",
    "decide_write_off",
    "ledger_changed",
    "record_payment",
    "request_write_off",
    "unallocate",
    "void_payment",
]

PAYMENT_SERIES = "PAY"
PAYMENT_FIELDS = frozenset({"received_on", "amount", "currency", "method", "reference", "notes"})
WRITE_OFF_APPROVAL = "receivables.write_off"
# A queued refresh not started within this long (a worker down) no longer stops another.
BEHAVIOUR_PENDING_SECONDS = 10 * 60


class LedgerConflict(ValidationError):
    """The payment or invoice is not in a state that allows this (void, paid, another
    customer's…): a message on pages, a 409 in the API."""


def _money(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (ArithmeticError, ValueError, TypeError):
        raise ValidationError({field: "Enter an amount such as 1250.00."}) from None
    if not amount.is_finite():
        raise ValidationError({field: "Enter an amount such as 1250.00."})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({field: "Amounts have at most two decimals."})
    if amount <= 0:
        raise ValidationError({field: "The amount must be more than zero."})
    if amount >= Decimal("1e12"):
        raise ValidationError({field: "The amount is too large."})
    return amount.quantize(Decimal("0.01"))


def _lock_payment(payment: Payment | int) -> Payment:
    pk = payment.pk if isinstance(payment, Payment) else payment
    return Payment.objects.select_for_update(of=("self",)).select_related("customer").get(pk=pk)


def _lock_invoices(ids: Iterable[int]) -> dict[int, Invoice]:
    """The invoices' rows, locked in id order (the order every service takes them in)."""
    ids = sorted(set(ids))
    locked = Invoice.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    return {invoice.pk: invoice for invoice in locked}


def _behaviour_pending_key(customer_id: int) -> str:
    return f"receivables:behaviour-pending:{customer_id}"


def ledger_changed(customer_id: int) -> None:
    """Refresh the customer's cached payment behaviour once the change is committed, in
    the worker: it costs more than issuing an invoice, and twenty payments allocated to
    one customer in a minute need one refresh, not twenty. While a refresh is queued
    and not started, later changes queue none (the flag is dropped as it starts, so a
    change committed after that gets a refresh of its own)."""

    def queue():
        if cache.add(_behaviour_pending_key(customer_id), 1, timeout=BEHAVIOUR_PENDING_SECONDS):
            from .tasks import refresh_behaviour

            refresh_behaviour.delay(customer_id)

    transaction.on_commit(queue)


def refresh_behaviour(customer_id: int) -> None:
    """The worker's side of ledger_changed: drop the flag first, then measure."""
    cache.delete(_behaviour_pending_key(customer_id))
    behaviour.refresh(customer_id)


def _pay(invoice: Invoice, amount: Decimal) -> None:
    """Add `amount` (negative to take it back) to what is paid on a locked invoice."""
    invoice.amount_paid += amount
    settle(invoice)
    invoice.version += 1
    invoice.save(update_fields=["amount_paid", "balance_due", "status", "version", "updated_at"])


def _open_invoices(customer: Customer, currency: str):
    """The customer's open invoices in `currency`, oldest due first (the order auto-allocation pays them)."""
    return Invoice.objects.open().filter(customer=customer, currency=currency).order_by("due_date", "issue_date", "pk")


def allocation_plan(customer: Customer, currency: str, amount: Decimal) -> list[tuple[Invoice, Decimal]]:
    """How `amount` would be spread over the customer's open invoices, oldest due first
    (a read: the preview of "Record payment", and what auto-allocation does under locks)."""
    plan: list[tuple[Invoice, Decimal]] = []
    left = amount
    for invoice in _open_invoices(customer, currency).only("pk", "number", "balance_due", "due_date", "issue_date"):
        if left <= 0:
            break
        share = min(left, invoice.balance_due)
        plan.append((invoice, share))
        left -= share
    return plan


def _apply(payment: Payment, requested: list[tuple[int, Decimal]], by) -> list[Allocation]:
    """Allocate from a locked payment to invoices (ids), all or nothing."""
    if payment.is_void:
        raise LedgerConflict(f"Payment {payment.number} is void: nothing can be allocated from it.", code="void")
    wanted: dict[int, Decimal] = {}
    for invoice_id, amount in requested:
        wanted[invoice_id] = wanted.get(invoice_id, ZERO) + amount
    invoices = _lock_invoices(wanted)
    if len(invoices) != len(wanted):
        raise ValidationError({"invoice": "One of the invoices does not exist."})
    total = sum(wanted.values(), ZERO)
    if total > payment.unapplied:
        raise ValidationError(
            {
                "amount": f"Only {format_money(payment.unapplied, payment.currency)} of payment {payment.number} "
                f"is left to allocate; {format_money(total, payment.currency)} was asked for."
            }
        )
    made = []
    for invoice_id, amount in wanted.items():
        invoice = invoices[invoice_id]
        if invoice.customer_id != payment.customer_id:
            raise ValidationError({"invoice": f"Invoice {invoice} is another customer's."})
        if invoice.currency != payment.currency:
            raise ValidationError(
                {"invoice": f"Invoice {invoice} is in {invoice.currency}; the payment is in {payment.currency}."}
            )
        if invoice.status not in (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID):
            state = "a draft" if invoice.is_draft else invoice.get_status_display().lower()
            raise LedgerConflict(f"Invoice {invoice} has nothing to pay: it is {state}.", code="not_open")
        if amount > invoice.balance_due:
            raise ValidationError(
                {
                    "amount": f"Invoice {invoice} has {format_money(invoice.balance_due, invoice.currency)} "
                    f"left to pay; {format_money(amount, invoice.currency)} is more than that."
                }
            )
        _pay(invoice, amount)
        made.append(
            Allocation(
                payment=payment,
                invoice=invoice,
                amount=amount,
                applied_on=max(payment.received_on, invoice.issue_date),
                created_by=by,
            )
        )
    Allocation.objects.bulk_create(made)
    payment.amount_allocated += total
    payment.unapplied -= total
    payment.version += 1
    payment.save(update_fields=["amount_allocated", "unapplied", "version", "updated_at"])
    ledger_changed(payment.customer_id)
    return made


def _facts(payment: Payment) -> dict[str, Any]:
    return {"number": payment.number, "amount": payment.amount, "currency": payment.currency}


def _applied_to(allocations: list[Allocation]) -> str:
    # Plain text: the feed escapes every value it shows.
    return (
        ", ".join(f"{a.invoice.number} ({format_amount(a.amount)} {a.invoice.currency})" for a in allocations)
        or "no invoice"
    )


def record_payment(
    *, customer: Customer, by, data: dict[str, Any], allocations: list[tuple[Invoice | int, Any]] | None = None
) -> Payment:
    """Record money received from `customer`; `data` holds received_on, amount, method,
    reference, notes (currency defaults to the customer's). Without `allocations` it is
    allocated oldest due first; with them ([(invoice, amount)], possibly empty) exactly so."""
    if not can_record_payment(by):
        raise PermissionDenied("Only finance records payments.")
    unknown = sorted(set(data) - PAYMENT_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})
    payment = Payment(customer=customer, currency=customer.currency, created_by=by)
    for name, value in data.items():
        setattr(payment, name, value)
    payment.amount = _money(payment.amount, "amount")
    if payment.received_on and payment.received_on > timezone.localdate():
        raise ValidationError({"received_on": "A payment cannot be received in the future."})
    payment.unapplied = payment.amount
    payment.full_clean(exclude=["number"], validate_constraints=False)
    with transaction.atomic():
        payment.number = next_number(PAYMENT_SERIES, payment.received_on.year)
        payment.save()
        if allocations is None:
            plan = [
                (invoice.pk, share) for invoice, share in allocation_plan(customer, payment.currency, payment.amount)
            ]
        else:
            plan = [(_invoice_id(invoice), _money(amount, "amount")) for invoice, amount in allocations]
        made = _apply(payment, plan, by) if plan else []
        if not plan:
            ledger_changed(customer.pk)
        collaboration.publish(
            payment,
            "payment.received",
            actor=by,
            data={**_facts(payment), "method": payment.get_method_display(), "applied": _applied_to(made)},
            also_on=[allocation.invoice for allocation in made],
        )
    return payment


def _invoice_id(invoice: Invoice | int) -> int:
    try:
        return invoice.pk if isinstance(invoice, Invoice) else int(invoice)
    except (TypeError, ValueError):
        raise ValidationError({"invoice": "Choose an invoice."}) from None


@transaction.atomic
def allocate(
    *, payment: Payment, by, allocations: list[tuple[Invoice | int, Any]], expected_version: int | None = None
) -> list[Allocation]:
    """Allocate parts of a payment's unapplied amount to invoices ([(invoice, amount)]),
    all or none; never more than the payment has left or an invoice's balance due."""
    if not can_allocate(by):
        raise PermissionDenied("Only finance allocates payments.")
    if not allocations:
        raise ValidationError({"allocations": "Choose at least one invoice and an amount."})
    requested = [(_invoice_id(invoice), _money(amount, "amount")) for invoice, amount in allocations]
    payment = _lock_payment(payment)
    check_version(payment, expected_version)
    made = _apply(payment, requested, by)
    collaboration.publish(
        payment,
        "payment.allocated",
        actor=by,
        data={**_facts(payment), "applied": _applied_to(made), "unapplied": payment.unapplied},
        also_on=[allocation.invoice for allocation in made],
    )
    return made


@transaction.atomic
def auto_allocate(*, payment: Payment, by) -> list[Allocation]:
    """Allocate what is left of a payment to its customer's open invoices, oldest due first."""
    if not can_allocate(by):
        raise PermissionDenied("Only finance allocates payments.")
    payment = _lock_payment(payment)
    if payment.is_void:
        raise LedgerConflict(f"Payment {payment.number} is void: nothing can be allocated from it.", code="void")
    plan = allocation_plan(payment.customer, payment.currency, payment.unapplied)
    if not plan:
        return []
    made = _apply(payment, [(invoice.pk, share) for invoice, share in plan], by)
    collaboration.publish(
        payment,
        "payment.allocated",
        actor=by,
        data={**_facts(payment), "applied": _applied_to(made), "unapplied": payment.unapplied},
        also_on=[allocation.invoice for allocation in made],
    )
    return made


def _reverse(allocations: list[Allocation], invoices: dict[int, Invoice], by, today) -> None:
    for allocation in allocations:
        _pay(invoices[allocation.invoice_id], -allocation.amount)
        allocation.reversed_on = max(today, allocation.applied_on)
        allocation.reversed_by = by
        allocation.save(update_fields=["reversed_on", "reversed_by"])


@transaction.atomic
def unallocate(*, allocation: Allocation, by) -> Allocation:
    """Take an allocation back: the invoice owes it again, the payment has it unapplied."""
    if not can_allocate(by):
        raise PermissionDenied("Only finance unallocates payments.")
    payment = _lock_payment(allocation.payment_id)
    invoices = _lock_invoices([allocation.invoice_id])
    allocation = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if not allocation.is_live:
        raise LedgerConflict("This allocation was taken back already.", code="reversed")
    _reverse([allocation], invoices, by, timezone.localdate())
    payment.amount_allocated -= allocation.amount
    payment.unapplied += allocation.amount
    payment.version += 1
    payment.save(update_fields=["amount_allocated", "unapplied", "version", "updated_at"])
    invoice = invoices[allocation.invoice_id]
    collaboration.publish(
        payment,
        "payment.unallocated",
        actor=by,
        data={**_facts(payment), "invoice": invoice.number, "taken": allocation.amount},
        also_on=[invoice],
    )
    ledger_changed(payment.customer_id)
    return allocation


@transaction.atomic
def void_payment(*, payment: Payment, by, reason: str, expected_version: int | None = None) -> Payment:
    """Void a payment recorded in error (a bounced cheque…): its allocations are reversed,
    its invoices owe again, and the record stays with its number."""
    if not can_void_payment(by):
        raise PermissionDenied("Only finance voids payments.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the payment is void."})
    payment = _lock_payment(payment)
    check_version(payment, expected_version)
    if payment.is_void:
        raise LedgerConflict(f"Payment {payment.number} is void already.", code="void")
    live = list(payment.allocations.live().select_for_update().order_by("invoice_id", "pk"))
    invoices = _lock_invoices(allocation.invoice_id for allocation in live)
    today = timezone.localdate()
    _reverse(live, invoices, by, today)
    payment.status = Payment.Status.VOID
    payment.voided_on = max(today, payment.received_on)
    payment.void_reason = reason[:200]
    payment.amount_allocated = ZERO
    payment.unapplied = ZERO
    payment.version += 1
    payment.save()
    collaboration.publish(
        payment,
        "payment.voided",
        actor=by,
        data={**_facts(payment), "reason": payment.void_reason},
        also_on=list(invoices.values()),
    )
    ledger_changed(payment.customer_id)
    return payment


# --- Write-offs ----------------------------------------------------------------------


def write_off_limit() -> Decimal:
    return Decimal(str(settings.RECEIVABLES["WRITE_OFF_LIMIT"]))


@transaction.atomic
def request_write_off(*, invoice: Invoice, by, reason: str) -> WriteOff:
    """Ask a finance manager to write off an invoice's small remaining balance."""
    if not can_request_write_off(by):
        raise PermissionDenied("Only finance asks for write-offs.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the balance should be written off."})
    invoice = _lock_invoices([invoice.pk])[invoice.pk]
    if invoice.status not in (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID):
        raise LedgerConflict(f"Invoice {invoice} has no balance to write off.", code="not_open")
    limit = write_off_limit()
    if invoice.balance_due > limit:
        raise ValidationError(
            f"Only balances up to {format_money(limit, invoice.currency)} are written off; "
            f"{invoice} has {format_money(invoice.balance_due, invoice.currency)} left: credit it instead."
        )
    if invoice.write_offs.filter(status=WriteOff.Status.PENDING).exists():
        raise LedgerConflict(f"A write-off of {invoice} is awaiting approval already.", code="pending")
    write_off = WriteOff.objects.create(
        invoice=invoice, amount=invoice.balance_due, reason=reason[:200], requested_by=by
    )
    collaboration.request_approval(
        target=invoice,
        kind=WRITE_OFF_APPROVAL,
        by=by,
        reason=f"Write off {format_money(write_off.amount, invoice.currency)}: {write_off.reason}",
    )
    return write_off


def decide_write_off(approval, *, by) -> None:
    """The approval's callback (collaboration calls it in the decision's transaction):
    an approved write-off pays what it was asked for, if the balance is still that."""
    if not can_approve_write_off(by):
        raise PermissionDenied("Only finance managers approve write-offs.")
    invoice = _lock_invoices([approval.target_id])[approval.target_id]
    write_off = invoice.write_offs.select_for_update().filter(status=WriteOff.Status.PENDING).first()
    if write_off is None:
        return
    if approval.status != approval.Status.APPROVED:
        write_off.status = WriteOff.Status.REJECTED
        write_off.save(update_fields=["status"])
        return
    if write_off.amount > invoice.balance_due:
        raise LedgerConflict(
            f"{invoice} now owes {format_money(invoice.balance_due, invoice.currency)}, less than the "
            f"{format_money(write_off.amount, invoice.currency)} asked to write off: reject this and ask again."
        )
    _pay(invoice, write_off.amount)
    write_off.status = WriteOff.Status.APPROVED
    write_off.written_off_on = timezone.localdate()
    write_off.save(update_fields=["status", "written_off_on"])
    collaboration.publish(
        invoice,
        "invoice.written_off",
        actor=by,
        data={
            "number": invoice.number,
            "amount": write_off.amount,
            "currency": invoice.currency,
            "reason": write_off.reason,
        },
    )
    ledger_changed(invoice.customer_id)
