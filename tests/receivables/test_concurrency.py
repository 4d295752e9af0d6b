"""Allocation under real concurrency (PostgreSQL): 50 threads allocating to the same
invoice from their own payments, 50 threads allocating from the same payment to their
own invoices, and a mix with unallocations and a void, never over-allocate and never
deadlock (every service locks the payment, then its invoices by id)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection
from django.db.models import Sum

from billing import services as billing
from billing.models import Invoice
from receivables import services
from receivables.models import Allocation, Payment
from tests.concurrency import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 50
D = Decimal


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (CI runs it there)")


def issued(clerk, customer, net):
    draft = billing.create_invoice(
        by=clerk, customer=customer, lines=[{"description": "Work", "quantity": "1", "unit_price": net}]
    )
    return billing.issue_invoice(invoice=draft, by=clerk, on=date(2026, 3, 1), render=False)


def credit(clerk, customer, amount):
    return services.record_payment(
        customer=customer, by=clerk, data={"received_on": date(2026, 4, 1), "amount": amount}, allocations=[]
    )


def assert_ledger_holds():
    for invoice in Invoice.objects.exclude(status="draft"):
        live = Allocation.objects.live().filter(invoice=invoice).aggregate(s=Sum("amount"))["s"] or D("0")
        assert invoice.amount_paid == live
        assert D("0") <= invoice.balance_due <= invoice.total
    for payment in Payment.objects.all():
        live = Allocation.objects.live().filter(payment=payment).aggregate(s=Sum("amount"))["s"] or D("0")
        assert payment.amount_allocated == live <= payment.amount


def refused(outcomes):
    return [o for o in outcomes if isinstance(o, Exception)]


def test_fifty_payments_racing_for_one_invoice_never_overpay_it(clerk, customer):
    invoice = issued(clerk, customer, "1000.00")
    payments = [credit(clerk, customer, "30.00") for _ in range(THREADS)]

    outcomes = run_at_once(
        lambda payment: services.allocate(payment=payment, by=clerk, allocations=[(invoice.pk, "30.00")]),
        [(payment,) for payment in payments],
    )

    invoice.refresh_from_db()
    assert not [o for o in refused(outcomes) if isinstance(o, OperationalError)], "a deadlock"
    assert all(isinstance(o, ValidationError) for o in refused(outcomes))
    assert len(refused(outcomes)) == THREADS - 33  # 33 × 30.00 fit in 1,000.00; the 34th does not
    assert invoice.amount_paid == D("990.00") and invoice.balance_due == D("10.00")
    assert_ledger_holds()


def test_fifty_invoices_racing_for_one_payment_never_over_allocate_it(clerk, customer):
    invoices = [issued(clerk, customer, "40.00") for _ in range(THREADS)]
    payment = credit(clerk, customer, "1000.00")

    outcomes = run_at_once(
        lambda invoice: services.allocate(payment=payment, by=clerk, allocations=[(invoice.pk, "40.00")]),
        [(invoice,) for invoice in invoices],
    )

    payment.refresh_from_db()
    assert not [o for o in refused(outcomes) if isinstance(o, OperationalError)], "a deadlock"
    assert len(refused(outcomes)) == THREADS - 25
    assert payment.amount_allocated == D("1000.00") and payment.unapplied == D("0.00")
    assert_ledger_holds()


def test_allocating_unallocating_and_voiding_at_once_never_deadlock(clerk, customer):
    """Threads allocate each payment across the same invoices in opposite orders, take
    allocations back and void payments: each lock order is the services', so none waits in a cycle."""
    invoices = [issued(clerk, customer, "500.00") for _ in range(5)]
    payments = [credit(clerk, customer, "100.00") for _ in range(10)]
    for payment in payments[:5]:
        services.allocate(payment=payment, by=clerk, allocations=[(invoices[0].pk, "10.00"), (invoices[4].pk, "10.00")])
    taken = list(Allocation.objects.filter(invoice=invoices[0]))

    work = []
    for index, payment in enumerate(payments):
        order = invoices if index % 2 else list(reversed(invoices))
        work.append(("allocate", payment, [(invoice.pk, "5.00") for invoice in order]))
    work += [("unallocate", allocation, None) for allocation in taken]
    work += [("void", payment, None) for payment in payments[5:8]]

    def act(what, record, allocations):
        if what == "allocate":
            return services.allocate(payment=record, by=clerk, allocations=allocations)
        if what == "unallocate":
            return services.unallocate(allocation=record, by=clerk)
        return services.void_payment(payment=record, by=clerk, reason="Bounced")

    outcomes = run_at_once(act, work)

    assert not [o for o in refused(outcomes) if isinstance(o, OperationalError)], "a deadlock"
    assert_ledger_holds()
