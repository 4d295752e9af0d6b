"""Promises to pay: taken by finance, kept or broken by the daily check."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

import collaboration
from billing.models import Invoice
from core.money import format_amount, round_money
from crm.models import Customer

from .. import aging
from ..models import ZERO, PaymentPromise
from ..permissions import can_take_promises
from .base import DunningConflict, on_invoice, parse_amount


def _owed(customer: Customer, invoice: Invoice | None, currency: str) -> Decimal:
    if invoice is not None:
        return invoice.balance_due
    total = Invoice.objects.open().filter(customer=customer, currency=currency).aggregate(s=Sum("balance_due"))["s"]
    return round_money(Decimal(total or 0))


@transaction.atomic
def take_promise(
    *, customer: Customer, by, amount, promised_for: date, invoice: Invoice | None = None, on: date | None = None
) -> PaymentPromise:
    """Record the customer's promise to pay `amount` by `promised_for` (today or later;
    never more than is owed on the invoice, or on the account in the customer's
    currency). Dunning waits until that day (holds_for)."""
    if not can_take_promises(by):
        raise PermissionDenied("Only finance takes promises to pay.")
    on = on or timezone.localdate()
    if not isinstance(promised_for, date):
        raise ValidationError({"promised_for": "Enter the day the customer promised to pay by."})
    if promised_for < on:
        raise ValidationError({"promised_for": "A promise is for today or a later day, not the past."})
    amount = parse_amount(amount)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if invoice is not None:
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        if invoice.customer_id != customer.pk:
            raise ValidationError({"invoice": f"Invoice {invoice.number} is another customer's."})
    currency = invoice.currency if invoice is not None else customer.currency
    owed = _owed(customer, invoice, currency)
    if amount > owed:
        what = f"invoice {invoice.number}" if invoice is not None else "the account"
        raise ValidationError(
            {"amount": f"Only {format_amount(owed)} {currency} is owed on {what}: the promise cannot be larger."}
        )
    promise = PaymentPromise.objects.create(
        customer=customer,
        invoice=invoice,
        amount=amount,
        currency=currency,
        promised_for=promised_for,
        balance_when_taken=owed,
        taken_by=by,
    )
    collaboration.publish(
        promise,
        "promise.taken",
        actor=by,
        data={"amount": amount, "currency": currency, "by": promised_for.isoformat(), "invoice": on_invoice(invoice)},
        also_on=[invoice] if invoice is not None else (),
    )
    return promise


@transaction.atomic
def cancel_promise(*, promise: PaymentPromise, by) -> PaymentPromise:
    """Withdraw an active promise (taken in error): dunning resumes."""
    if not can_take_promises(by):
        raise PermissionDenied("Only finance changes promises to pay.")
    promise = PaymentPromise.objects.select_for_update().get(pk=promise.pk)
    if promise.status != PaymentPromise.Status.ACTIVE:
        raise DunningConflict("This promise is not active.", code="not_active")
    promise.status = PaymentPromise.Status.CANCELLED
    promise.save(update_fields=["status"])
    collaboration.publish(promise, "promise.cancelled", actor=by, data={"amount": promise.amount})
    return promise


def _owed_at(day: date | None, customer_ids: set[int]) -> tuple[dict, dict]:
    """What the customers owed per (customer, currency) and per invoice: now (day None,
    the balances due) or at the end of `day` (from the ledger, receivables.aging). One query."""
    invoices = Invoice.objects.filter(customer_id__in=customer_ids)
    if day is None:
        rows = invoices.open().annotate(owed=F("balance_due"))
    else:
        rows = aging.invoices_as_of(day, invoices).annotate(owed=F("open_amount"))
    per_account: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    per_invoice: dict[int, Decimal] = {}
    for row in rows.order_by().values("pk", "customer_id", "currency", "owed"):
        owed = round_money(Decimal(row["owed"] or 0))  # SQLite computes the ledger in floats
        per_invoice[row["pk"]] = owed
        per_account[(row["customer_id"], row["currency"])] += owed
    return per_account, per_invoice


def evaluate_promises(*, as_of: date) -> dict[str, int]:
    """The daily check of active promises: kept once what is owed (on the invoice, or on
    the account in the promise's currency) is down by the promised amount from what was
    owed when it was taken; broken when its day has passed and what was owed at the end
    of that day (read from the ledger, so a late evaluation or a payment after the day does
    not count) was not down by that much. The feed says either; a broken promise says
    dunning resumes. One read for today's balances and one per promised day passed."""
    promises = list(PaymentPromise.objects.active().select_related("invoice"))
    if not promises:
        return {"kept": 0, "broken": 0}
    customer_ids = {promise.customer_id for promise in promises}
    owed_on = {None: _owed_at(None, customer_ids)}
    for day in {promise.promised_for for promise in promises if promise.promised_for < as_of}:
        owed_on[day] = _owed_at(day, customer_ids)
    counts = {"kept": 0, "broken": 0}
    for promise in promises:
        day = promise.promised_for if promise.promised_for < as_of else None
        per_account, per_invoice = owed_on[day]
        if promise.invoice_id is not None:
            owed = per_invoice.get(promise.invoice_id, ZERO)
        else:
            owed = per_account.get((promise.customer_id, promise.currency), ZERO)
        if owed <= promise.balance_when_taken - promise.amount:
            outcome = PaymentPromise.Status.KEPT
        elif day is not None:
            outcome = PaymentPromise.Status.BROKEN
        else:
            continue  # its day has not passed yet
        with transaction.atomic():
            if not PaymentPromise.objects.filter(pk=promise.pk, status=PaymentPromise.Status.ACTIVE).update(
                status=outcome, evaluated_on=as_of
            ):
                continue  # evaluated or cancelled meanwhile
            verb = "promise.kept" if outcome == PaymentPromise.Status.KEPT else "promise.broken"
            collaboration.publish(
                promise,
                verb,
                data={
                    "amount": promise.amount,
                    "currency": promise.currency,
                    "by": promise.promised_for.isoformat(),
                    "invoice": on_invoice(promise.invoice),
                },
            )
        counts[outcome] += 1
    return counts
