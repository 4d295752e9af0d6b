"""The pipeline in a real browser: a rep creates a lead, converts it into a customer
and a deal, prices the deal with two lines, drags it across the board to Won (a deal
without lines is refused and goes back), the customer's feed shows each stage change,
and a sales manager sees it in the forecast."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm import opportunities
from crm.models import Opportunity
from tests.factories import ProductFactory, stage

pytestmark = pytest.mark.e2e


def column(page, name):
    return page.locator(".board-column", has=page.get_by_role("heading", name=re.compile(rf"^{name}\b")))


def test_a_rep_drags_a_priced_deal_to_won_and_the_manager_sees_it(
    page, live_server, rep, sales_manager, customer, sign_in, snap, console_errors
):
    ProductFactory(code="SUP-1", name="Support plan", unit_price=Decimal("1200.00"), currency="EUR")
    bare = opportunities.create_opportunity(
        by=rep,
        customer=customer,
        data={"name": "No lines yet", "expected_close_date": date.today() + timedelta(days=40)},
    )
    sign_in(rep)

    # A lead, created and converted into a customer, a contact and a deal in one step.
    page.goto(f"{live_server.url}/leads/new/")
    page.get_by_label("Person's name").fill("Lena Vogt")
    page.get_by_label("Company").fill("Nordlicht Logistik")
    page.get_by_label("Email").fill("lena@nordlicht.example")
    page.get_by_role("button", name="Create lead").click()
    expect(page.get_by_role("heading", name=re.compile("Lena Vogt"))).to_be_visible()
    page.locator("#convert-lead").click()
    page.get_by_label("Create a new customer").check()
    page.get_by_label("Deal name").fill("Acme rollout")
    page.get_by_label("Expected close date").fill((date.today() + timedelta(days=20)).isoformat())
    snap("convert-lead")
    page.locator("#confirm-convert").click()

    # Two lines, priced by the server as they are typed, saved together.
    expect(page.get_by_role("heading", name="Acme rollout")).to_be_visible()
    deal = Opportunity.objects.get(name="Acme rollout")
    customer = deal.customer
    assert customer.name == "Nordlicht Logistik" and deal.owner == rep
    page.get_by_role("button", name="Add line").click()
    page.get_by_label("Line 1 product").select_option(label="SUP-1 — Support plan")
    expect(page.get_by_label("Line 1 unit price")).to_have_value("1,200.00")
    page.get_by_label("Line 1 quantity").fill("2")
    page.get_by_role("button", name="Add line").click()
    page.get_by_label("Line 2 description").fill("Installation")
    page.get_by_label("Line 2 quantity").fill("1")
    page.get_by_label("Line 2 unit price").fill("300")
    page.get_by_label("Line 2 unit price").press("Tab")
    expect(page.locator("#lines-total")).to_contain_text("2,700.00")
    page.get_by_role("button", name="Save lines").click()
    expect(page.locator("#lines-notice")).to_have_text(re.compile("Saved 2 lines."))
    expect(page.locator("#deal-amount")).to_contain_text("2,700.00")
    snap("deal-with-lines")

    # The board: drag through Negotiation to Won.
    page.goto(f"{live_server.url}/deals/board/")
    card = page.locator(f"#deal-card-{deal.pk}")
    expect(column(page, "Qualification").locator(f"#deal-card-{deal.pk}")).to_be_visible()
    card.drag_to(column(page, "Negotiation").locator(".board-cards"), source_position={"x": 12, "y": 40})
    expect(column(page, "Negotiation").locator(f"#deal-card-{deal.pk}")).to_be_visible()
    expect(page.locator("#board-status")).to_have_text("Moved Acme rollout to Negotiation.")
    page.locator(f"#deal-card-{deal.pk}").drag_to(
        column(page, "Won").locator(".board-cards"), source_position={"x": 12, "y": 40}
    )
    expect(column(page, "Won").locator(f"#deal-card-{deal.pk}")).to_be_visible()
    expect(column(page, "Won").locator(".board-count")).to_have_text("1 deal")
    expect(column(page, "Won")).to_contain_text("2,700.00")
    snap("won-on-the-board")

    # Winning a deal without lines is refused: the card goes back and the reason is shown.
    page.locator(f"#deal-card-{bare.pk}").drag_to(
        column(page, "Won").locator(".board-cards"), source_position={"x": 12, "y": 40}
    )
    expect(page.locator("#board-alert")).to_contain_text("Add at least one line before winning the deal")
    expect(column(page, "Qualification").locator(f"#deal-card-{bare.pk}")).to_be_visible()
    snap("refused")

    # The customer's feed shows each stage change.
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    feed = page.locator(".feed-items")
    expect(feed).to_contain_text("Negotiation")
    expect(feed).to_contain_text("Won")
    snap("customer-feed")
    assert not [error for error in console_errors if error.startswith("uncaught:")], console_errors

    # The sales manager's forecast: the won deal is this month's win, no longer open pipeline.
    page.context.clear_cookies()
    sign_in(sales_manager)
    page.goto(f"{live_server.url}/deals/forecast/")
    expect(page.locator("#won-this-month")).to_contain_text("2,700.00")
    expect(page.locator("#forecast-table")).to_contain_text("Rita Rep")  # the deal still open
    deal.refresh_from_db()
    assert deal.stage == stage("Won") and deal.amount == Decimal("2700.00")
    snap("forecast")
