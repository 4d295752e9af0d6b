"""Deals (crm.opportunities): the amount is the sum of lines rounded per line, the
stage rules, terms from the customer, who may do what, and what the feed shows."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from collaboration.models import FeedItem
from crm import opportunities
from crm.models import Opportunity, PaymentTerms
from tests.factories import ProductFactory, TaxRateFactory, stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(rep, customer):
    return opportunities.create_opportunity(
        by=rep, customer=customer, data={"name": "Acme rollout", "expected_close_date": date(2027, 3, 31)}
    )


def test_a_new_deal_takes_the_customers_currency_and_terms_and_starts_in_the_first_stage(rep, customer):
    customer.payment_terms, customer.payment_days, customer.currency = PaymentTerms.END_OF_MONTH, 15, "CHF"
    customer.save()
    deal = opportunities.create_opportunity(
        by=rep, customer=customer, data={"name": "Swiss deal", "expected_close_date": date(2027, 1, 31)}
    )
    assert (deal.currency, deal.payment_terms, deal.payment_days) == ("CHF", "eom", 15)
    assert deal.stage.name == "Qualification"
    assert deal.owner == rep
    assert deal.amount == Decimal("0.00")
    assert FeedItem.objects.filter(verb="opportunity.created").count() == 1


def test_the_amount_is_the_sum_of_lines_each_rounded_half_up(rep, deal):
    deal = opportunities.set_lines(
        opportunity=deal,
        by=rep,
        lines=[
            # 1.5 × 0.67 = 1.005 → 1.01 (half up), not 1.00 (banker's) nor a float's 1.0049…
            {"description": "Widgets", "quantity": "1.5", "unit_price": "0.67"},
            # 1 × 99.99 less 12.5 % = 87.49125 → 87.49
            {"description": "Licence", "quantity": "1", "unit_price": "99.99", "discount_percent": "12.5"},
        ],
    )
    assert [line.amount for line in deal.lines.all()] == [Decimal("1.01"), Decimal("87.49")]
    assert deal.amount == Decimal("88.50")
    deal.refresh_from_db()
    assert deal.amount == Decimal("88.50")


def test_a_product_fills_in_its_name_price_and_tax_rate(rep, deal):
    vat = TaxRateFactory(name="VAT 7%", percentage=Decimal("7"))
    product = ProductFactory(name="Support plan", unit_price=Decimal("1200.00"), default_tax_rate=vat)
    deal = opportunities.set_lines(opportunity=deal, by=rep, lines=[{"product": product.pk, "quantity": 2}])
    line = deal.lines.get()
    assert (line.description, line.unit_price, line.tax_rate, line.amount) == (
        "Support plan",
        Decimal("1200.00"),
        vat,
        Decimal("2400.00"),
    )


def test_a_product_priced_in_another_currency_needs_a_price(rep, deal):
    product = ProductFactory(currency="USD")
    with pytest.raises(ValidationError, match="priced in USD"):
        opportunities.set_lines(opportunity=deal, by=rep, lines=[{"product": product.pk, "quantity": 1}])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"description": "x", "quantity": "-1", "unit_price": "10"}, "more than 0"),
        ({"description": "x", "quantity": "0", "unit_price": "10"}, "more than 0"),
        ({"description": "x", "quantity": "1", "unit_price": "10", "discount_percent": "101"}, "between 0 and 100"),
        ({"description": "x", "quantity": "1", "unit_price": "10", "discount_percent": "-5"}, "between 0 and 100"),
        ({"description": "x", "quantity": "1"}, "Enter a unit price"),
        ({"description": "x", "quantity": "1", "unit_price": "-3"}, "cannot be negative"),
        ({"description": "x", "quantity": "1", "unit_price": "NaN"}, "as a number"),
        ({"description": "x", "quantity": "lots", "unit_price": "1"}, "as a number"),
        ({"quantity": "1", "unit_price": "1"}, "describe the line"),
        ({"description": "x", "quantity": "1", "unit_price": "1", "tax_rate": 999999}, "valid tax rate"),
        ({"description": "x", "quantity": "1", "unit_price": "1", "amount": "5"}, "cannot be set"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_half_saved(rep, deal, line, message):
    opportunities.set_lines(
        opportunity=deal, by=rep, lines=[{"description": "Kept", "quantity": "1", "unit_price": "5"}]
    )
    with pytest.raises(ValidationError, match=message):
        opportunities.set_lines(
            opportunity=deal,
            by=rep,
            lines=[{"description": "New good line", "quantity": "1", "unit_price": "7"}, line],
        )
    deal.refresh_from_db()
    assert [line.description for line in deal.lines.all()] == ["Kept"]
    assert deal.amount == Decimal("5.00")


def test_winning_needs_lines(rep, deal):
    with pytest.raises(ValidationError, match="at least one line"):
        opportunities.win(opportunity=deal, by=rep)
    assert Opportunity.objects.get(pk=deal.pk).stage.name == "Qualification"


def test_losing_needs_a_reason(rep, deal):
    with pytest.raises(ValidationError, match="why"):
        opportunities.lose(opportunity=deal, by=rep, reason="  ")


def test_a_won_deal_is_closed(rep, deal):
    opportunities.set_lines(opportunity=deal, by=rep, lines=[{"description": "x", "quantity": 1, "unit_price": 10}])
    deal = opportunities.win(opportunity=deal, by=rep, on=date(2026, 11, 30))
    assert deal.closed_on == date(2026, 11, 30)
    for change in (
        lambda: opportunities.move_stage(opportunity=deal, by=rep, stage=stage("Proposal")),
        lambda: opportunities.set_lines(opportunity=deal, by=rep, lines=[]),
        lambda: opportunities.update_opportunity(opportunity=deal, by=rep, data={"payment_days": 60}),
    ):
        with pytest.raises(ValidationError, match="won and closed"):
            change()


def test_a_lost_deal_can_be_reopened(rep, deal):
    deal = opportunities.lose(opportunity=deal, by=rep, reason="Went with a competitor")
    assert (deal.lost_reason, deal.closed_on is not None) == ("Went with a competitor", True)
    deal = opportunities.move_stage(opportunity=deal, by=rep, stage=stage("Proposal"))
    assert (deal.lost_reason, deal.closed_on) == ("", None)


def test_stage_amount_owner_close_date_and_terms_are_tracked_in_the_feed(rep, sales_manager, other_rep, deal):
    opportunities.set_lines(opportunity=deal, by=rep, lines=[{"description": "x", "quantity": 2, "unit_price": 50}])
    opportunities.move_stage(opportunity=deal, by=rep, stage=stage("Proposal"))
    opportunities.update_opportunity(opportunity=deal, by=rep, data={"payment_days": 45})
    opportunities.update_opportunity(opportunity=deal, by=sales_manager, data={"owner": other_rep})
    changed = [
        change["field"]
        for item in FeedItem.objects.filter(kind=FeedItem.Kind.CHANGE).order_by("pk")
        for change in item.data["changes"]
    ]
    assert changed == ["amount", "stage", "payment_days", "owner"]
    assert Opportunity.objects.get(pk=deal.pk).terms_differ_from_customer


def test_reps_change_their_own_deals_only_and_managers_reassign(rep, other_rep, sales_manager, clerk, deal):
    with pytest.raises(PermissionDenied):
        opportunities.update_opportunity(opportunity=deal, by=other_rep, data={"next_step": "Call"})
    with pytest.raises(PermissionDenied):
        opportunities.update_opportunity(opportunity=deal, by=rep, data={"owner": other_rep})
    with pytest.raises(PermissionDenied):
        opportunities.move_stage(opportunity=deal, by=clerk, stage=stage("Proposal"))
    with pytest.raises(PermissionDenied):
        opportunities.create_opportunity(
            by=clerk, customer=deal.customer, data={"name": "x", "expected_close_date": date(2027, 1, 1)}
        )
    deal = opportunities.update_opportunity(opportunity=deal, by=sales_manager, data={"owner": other_rep})
    assert deal.owner == other_rep


def test_a_stale_version_is_refused(rep, deal):
    with pytest.raises(opportunities.StaleVersion):
        opportunities.update_opportunity(opportunity=deal, by=rep, data={"next_step": "x"}, expected_version=99)


def test_a_new_deal_cannot_start_closed(rep, customer):
    with pytest.raises(ValidationError, match="open stage"):
        opportunities.create_opportunity(
            by=rep,
            customer=customer,
            data={"name": "x", "expected_close_date": date(2027, 1, 1), "stage": stage("Won")},
        )
