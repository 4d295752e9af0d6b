"""Payment behaviour against hand-computed cases: days late and to pay, share paid
late, DSO and the six-month trend, cached on the customer's Standing."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from billing import services as billing
from receivables import behaviour, services
from receivables.credit import ReceivablesFigures
from receivables.models import Standing
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

D = Decimal
ON = date(2026, 11, 30)


def pay(clerk, customer, on, *allocations):
    amount = sum((D(amount) for _, amount in allocations), D("0"))
    data = {"received_on": on, "amount": amount, "method": "bank_transfer"}
    return services.record_payment(customer=customer, by=clerk, data=data, allocations=list(allocations))


@pytest.fixture
def history(issue, clerk, customer):
    """30-day terms throughout.
    I1 issued 06-01, due 07-01, paid 07-11: 10 days late, 40 to pay.
    I2 issued 07-01, due 07-31, paid 07-21: on time, 20 to pay.
    I3 issued 08-01, due 08-31, paid 100 on 08-15 and the rest on 09-30: 30 late, 60 to pay.
    I4 issued 2025-09-01, paid 2025-10-05: before the 12 months, not counted.
    I5 issued 10-15 (600, 200 paid on 11-20) and I6 issued 11-20 (400): open."""
    i1, i2, i3 = (
        issue("1000.00", on=date(2026, 6, 1)),
        issue("500.00", on=date(2026, 7, 1)),
        issue("300.00", on=date(2026, 8, 1)),
    )
    i4 = issue("50.00", on=date(2025, 9, 1))
    i5, _i6 = issue("600.00", on=date(2026, 10, 15)), issue("400.00", on=date(2026, 11, 20))
    pay(clerk, customer, date(2025, 10, 5), (i4, "50.00"))
    pay(clerk, customer, date(2026, 7, 11), (i1, "1000.00"))
    pay(clerk, customer, date(2026, 7, 21), (i2, "500.00"))
    pay(clerk, customer, date(2026, 8, 15), (i3, "100.00"))
    pay(clerk, customer, date(2026, 9, 30), (i3, "200.00"))
    pay(clerk, customer, date(2026, 11, 20), (i5, "200.00"))
    return customer


class TestFigures:
    def test_days_late_and_to_pay_share_late(self, history):
        figures = behaviour.measure(history.pk, ON)
        assert figures["avg_days_late"] == D("13.3")  # (10 + 0 + 30) / 3
        assert figures["avg_days_to_pay"] == D("40.0")  # (40 + 20 + 60) / 3
        assert figures["late_share"] == D("66.7")  # 2 of 3

    def test_dso_is_open_ar_over_90_days_of_sales_times_90(self, history):
        # Open at 11-30: 400 of I5 + 400 of I6; billed in the 90 days: I5 600 + I6 400.
        assert behaviour.measure(history.pk, ON)["dso"] == D("72.0")

    def test_the_dso_trend_is_each_month_ends_dso(self, history):
        """Hand-computed, open then ÷ billed in the 90 days before × 90:
        06-30: I1 1,000 open of 1,000 billed → 90; 07-31: nothing open → 0;
        08-31: 200 of I3 open, I2 + I3 800 billed (I1 on 06-01 is 91 days back) → 22.5;
        09-30: nothing open → 0; 10-31: I5 600 of 600 → 90; 11-30 (today) → 72."""
        figures = ReceivablesFigures(credit=None, trend=behaviour.measure(history.pk, ON)["trend"])
        assert figures.dso_by_month == [
            ("Jun", D("90.0")),
            ("Jul", D("0.0")),
            ("Aug", D("22.5")),
            ("Sept", D("0.0")),  # CLDR's abbreviation in English
            ("Oct", D("90.0")),
            ("Nov", D("72.0")),
        ]
        assert figures.dso_trend == "falling"  # 90 then, 72 now

    def test_the_trend_is_six_calendar_months_oldest_first(self, history):
        assert behaviour.measure(history.pk, ON)["trend"] == [
            {"month": "2026-06", "avg_days_late": None, "paid": 0, "dso": "90.0"},
            {"month": "2026-07", "avg_days_late": "5.0", "paid": 2, "dso": "0.0"},
            {"month": "2026-08", "avg_days_late": None, "paid": 0, "dso": "22.5"},
            {"month": "2026-09", "avg_days_late": "30.0", "paid": 1, "dso": "0.0"},
            {"month": "2026-10", "avg_days_late": None, "paid": 0, "dso": "90.0"},
            {"month": "2026-11", "avg_days_late": None, "paid": 0, "dso": "72.0"},
        ]

    def test_an_unallocated_payment_no_longer_settles_the_invoice(self, history, clerk):
        payment = history.payments.get(received_on=date(2026, 9, 30))
        services.unallocate(allocation=payment.allocations.get(), by=clerk)
        figures = behaviour.measure(history.pk, ON)
        assert figures["avg_days_late"] == D("5.0") and figures["late_share"] == D("50.0")

    def test_an_invoice_settled_by_a_credit_note_alone_was_not_paid(self, issue, clerk, customer):
        invoice = issue("100.00", on=date(2026, 6, 1))
        billing.credit_invoice(invoice=invoice, by=clerk, reason="Returned", on=date(2026, 8, 1))
        figures = behaviour.measure(customer.pk, ON)
        assert (figures["avg_days_late"], figures["late_share"]) == (None, None)

    def test_a_customer_with_no_history_has_no_figures(self):
        figures = behaviour.measure(CustomerFactory().pk, ON)
        assert [figures[name] for name in ("avg_days_late", "avg_days_to_pay", "late_share", "dso")] == [None] * 4


class TestCache:
    def test_refresh_stores_the_figures_on_the_standing(self, history):
        standing = behaviour.refresh(history.pk, ON)
        stored = Standing.objects.get(customer=history)
        assert stored == standing and stored.avg_days_late == D("13.3") and stored.dso == D("72.0")
        assert stored.behaviour_on == ON and stored.trend[1]["avg_days_late"] == "5.0"

    def test_for_customer_measures_once_a_day(self, history, django_assert_num_queries):
        standing = behaviour.for_customer(history)
        assert standing.behaviour_on == timezone.localdate()
        with django_assert_num_queries(1):
            assert behaviour.for_customer(history) == standing

    def test_a_payment_refreshes_it_once_committed(self, issue, clerk, customer, django_capture_on_commit_callbacks):
        invoice = issue("100.00", on=date(2026, 6, 1))
        with django_capture_on_commit_callbacks(execute=True):
            pay(clerk, customer, date(2026, 7, 11), (invoice, "100.00"))
        assert Standing.objects.get(customer=customer).avg_days_late == D("10.0")

    def test_refreshing_twice_keeps_one_standing(self, history):
        with transaction.atomic():
            behaviour.refresh(history.pk, ON)
            behaviour.refresh(history.pk, ON)
        assert Standing.objects.filter(customer=history).count() == 1


def test_a_ledger_change_queues_one_refresh_per_customer_until_it_starts(
    monkeypatch, django_capture_on_commit_callbacks
):
    """Refreshing costs more than issuing: it runs in the worker, once for a burst of changes."""
    from receivables import tasks

    queued = []
    monkeypatch.setattr(tasks.refresh_behaviour, "delay", queued.append)
    customer, other = CustomerFactory(), CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.ledger_changed(customer.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.ledger_changed(customer.pk)  # the first is still queued: nothing more
        services.ledger_changed(other.pk)
    assert queued == [customer.pk, other.pk]
    tasks.refresh_behaviour(customer.pk)  # the worker starts it: a later change queues again
    assert Standing.objects.get(customer=customer).behaviour_on == timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        services.ledger_changed(customer.pk)
    assert queued == [customer.pk, other.pk, customer.pk]


def test_nothing_is_queued_when_the_change_rolls_back(monkeypatch, django_capture_on_commit_callbacks):
    from receivables import tasks

    queued = []
    monkeypatch.setattr(tasks.refresh_behaviour, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                services.ledger_changed(CustomerFactory().pk)
                raise RuntimeError
        except RuntimeError:
            pass
    assert queued == []
