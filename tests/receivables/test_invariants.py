"""The ledger's invariants over random sequences of issue, pay, allocate, unallocate,
credit and void (hypothesis). Whatever is refused leaves nothing half-written, and after
every step:

- a payment's live allocations = its allocated amount ≤ its amount;
- an invoice's paid amount = its live allocations + write-offs, and 0 ≤ balance ≤ total;
- per customer, what was billed less credits, payments and write-offs = the open invoice
  balances less the unapplied credit (the cash view and the invoice view agree);
- no invoice is paid more than its total (ERPNext #32471), no allocation counted twice.
"""

import contextlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services as billing
from billing.models import CreditNote, Invoice
from receivables import services
from receivables.models import Allocation, Payment, WriteOff
from tests.factories import CustomerFactory

D = Decimal
START = date(2026, 1, 5)

cents = st.integers(min_value=1, max_value=200_000).map(lambda c: D(c) / 100)
pick = st.integers(min_value=0, max_value=20)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), pick, cents),
        st.tuples(st.just("pay"), pick, cents, st.booleans()),
        st.tuples(st.just("allocate"), pick, pick, cents),
        st.tuples(st.just("auto"), pick),
        st.tuples(st.just("unallocate"), pick),
        st.tuples(st.just("credit"), pick),
        st.tuples(st.just("void_invoice"), pick),
        st.tuples(st.just("void_payment"), pick),
    ),
    min_size=1,
    max_size=25,
)


class Rollback(Exception):
    """Ends an example: everything it wrote is rolled back."""


def total(queryset, field="amount") -> Decimal:
    return queryset.aggregate(s=Sum(field))["s"] or D("0")


def assert_invariants(customers):
    for payment in Payment.objects.all():
        live = total(Allocation.objects.live().filter(payment=payment))
        assert payment.amount_allocated == live <= payment.amount
        assert payment.unapplied == (payment.amount - live if payment.status == "posted" else D("0"))
    for invoice in Invoice.objects.exclude(status="draft"):
        live = total(Allocation.objects.live().filter(invoice=invoice))
        written_off = total(WriteOff.objects.filter(invoice=invoice, status="approved"))
        assert invoice.amount_paid == live + written_off
        assert D("0") <= invoice.balance_due <= invoice.total
        assert invoice.balance_due == invoice.total - invoice.amount_credited - invoice.amount_paid
        assert invoice.amount_credited == total(CreditNote.objects.filter(invoice=invoice), "total")
    for customer in customers:
        billed = total(Invoice.objects.issued().filter(customer=customer), "total")
        credited = total(CreditNote.objects.filter(customer=customer), "total")
        paid = total(Payment.objects.posted().filter(customer=customer))
        written_off = total(WriteOff.objects.filter(invoice__customer=customer, status="approved"))
        open_balance = total(Invoice.objects.open().filter(customer=customer), "balance_due")
        unapplied = total(Payment.objects.posted().filter(customer=customer), "unapplied")
        # Credit notes on invoices voided later do not exist (void needs nothing credited).
        assert billed - credited - paid - written_off == open_balance - unapplied


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_the_ledger_holds_whatever_happens(steps, clerk, finance_manager):
    try:
        with transaction.atomic():
            customers = [CustomerFactory(currency="EUR"), CustomerFactory(currency="EUR")]
            invoices, payments = [], []
            day = START
            for step in steps:
                day += timedelta(days=3)
                # A refusal (LedgerConflict and InvoiceConflict are ValidationErrors) is fine;
                # what it must not do is leave anything half-written.
                with contextlib.suppress(ValidationError):
                    apply(step, customers, invoices, payments, day, clerk, finance_manager)
                assert_invariants(customers)
            raise Rollback
    except Rollback:
        pass


def apply(step, customers, invoices, payments, day, clerk, finance_manager):
    kind, *args = step

    def nth(items, index):
        if not items:
            raise ValidationError("nothing to pick")
        return items[index % len(items)]

    if kind == "issue":
        customer = customers[args[0] % 2]
        draft = billing.create_invoice(
            by=clerk, customer=customer, lines=[{"description": "Work", "quantity": "1", "unit_price": str(args[1])}]
        )
        invoices.append(billing.issue_invoice(invoice=draft, by=clerk, on=day - timedelta(days=40), render=False))
    elif kind == "pay":
        customer = customers[args[0] % 2]
        payments.append(
            services.record_payment(
                customer=customer,
                by=clerk,
                data={"received_on": min(day, date.today()), "amount": args[1]},
                allocations=None if args[2] else [],
            )
        )
    elif kind == "allocate":
        payment, invoice = nth(payments, args[0]), nth(invoices, args[1])
        services.allocate(payment=payment, by=clerk, allocations=[(invoice.pk, args[2])])
    elif kind == "auto":
        services.auto_allocate(payment=nth(payments, args[0]), by=clerk)
    elif kind == "unallocate":
        services.unallocate(allocation=nth(list(Allocation.objects.order_by("pk")), args[0]), by=clerk)
    elif kind == "credit":
        invoice = Invoice.objects.get(pk=nth(invoices, args[0]).pk)
        billing.credit_invoice(invoice=invoice, by=clerk, reason="Correction")
    elif kind == "void_invoice":
        billing.void_invoice(invoice=nth(invoices, args[0]), by=finance_manager, reason="Wrong customer")
    elif kind == "void_payment":
        services.void_payment(payment=nth(payments, args[0]), by=clerk, reason="Bounced")
