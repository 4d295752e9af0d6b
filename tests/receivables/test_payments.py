"""Payments and allocation: the money rules of receivables.services."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from billing import services as billing
from billing.models import Invoice
from collaboration.models import FeedItem
from receivables import services
from receivables.models import Allocation, Payment
from tests.factories import CustomerFactory

D = Decimal
PAID_ON = date(2026, 4, 10)


def pay(clerk, customer, amount, **kwargs):
    data = {"received_on": kwargs.pop("on", PAID_ON), "amount": amount, "method": "bank_transfer"}
    return services.record_payment(customer=customer, by=clerk, data=data, **kwargs)


def fresh(record):
    record.refresh_from_db()
    return record


@pytest.mark.django_db
class TestRecordPayment:
    def test_it_pays_the_oldest_due_first_and_keeps_the_rest_as_credit(self, clerk, customer, issue):
        newer = issue("300.00", on=date(2026, 3, 1))
        older = issue("200.00", on=date(2026, 2, 1))
        payment = pay(clerk, customer, "650.00")
        assert payment.number == "PAY-2026-000001"
        assert (fresh(older).amount_paid, older.balance_due, older.status) == (D("200.00"), D("0.00"), "paid")
        assert (fresh(newer).amount_paid, newer.status) == (D("300.00"), "paid")
        assert (payment.amount_allocated, payment.unapplied) == (D("500.00"), D("150.00"))
        assert [a.invoice for a in payment.allocations.order_by("applied_on")] == [older, newer]

    def test_a_partial_payment_leaves_the_invoice_partially_paid(self, clerk, customer, issue):
        invoice = issue("1000.00")
        pay(clerk, customer, "400.00")
        assert (fresh(invoice).amount_paid, invoice.balance_due, invoice.status) == (
            D("400.00"),
            D("600.00"),
            Invoice.Status.PARTIALLY_PAID,
        )

    def test_manual_allocation_across_two_invoices(self, clerk, customer, issue):
        first, second, third = issue("100.00"), issue("200.00"), issue("300.00")
        payment = pay(clerk, customer, "250.00", allocations=[(third, "200.00"), (first, "50.00")])
        assert fresh(first).balance_due == D("50.00")
        assert fresh(second).balance_due == D("200.00")
        assert fresh(third).balance_due == D("100.00")
        assert payment.unapplied == D("0.00")

    def test_an_empty_allocation_list_keeps_it_all_as_credit(self, clerk, customer, issue):
        invoice = issue("100.00")
        payment = pay(clerk, customer, "80.00", allocations=[])
        assert payment.unapplied == D("80.00") and fresh(invoice).balance_due == D("100.00")

    def test_the_allocation_counts_from_the_later_of_payment_and_issue(self, clerk, customer, issue):
        invoice = issue("100.00", on=date(2026, 5, 1))
        payment = pay(clerk, customer, "100.00", on=date(2026, 4, 20))
        assert payment.allocations.get().applied_on == date(2026, 5, 1)
        assert fresh(invoice).status == "paid"

    def test_it_lands_on_the_customer_and_invoice_feeds(self, clerk, customer, issue):
        invoice = issue("100.00")
        payment = pay(clerk, customer, "100.00")
        item = FeedItem.objects.get(verb="payment.received")
        assert item.data["number"] == payment.number
        assert invoice.number in item.data["applied"]
        shown_on = set(item.placements.values_list("target_type__model", "target_id"))
        assert {("payment", payment.pk), ("invoice", invoice.pk), ("customer", customer.pk)} <= shown_on

    @pytest.mark.parametrize(
        ("amount", "field"),
        [
            ("0", "amount"),
            ("-5", "amount"),
            ("abc", "amount"),
            ("1.005", "amount"),
            ("NaN", "amount"),
            ("1e13", "amount"),
        ],
    )
    def test_bad_amounts_are_refused_and_nothing_is_written(self, clerk, customer, amount, field):
        with pytest.raises(ValidationError) as refused:
            pay(clerk, customer, amount)
        assert field in refused.value.message_dict
        assert not Payment.objects.exists()

    def test_a_payment_from_the_future_is_refused(self, clerk, customer):
        with pytest.raises(ValidationError, match="future"):
            pay(clerk, customer, "10.00", on=date(2999, 1, 1))

    def test_fields_that_are_not_the_clerks_to_set_are_refused(self, clerk, customer):
        with pytest.raises(ValidationError) as refused:
            services.record_payment(
                customer=customer,
                by=clerk,
                data={"received_on": PAID_ON, "amount": "10.00", "unapplied": "999.00"},
            )
        assert "unapplied" in refused.value.message_dict

    def test_sales_people_do_not_record_payments(self, rep, customer):
        with pytest.raises(PermissionDenied):
            pay(rep, customer, "10.00")


@pytest.mark.django_db
class TestAllocate:
    def test_never_more_than_the_payment_has_left(self, clerk, customer, issue):
        first, second = issue("100.00"), issue("100.00")
        payment = pay(clerk, customer, "150.00", allocations=[])
        with pytest.raises(ValidationError, match="left to allocate"):
            services.allocate(payment=payment, by=clerk, allocations=[(first, "100.00"), (second, "60.00")])
        assert fresh(first).amount_paid == D("0.00") and fresh(payment).unapplied == D("150.00")

    def test_never_more_than_the_invoice_owes(self, clerk, customer, issue):
        invoice = issue("100.00")
        payment = pay(clerk, customer, "500.00", allocations=[])
        with pytest.raises(ValidationError, match="left to pay"):
            services.allocate(payment=payment, by=clerk, allocations=[(invoice, "100.01")])
        # The same invoice twice in one request counts once, summed.
        with pytest.raises(ValidationError, match="left to pay"):
            services.allocate(payment=payment, by=clerk, allocations=[(invoice, "60.00"), (invoice, "41.00")])
        assert not Allocation.objects.exists()

    def test_another_customers_invoice_is_refused(self, clerk, customer, issue):
        theirs = issue("100.00", who=CustomerFactory())
        payment = pay(clerk, customer, "100.00", allocations=[])
        with pytest.raises(ValidationError, match="another customer"):
            services.allocate(payment=payment, by=clerk, allocations=[(theirs, "10.00")])

    def test_another_currency_is_refused(self, clerk, customer, issue):
        invoice = issue("100.00")
        Invoice.objects.filter(pk=invoice.pk).update(currency="USD")
        payment = pay(clerk, customer, "100.00", allocations=[])
        with pytest.raises(ValidationError, match="USD"):
            services.allocate(payment=payment, by=clerk, allocations=[(invoice, "10.00")])

    def test_a_paid_or_void_invoice_takes_nothing(self, clerk, finance_manager, customer, issue):
        paid, void = issue("10.00"), issue("10.00")
        pay(clerk, customer, "10.00", allocations=[(paid, "10.00")])
        billing.void_invoice(invoice=void, by=finance_manager, reason="Sent twice")
        payment = pay(clerk, customer, "50.00", allocations=[])
        for invoice in (paid, void):
            with pytest.raises(services.LedgerConflict):
                services.allocate(payment=payment, by=clerk, allocations=[(invoice, "1.00")])

    def test_credit_left_from_an_overpayment_pays_a_later_invoice(self, clerk, customer, issue):
        pay(clerk, customer, "100.00")
        payment = Payment.objects.get()
        later = issue("60.00")
        made = services.auto_allocate(payment=payment, by=clerk)
        assert [a.invoice for a in made] == [later]
        assert fresh(later).status == "paid" and fresh(payment).unapplied == D("40.00")

    def test_a_credit_note_and_a_payment_together_never_exceed_the_total(self, clerk, customer, issue):
        invoice = issue("100.00")
        billing.credit_invoice(invoice=invoice, by=clerk, reason="Damaged", lines=None)
        payment = pay(clerk, customer, "100.00", allocations=[])
        with pytest.raises(services.LedgerConflict):
            services.allocate(payment=payment, by=clerk, allocations=[(invoice, "1.00")])


@pytest.mark.django_db
class TestUnallocateAndVoid:
    def test_unallocating_gives_both_sides_back(self, clerk, customer, issue):
        invoice = issue("100.00")
        payment = pay(clerk, customer, "100.00")
        allocation = payment.allocations.get()
        services.unallocate(allocation=allocation, by=clerk)
        assert (fresh(invoice).balance_due, invoice.status) == (D("100.00"), "issued")
        assert (fresh(payment).unapplied, payment.amount_allocated) == (D("100.00"), D("0.00"))
        assert fresh(allocation).reversed_on is not None
        with pytest.raises(services.LedgerConflict, match="already"):
            services.unallocate(allocation=allocation, by=clerk)

    def test_voiding_reverses_every_allocation_and_keeps_the_record(self, clerk, customer, issue):
        first, second = issue("100.00"), issue("100.00")
        payment = pay(clerk, customer, "150.00")
        services.void_payment(payment=payment, by=clerk, reason="Cheque bounced")
        assert fresh(first).balance_due == D("100.00") and fresh(second).balance_due == D("100.00")
        assert (fresh(payment).status, payment.number, payment.unapplied) == ("void", "PAY-2026-000001", D("0.00"))
        assert payment.allocations.count() == 2 and not payment.allocations.live().exists()
        with pytest.raises(services.LedgerConflict, match="already"):
            services.void_payment(payment=payment, by=clerk, reason="Again")
        with pytest.raises(services.LedgerConflict):
            services.allocate(payment=payment, by=clerk, allocations=[(first, "1.00")])

    def test_voiding_needs_a_reason(self, clerk, customer):
        payment = pay(clerk, customer, "10.00")
        with pytest.raises(ValidationError):
            services.void_payment(payment=payment, by=clerk, reason="  ")
        assert fresh(payment).status == "posted"

    def test_a_paid_invoice_cannot_be_voided_by_billing(self, clerk, finance_manager, customer, issue):
        invoice = issue("100.00")
        pay(clerk, customer, "10.00")
        with pytest.raises(billing.InvoiceConflict):
            billing.void_invoice(invoice=fresh(invoice), by=finance_manager, reason="No")


@pytest.mark.django_db
class TestDatabaseHoldsTheRowRules:
    def test_allocated_never_exceeds_the_amount(self, clerk, customer):
        payment = pay(clerk, customer, "10.00")
        with pytest.raises(IntegrityError), transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(amount_allocated=D("11.00"), unapplied=D("-1.00"))

    def test_unapplied_is_amount_less_allocated(self, clerk, customer):
        payment = pay(clerk, customer, "10.00")
        with pytest.raises(IntegrityError), transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(unapplied=D("9.00"))


@pytest.mark.django_db
class TestWriteOff:
    def test_a_small_balance_is_written_off_once_a_finance_manager_approves(
        self, clerk, finance_manager, customer, issue
    ):
        from collaboration import services as feed
        from collaboration.models import ApprovalRequest

        invoice = issue("100.00")
        pay(clerk, customer, "99.20")
        write_off = services.request_write_off(invoice=fresh(invoice), by=clerk, reason="Bank charges")
        assert write_off.amount == D("0.80") and fresh(invoice).status == "partially_paid"
        approval = ApprovalRequest.objects.get(kind=services.WRITE_OFF_APPROVAL)
        feed.decide_approval(approval=approval, by=finance_manager, approve=True)
        assert (fresh(invoice).balance_due, invoice.status) == (D("0.00"), "paid")
        assert fresh(write_off).status == "approved"

    def test_a_large_balance_is_credited_not_written_off(self, clerk, customer, issue):
        invoice = issue("1000.00")
        with pytest.raises(ValidationError, match="credit it instead"):
            services.request_write_off(invoice=invoice, by=clerk, reason="Too much")
