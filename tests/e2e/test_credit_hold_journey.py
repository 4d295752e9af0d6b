"""A deal for a customer on credit hold, in a real browser: the rep opens the deal and
sees the payment-risk card and the hold first, asks for approval; the sales manager
approves it from the approvals list; the rep wins the deal — once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing import services as billing
from crm import opportunities
from receivables import credit
from receivables.models import CreditRelease, Standing

pytestmark = pytest.mark.e2e


@pytest.fixture
def held_deal(rep, clerk, finance_manager, customer):
    """An open deal of 2,500.00; the customer pays ~18 days late, owes 4,200.00 overdue
    and a finance manager put it on hold."""
    today = timezone.localdate()
    draft = billing.create_invoice(
        by=clerk,
        customer=customer,
        data={"payment_days": 30},
        lines=[{"description": "Support", "quantity": "1", "unit_price": "4200.00"}],
    )
    billing.issue_invoice(invoice=draft, by=clerk, on=today - timedelta(days=50), render=False)
    # As if measured from its history (receivables.behaviour refreshes it after each ledger change).
    Standing.objects.update_or_create(
        customer=customer, defaults={"avg_days_late": Decimal("18.0"), "dso": Decimal("41.0")}
    )
    credit.set_hold(customer=customer, by=finance_manager, reason="Two cheques bounced")
    return opportunities.create_opportunity(
        by=rep,
        customer=customer,
        data={"name": "Acme expansion", "expected_close_date": today + timedelta(days=10)},
        lines=[{"description": "Licences", "quantity": "25", "unit_price": "100"}],
    )


def test_a_rep_wins_a_held_deal_once_a_sales_manager_approves(
    page, live_server, rep, sales_manager, customer, held_deal, sign_in, snap, console_errors
):
    sign_in(rep)
    page.goto(f"{live_server.url}{held_deal.get_absolute_url()}")

    # The risk card comes first: what the customer owes, how it pays, that it is on hold.
    card = page.locator("#risk-card")
    expect(card).to_be_visible()
    expect(page.locator("#risk-verdict")).to_have_text("Pays ~18 days late; 4,200.00 overdue; 5,800.00 of credit left.")
    expect(page.locator("#risk-hold-badge")).to_have_text("Credit hold")
    gate = page.locator("#credit-hold-gate")
    expect(gate).to_contain_text("Two cheques bounced")
    expect(gate).to_contain_text("To win this deal, a sales or finance manager must approve it first")
    card_top = card.bounding_box()["y"]
    assert card_top < page.locator("#lines-panel").bounding_box()["y"]
    snap("held-deal")

    # Winning before anyone approved is refused, saying how to go on.
    page.locator("#win-deal").click()
    expect(page.locator("#messages .alert-danger")).to_contain_text("on credit hold")
    snap("win-refused")

    # The rep asks for approval from the card.
    page.get_by_label("Why it should go through").fill("Customer paid 4,200.00 by bank transfer this morning")
    page.get_by_role("button", name="Ask for approval").click()
    expect(page.locator("#credit-hold-pending")).to_contain_text("waiting for a sales or finance manager")
    snap("asked", show=page.locator("#credit-hold-gate"))

    # The sales manager approves it from the approvals list.
    page.context.clear_cookies()
    sign_in(sales_manager)
    page.goto(f"{live_server.url}/approvals/?tab=decide")
    row = page.locator(".approval-row").filter(has_text="Win a deal despite the credit hold").first
    expect(row).to_be_visible()
    snap("to-decide")
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved: Win a deal despite the credit hold").first).to_be_visible()

    # The rep wins the deal: the approval lets it through once.
    page.context.clear_cookies()
    sign_in(rep)
    page.goto(f"{live_server.url}{held_deal.get_absolute_url()}")
    expect(page.locator("#credit-hold-approved")).to_contain_text("Sam Manager")
    snap("approved", show=page.locator("#credit-hold-gate"))
    page.locator("#win-deal").click()
    expect(page.locator("#deal-stage-badge")).to_have_text("Won")
    snap("won")
    assert CreditRelease.objects.get().approval.requested_by == rep

    # The customer's page says it too: the receivables panel and the header's badge.
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    expect(page.locator("#record-badges")).to_contain_text("Credit hold")
    panel = page.locator("#receivables-panel")
    expect(panel.locator("#receivables-hold-reasons")).to_contain_text("Two cheques bounced")
    expect(panel.locator("#receivables-aging")).to_contain_text("1–30: 4,200.00")
    snap("customer", show=panel)
    assert not console_errors
