"""Aging as of any day: buckets by days past due, only what was dated on or before the
day (payments, credit notes, unallocations, voids), per currency, reconciled with the
open balances, and who sees which customers."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from billing import services as billing
from billing.models import Invoice
from receivables import aging, services
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

D = Decimal
AS_OF = date(2026, 6, 30)
KEYS = ["current", "days_1_30", "days_31_60", "days_61_90", "over_90"]


def pay(clerk, customer, amount, on, **kwargs):
    data = {"received_on": on, "amount": amount, "method": "bank_transfer"}
    return services.record_payment(customer=customer, by=clerk, data=data, **kwargs)


def by_bucket(rows, currency="EUR"):
    row = next((row for row in rows if row["currency"] == currency), None)
    return [row[key] if row else D("0.00") for key in KEYS]


def owed(invoice, day):
    """What `invoice` still owed at the end of `day` (None: it did not count)."""
    found = aging.open_invoices(day).filter(pk=invoice.pk).first()
    return found.open_then if found else None


@pytest.fixture
def spread(issue):
    """One invoice in each bucket at AS_OF (30-day terms), and one issued after it."""
    return {
        "current": issue("100.00", on=date(2026, 6, 15)),  # due 07-15
        "days_1_30": issue("200.00", on=date(2026, 5, 20)),  # due 06-19: 11 days late
        "days_31_60": issue("300.00", on=date(2026, 4, 20)),  # due 05-20: 41 days
        "days_61_90": issue("400.00", on=date(2026, 3, 15)),  # due 04-14: 77 days
        "over_90": issue("500.00", on=date(2026, 2, 1)),  # due 03-03: 119 days
        "later": issue("600.00", on=date(2026, 7, 1)),  # not issued yet at AS_OF
    }


class TestBuckets:
    def test_the_settings_name_the_buckets(self):
        assert [b.key for b in aging.buckets()] == KEYS
        assert [b.label for b in aging.buckets()] == ["Current", "1–30", "31–60", "61–90", "90+"]

    def test_each_invoice_falls_in_its_bucket_and_later_invoices_do_not_count(self, spread):
        rows = aging.totals(AS_OF)
        assert by_bucket(rows) == [D("100.00"), D("200.00"), D("300.00"), D("400.00"), D("500.00")]
        assert rows[0]["total"] == D("1500.00")

    @pytest.mark.parametrize(
        ("days_late", "bucket"),
        [(0, "current"), (1, "days_1_30"), (30, "days_1_30"), (31, "days_31_60"), (90, "days_61_90"), (91, "over_90")],
    )
    def test_the_bounds_are_days_past_due(self, issue, days_late, bucket):
        invoice = issue("10.00", on=date(2026, 1, 5))
        rows = aging.totals(invoice.due_date + timedelta(days=days_late))
        assert by_bucket(rows)[KEYS.index(bucket)] == D("10.00")
        assert rows[0]["total"] == D("10.00")

    def test_currencies_are_never_added_together(self, issue, clerk):
        issue("100.00", on=date(2026, 6, 1))
        issue("40.00", on=date(2026, 6, 1), who=CustomerFactory(currency="USD"))
        rows = aging.totals(AS_OF)
        assert [(row["currency"], row["total"]) for row in rows] == [("EUR", D("100.00")), ("USD", D("40.00"))]


class TestAsOfAPastDay:
    def test_a_payment_dated_after_the_day_does_not_count(self, spread, clerk, customer):
        pay(clerk, customer, "200.00", date(2026, 7, 5), allocations=[(spread["days_1_30"], "200.00")])
        assert by_bucket(aging.totals(AS_OF))[1] == D("200.00")
        assert by_bucket(aging.totals(date(2026, 7, 5)))[1] == D("0.00")

    def test_a_payment_dated_on_or_before_the_day_counts(self, spread, clerk, customer):
        pay(clerk, customer, "150.00", AS_OF, allocations=[(spread["days_1_30"], "150.00")])
        assert by_bucket(aging.totals(AS_OF))[1] == D("50.00")

    def test_a_credit_note_dated_after_the_day_does_not_count(self, spread, clerk):
        billing.credit_invoice(invoice=spread["days_31_60"], by=clerk, reason="Returned", on=date(2026, 7, 2))
        assert by_bucket(aging.totals(AS_OF))[2] == D("300.00")
        assert by_bucket(aging.totals(date(2026, 7, 2)))[2] == D("0.00")

    def test_an_unallocation_after_the_day_still_counts_as_paid_then(self, spread, clerk, customer):
        payment = pay(clerk, customer, "500.00", date(2026, 4, 1), allocations=[(spread["over_90"], "500.00")])
        services.unallocate(allocation=payment.allocations.get(), by=clerk)  # reversed today
        assert by_bucket(aging.totals(AS_OF))[4] == D("0.00")
        assert owed(spread["over_90"], timezone.localdate()) == D("500.00")

    def test_a_payment_voided_after_the_day_still_counts_then(self, spread, clerk, customer):
        payment = pay(clerk, customer, "400.00", date(2026, 5, 1), allocations=[(spread["days_61_90"], "400.00")])
        services.void_payment(payment=payment, by=clerk, reason="Bounced")
        assert by_bucket(aging.totals(AS_OF))[3] == D("0.00")
        assert owed(spread["days_61_90"], timezone.localdate()) == D("400.00")

    def test_an_invoice_voided_after_the_day_was_owed_then(self, spread, finance_manager):
        billing.void_invoice(invoice=spread["current"], by=finance_manager, reason="Wrong customer")
        assert by_bucket(aging.totals(AS_OF))[0] == D("100.00")
        assert owed(spread["current"], timezone.localdate()) is None
        assert aging.totals(timezone.localdate())[0]["total"] == D("2000.00")

    def test_drafts_never_count(self, clerk, customer):
        billing.create_invoice(
            by=clerk, customer=customer, lines=[{"description": "X", "quantity": "1", "unit_price": "70.00"}]
        )
        assert aging.totals(timezone.localdate()) == []


class TestReconciliation:
    def test_today_the_aging_is_the_sum_of_open_balances_to_the_cent(self, spread, clerk, customer, issue):
        usd = CustomerFactory(currency="USD")
        issue("33.33", on=date(2026, 9, 1), who=usd)
        pay(clerk, customer, "123.45", date(2026, 7, 3))
        pay(clerk, usd, "10.01", date(2026, 9, 20))
        billing.credit_invoice(invoice=spread["later"], by=clerk, reason="Discount", on=date(2026, 8, 1))
        today = timezone.localdate()
        balances = dict(
            Invoice.objects.open().values("currency").annotate(s=Sum("balance_due")).values_list("currency", "s")
        )
        assert {row["currency"]: row["total"] for row in aging.totals(today)} == balances
        for row in aging.totals(today):
            assert sum((row[key] for key in KEYS), D("0")) == row["total"]

    def test_an_invoice_unchanged_since_the_day_reads_its_balance_which_agrees_with_its_ledger(
        self, spread, clerk, customer
    ):
        pay(clerk, customer, "250.00", date(2026, 6, 1))  # oldest due first: half of over_90
        billing.credit_invoice(invoice=spread["days_1_30"], by=clerk, reason="Returned", on=date(2026, 6, 20))
        from_ledger = aging.totals(AS_OF)  # every invoice changed today: read from its ledger rows
        Invoice.objects.update(updated_at=timezone.make_aware(datetime(2026, 6, 30, 18)))
        assert aging.totals(AS_OF) == from_ledger  # unchanged since the day: read from balance_due
        assert by_bucket(from_ledger) == [D("100.00"), D("0.00"), D("300.00"), D("400.00"), D("250.00")]
        # Changed after the day, it reads its ledger again: the later payment does not count then.
        pay(clerk, customer, "250.00", date(2026, 7, 5))
        assert aging.totals(AS_OF) == from_ledger
        assert owed(spread["over_90"], AS_OF) == D("250.00")

    def test_unapplied_credit_is_shown_apart_as_of_the_day(self, issue, clerk, customer):
        issue("100.00", on=date(2026, 5, 1))
        payment = pay(clerk, customer, "250.00", date(2026, 5, 10))  # 100 applied, 150 credit
        assert aging.unapplied_credit(date(2026, 5, 9)) == []
        assert aging.unapplied_credit(date(2026, 5, 10)) == [{"currency": "EUR", "unapplied": D("150.00")}]
        services.void_payment(payment=payment, by=clerk, reason="Bounced")
        assert aging.unapplied_credit(date(2026, 5, 10)) == [{"currency": "EUR", "unapplied": D("150.00")}]
        assert aging.unapplied_credit(timezone.localdate()) == []

    def test_credit_applied_to_an_invoice_issued_later_was_unapplied_before(self, issue, clerk, customer):
        payment = pay(clerk, customer, "80.00", date(2026, 5, 10), allocations=[])
        invoice = issue("80.00", on=date(2026, 6, 1))
        services.allocate(payment=payment, by=clerk, allocations=[(invoice, "80.00")])
        assert aging.unapplied_credit(date(2026, 5, 31))[0]["unapplied"] == D("80.00")
        assert aging.unapplied_credit(date(2026, 6, 1)) == []
        assert aging.totals(date(2026, 6, 1)) == []


class TestPerCustomer:
    def test_rows_per_customer_and_currency(self, spread, issue, rep):
        other = CustomerFactory(name="Zeta AG", owner=rep)
        issue("70.00", on=date(2026, 6, 1), who=other)
        rows = list(aging.customer_rows(AS_OF))
        assert [(r["customer__name"], r["total"]) for r in rows] == [
            ("Acme Industries GmbH", D("1500.00")),
            ("Zeta AG", D("70.00")),
        ]

    def test_customer_aging_is_the_360s_entry_point(self, spread, customer):
        (row,) = aging.customer_aging(customer, AS_OF)
        assert row["currency"] == "EUR" and row["over_90"] == D("500.00")
        assert aging.customer_aging(CustomerFactory(), AS_OF) == []

    def test_a_rep_reads_only_their_own_customers(self, issue, rep, other_rep, clerk):
        issue("10.00", on=date(2026, 6, 1))
        issue("20.00", on=date(2026, 6, 1), who=CustomerFactory(owner=other_rep))
        assert aging.totals(AS_OF, aging.book_for(rep))[0]["total"] == D("10.00")
        assert aging.totals(AS_OF, aging.book_for(other_rep))[0]["total"] == D("20.00")
        assert aging.totals(AS_OF, aging.book_for(clerk))[0]["total"] == D("30.00")

    def test_the_drill_down_lists_a_buckets_invoices_with_what_they_owed(self, spread, clerk, customer):
        pay(clerk, customer, "120.00", AS_OF, allocations=[(spread["days_31_60"], "120.00")])
        bucket = aging.bucket_by_key("days_31_60")
        (invoice,) = aging.open_invoices(AS_OF, bucket=bucket)
        assert invoice == spread["days_31_60"] and invoice.open_then == D("180.00")
        assert len(aging.open_invoices(AS_OF)) == 5


class TestBadDates:
    def test_empty_is_today(self):
        assert aging.check_as_of("") == timezone.localdate()

    @pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "31/12/2025", "9" * 40])
    def test_an_unreadable_date_is_refused(self, value):
        with pytest.raises(ValidationError, match="Enter a date"):
            aging.check_as_of(value)

    def test_a_future_date_is_refused(self):
        with pytest.raises(ValidationError, match="up to today"):
            aging.check_as_of(timezone.localdate() + timedelta(days=1))
