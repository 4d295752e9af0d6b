"""Invoices (billing.services): from a won deal in one click with its terms unchanged,
gapless numbers given last, immutability once issued, void and credit-note rules,
rounding and tax per line, who may do what."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from billing import services
from billing.models import Invoice
from collaboration.models import FeedItem
from core.models import Sequence
from crm import opportunities
from crm.models import PaymentTerms
from tests.factories import CustomerFactory, stage

pytestmark = pytest.mark.django_db


def issue(invoice, clerk, on=date(2026, 3, 10)):
    return services.issue_invoice(invoice=invoice, by=clerk, on=on)


def test_invoicing_a_won_deal_carries_its_lines_prices_discounts_and_terms_unchanged(rep, won_deal, customer):
    customer.payment_days = 30  # the customer's terms differ from what the rep agreed (45)
    customer.save()
    invoice = services.invoice_opportunity(opportunity=won_deal, by=rep)
    assert invoice.is_draft and invoice.number is None
    assert (invoice.payment_terms, invoice.payment_days) == (PaymentTerms.NET, 45)
    assert [
        (line.description, line.quantity, line.unit_price, line.discount_percent, line.amount)
        for line in invoice.lines.all()
    ] == [
        ("Widgets", Decimal("1.500"), Decimal("0.67"), Decimal("0.00"), Decimal("1.01")),
        ("Licences", Decimal("10.000"), Decimal("99.99"), Decimal("12.50"), Decimal("874.91")),
    ]
    # Tax per line, rounded half up: 0.19 + 166.23.
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("875.92"),
        Decimal("166.42"),
        Decimal("1042.34"),
    )
    assert invoice.opportunity == won_deal and list(won_deal.invoices.all()) == [invoice]
    assert FeedItem.objects.filter(verb="invoice.drafted").exists()


def test_only_a_won_deal_is_invoiced(rep, customer):
    deal = opportunities.create_opportunity(
        by=rep,
        customer=customer,
        data={"name": "Open", "expected_close_date": date(2026, 12, 31)},
        lines=[{"description": "x", "quantity": 1, "unit_price": 10}],
    )
    with pytest.raises(services.InvoiceConflict, match="won deal"):
        services.invoice_opportunity(opportunity=deal, by=rep)


def test_a_deposit_then_the_remaining_balance_and_never_more_than_the_deal(rep, won_deal):
    deposit = services.invoice_opportunity(opportunity=won_deal, by=rep, percent="30")
    assert deposit.subtotal == Decimal("262.78")  # 30 % of 875.92 = 262.776 → 262.78
    assert services.invoiced_net(won_deal) == Decimal("262.78")
    with pytest.raises(ValidationError, match="more than the 613.14 left"):
        services.invoice_opportunity(opportunity=won_deal, by=rep, percent="80")
    rest = services.invoice_opportunity(opportunity=won_deal, by=rep, remaining=True)
    assert rest.subtotal == Decimal("613.14")
    assert "remaining balance" in rest.lines.first().description
    with pytest.raises(services.InvoiceConflict, match="invoiced in full"):
        services.invoice_opportunity(opportunity=won_deal, by=rep, remaining=True)


@pytest.mark.parametrize("percent", ["0", "-5", "101", "NaN", "lots"])
def test_a_bad_percentage_is_refused(rep, won_deal, percent):
    with pytest.raises(ValidationError, match="between 0 and 100"):
        services.invoice_opportunity(opportunity=won_deal, by=rep, percent=percent)
    assert not Invoice.objects.exists()


def test_issuing_numbers_invoices_in_order_with_due_dates_from_their_terms(rep, clerk, won_deal, customer):
    first = issue(services.invoice_opportunity(opportunity=won_deal, by=rep, percent="50"), clerk)
    assert (first.number, first.issue_date, first.due_date) == ("INV-2026-000001", date(2026, 3, 10), date(2026, 4, 24))
    second = services.create_invoice(
        by=clerk,
        customer=customer,
        data={"payment_terms": PaymentTerms.END_OF_MONTH, "payment_days": 15},
        lines=[{"description": "Extra", "quantity": 1, "unit_price": "50.00"}],
    )
    second = issue(second, clerk)
    assert (second.number, second.due_date) == ("INV-2026-000002", date(2026, 4, 15))
    assert (second.billing_name, second.billing_tax_id) == (customer.billing_name, customer.tax_id)
    assert FeedItem.objects.filter(verb="invoice.issued").count() == 2


def test_an_issued_invoice_never_changes(clerk, customer):
    invoice = issue(
        services.create_invoice(
            by=clerk, customer=customer, lines=[{"description": "x", "quantity": 1, "unit_price": 10}]
        ),
        clerk,
    )
    for change in (
        lambda: services.set_invoice_lines(invoice=invoice, by=clerk, lines=[]),
        lambda: services.update_draft(invoice=invoice, by=clerk, data={"notes": "changed"}),
        lambda: issue(invoice, clerk),
    ):
        with pytest.raises(services.InvoiceConflict):
            change()


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "at least one line"),
        ([{"description": "Free sample", "quantity": 1, "unit_price": "0"}], "more than 0"),
    ],
)
def test_an_empty_or_zero_invoice_is_refused_and_consumes_no_number(clerk, customer, lines, message):
    invoice = services.create_invoice(by=clerk, customer=customer, lines=lines)
    with pytest.raises(ValidationError, match=message):
        issue(invoice, clerk)
    invoice.refresh_from_db()
    assert invoice.is_draft and invoice.number is None
    assert not Sequence.objects.filter(key="INV", last__gt=0).exists()


def test_a_customer_without_billing_details_cannot_be_invoiced_yet(clerk, rep):
    customer = CustomerFactory(owner=rep, tax_id="", address_line1="")
    invoice = services.create_invoice(
        by=clerk, customer=customer, lines=[{"description": "x", "quantity": 1, "unit_price": 10}]
    )
    with pytest.raises(ValidationError, match="tax ID, address"):
        issue(invoice, clerk)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"description": "x", "quantity": "-1", "unit_price": "10"}, "more than 0"),
        ({"description": "x", "quantity": "1", "unit_price": "10", "discount_percent": "150"}, "between 0 and 100"),
        ({"description": "x", "quantity": "1"}, "unit price"),
        ({"product": 999999, "quantity": "1"}, "valid product"),
    ],
)
def test_bad_lines_are_refused(clerk, customer, line, message):
    with pytest.raises(ValidationError, match=message):
        services.create_invoice(by=clerk, customer=customer, lines=[line])
    assert not Invoice.objects.exists()


def test_void_keeps_the_number_and_is_only_for_unpaid_uncredited_invoices(clerk, finance_manager, customer):
    invoice = issue(
        services.create_invoice(
            by=clerk, customer=customer, lines=[{"description": "x", "quantity": 1, "unit_price": 10}]
        ),
        clerk,
    )
    with pytest.raises(PermissionDenied):
        services.void_invoice(invoice=invoice, by=clerk, reason="Wrong customer")
    with pytest.raises(ValidationError, match="why"):
        services.void_invoice(invoice=invoice, by=finance_manager, reason=" ")
    voided = services.void_invoice(invoice=invoice, by=finance_manager, reason="Wrong customer")
    assert (voided.status, voided.number) == (Invoice.Status.VOID, "INV-2026-000001")

    paid = issue(
        services.create_invoice(
            by=clerk, customer=customer, lines=[{"description": "x", "quantity": 1, "unit_price": 10}]
        ),
        clerk,
    )
    Invoice.objects.filter(pk=paid.pk).update(amount_paid=Decimal("5.00"), balance_due=paid.total - Decimal("5.00"))
    with pytest.raises(services.InvoiceConflict, match="payments"):
        services.void_invoice(invoice=paid, by=finance_manager, reason="x")


def test_credit_notes_reduce_the_balance_and_never_exceed_it(clerk, rep, won_deal):
    invoice = issue(services.invoice_opportunity(opportunity=won_deal, by=rep), clerk)
    widgets, licences = invoice.lines.all()
    note = services.credit_invoice(
        invoice=invoice,
        by=clerk,
        reason="Two licences returned",
        lines=[{"invoice_line": licences.pk, "quantity": "2"}],
    )
    # 2 × 99.99 less 12.5 % = 174.98 net, 33.25 tax.
    assert (note.number, note.subtotal, note.tax_total, note.total) == (
        "CN-2026-000001",
        Decimal("174.98"),
        Decimal("33.25"),
        Decimal("208.23"),
    )
    invoice.refresh_from_db()
    assert (invoice.amount_credited, invoice.balance_due, invoice.status) == (
        Decimal("208.23"),
        Decimal("834.11"),
        Invoice.Status.ISSUED,
    )
    assert services.invoiced_net(won_deal) == Decimal("700.94")
    with pytest.raises(ValidationError, match="at most 8"):
        services.credit_invoice(
            invoice=invoice, by=clerk, reason="x", lines=[{"invoice_line": licences.pk, "quantity": "9"}]
        )
    # Crediting the rest settles it; nothing is left to credit.
    services.credit_invoice(invoice=invoice, by=clerk, reason="Cancelled")
    invoice.refresh_from_db()
    assert (invoice.balance_due, invoice.status) == (Decimal("0.00"), Invoice.Status.PAID)
    with pytest.raises(services.InvoiceConflict):
        services.credit_invoice(invoice=invoice, by=clerk, reason="Again")


def test_a_credit_note_above_the_balance_due_is_refused(clerk, customer):
    invoice = issue(
        services.create_invoice(
            by=clerk, customer=customer, lines=[{"description": "x", "quantity": 2, "unit_price": 100}]
        ),
        clerk,
    )
    Invoice.objects.filter(pk=invoice.pk).update(
        amount_paid=Decimal("150.00"), balance_due=Decimal("50.00"), status="partially_paid"
    )
    with pytest.raises(ValidationError, match="exceed the invoice's balance due"):
        services.credit_invoice(
            invoice=invoice, by=clerk, reason="Refund", lines=[{"invoice_line": invoice.lines.get().pk, "quantity": 1}]
        )


def test_reps_draft_from_their_own_won_deals_but_never_issue(rep, other_rep, clerk, won_deal):
    with pytest.raises(PermissionDenied):
        services.invoice_opportunity(opportunity=won_deal, by=other_rep)
    invoice = services.invoice_opportunity(opportunity=won_deal, by=rep)
    for forbidden in (
        lambda: services.issue_invoice(invoice=invoice, by=rep),
        lambda: services.set_invoice_lines(invoice=invoice, by=rep, lines=[]),
        lambda: services.create_invoice(by=rep, customer=won_deal.customer),
    ):
        with pytest.raises(PermissionDenied):
            forbidden()
    assert services.issue_invoice(invoice=invoice, by=clerk).number


def test_a_won_deal_invoiced_and_a_lost_one_not(rep, customer):
    deal = opportunities.create_opportunity(
        by=rep,
        customer=customer,
        data={"name": "x", "expected_close_date": date(2026, 12, 31)},
        lines=[{"description": "x", "quantity": 1, "unit_price": 10}],
    )
    opportunities.move_stage(opportunity=deal, by=rep, stage=stage("Lost"), lost_reason="Budget")
    with pytest.raises(services.InvoiceConflict):
        services.invoice_opportunity(opportunity=deal, by=rep)
