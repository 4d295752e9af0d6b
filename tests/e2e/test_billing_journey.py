"""From a won deal to a sent PDF invoice in a real browser: the clerk opens the deal,
invoices it in one click, issues the draft, waits for its PDF, downloads it, sends it,
and the customer's feed shows that it was issued and sent."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from playwright.sync_api import expect

from billing.models import Invoice
from crm import opportunities
from tests.factories import TaxRateFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def won_deal(rep, customer):
    vat = TaxRateFactory(name="VAT 19%", percentage=Decimal("19.00"))
    deal = opportunities.create_opportunity(
        by=rep,
        customer=customer,
        data={"name": "Acme rollout", "expected_close_date": date.today() + timedelta(days=10), "payment_days": 45},
        lines=[
            {"description": "Licences", "quantity": "10", "unit_price": "99.99", "tax_rate": vat},
            {"description": "Installation", "quantity": "1", "unit_price": "300", "tax_rate": vat},
        ],
    )
    return opportunities.win(opportunity=deal, by=rep)


def test_a_clerk_goes_from_a_won_deal_to_a_sent_pdf_invoice(
    page, live_server, clerk, customer, won_deal, sign_in, snap, console_errors, tmp_path
):
    sign_in(clerk)

    # The won deal says nothing is invoiced yet; one click drafts the invoice.
    page.goto(f"{live_server.url}{won_deal.get_absolute_url()}")
    panel = page.locator("#invoicing-panel")
    expect(panel.locator("#deal-left-to-invoice")).to_contain_text("1,299.90")
    snap("won-deal", show=panel)
    page.get_by_role("button", name="Invoice this deal").click()

    # The draft: the deal's lines, prices and terms carried over.
    expect(page.locator("#invoice-number")).to_have_text("Draft")
    expect(page.get_by_label("Line 1 description")).to_have_value("Licences")
    expect(page.locator("#invoice-terms")).to_have_text("Net 45")
    expect(page.locator("#total-total")).to_contain_text("1,546.88")
    snap("draft")

    # Issued: a number, and the PDF being made then ready, without a reload.
    page.get_by_role("button", name="Issue invoice").click()
    expect(page.locator("#invoice-number")).to_have_text(re.compile(r"^INV-\d{4}-\d{6}$"))
    invoice = Invoice.objects.get(opportunity=won_deal)
    expect(page.locator("#pdf-panel .document-status")).to_have_attribute("data-status", "ready", timeout=20_000)
    snap("issued", show=page.locator("#pdf-panel"))

    # Downloaded: the stored PDF, named after the invoice.
    with page.expect_download() as download_info:
        page.locator("#download-pdf").click()
    download = download_info.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    # Sent to the customer's invoice address, prefilled.
    expect(page.get_by_role("textbox", name="Send to")).to_have_value(customer.email)
    page.get_by_role("button", name="Send invoice").click()
    expect(page.locator("#sent-info")).to_contain_text(customer.email)
    assert [message.to for message in mail.outbox] == [[customer.email]]
    assert mail.outbox[0].attachments[0][0] == f"{invoice.number}.pdf"
    snap("sent", show=page.locator("#sent-info"))

    # The customer's feed shows both events.
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    feed = page.locator(".feed-items")
    expect(feed).to_contain_text(f"Issued invoice {invoice.number}")
    expect(feed).to_contain_text(f"Sent invoice {invoice.number} to {customer.email}")
    expect(page.locator("#invoices-panel")).to_contain_text(invoice.number)
    snap("customer-feed", show=feed)
    assert not [error for error in console_errors if error.startswith("uncaught:")], console_errors
