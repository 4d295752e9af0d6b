"""A payment against two invoices in a real browser: the clerk starts from an invoice's
Payments panel, types the amount and sees, live, which invoices it pays (oldest due
first), switches to applying it by hand, records it, and sees both invoices' balances
and the customer's feed follow."""

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from billing import services as billing
from receivables.models import Payment

pytestmark = pytest.mark.e2e


def issued(clerk, customer, amount, *, on):
    invoice = billing.create_invoice(
        by=clerk,
        customer=customer,
        data={"payment_days": 30},
        lines=[{"description": "Services", "quantity": "1", "unit_price": amount}],
    )
    return billing.issue_invoice(invoice=invoice, by=clerk, on=on, render=False)


def test_a_clerk_records_a_payment_against_two_invoices(
    page, live_server, clerk, customer, sign_in, snap, console_errors
):
    today = date.today()
    older = issued(clerk, customer, "1000.00", on=today - timedelta(days=60))  # overdue
    newer = issued(clerk, customer, "800.00", on=today - timedelta(days=10))
    sign_in(clerk)

    # From the overdue invoice's Payments panel: "Record payment" for this customer.
    page.goto(f"{live_server.url}{older.get_absolute_url()}")
    panel = page.locator("#payments-panel")
    expect(panel).to_contain_text("No payment applied to it yet.")
    snap("invoice-before", show=panel)
    panel.get_by_role("link", name="Record payment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(customer.name)

    # Typing the amount shows, live, what each open invoice gets, oldest due first.
    preview = page.locator("#allocation-preview")
    rows = preview.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(older.number)
    expect(rows.nth(1)).to_contain_text(newer.number)
    page.locator("#id_amount").fill("1500.00")
    expect(page.locator(f"#share-{older.pk}")).to_contain_text("1,000.00")
    expect(page.locator(f"#share-{newer.pk}")).to_contain_text("500.00")
    expect(page.locator("#preview-remaining")).to_contain_text("0.00")
    page.locator("#id_reference").fill("WIRE-2026-0042")
    snap("preview-oldest-first", show=preview)

    # By hand: the remaining amount follows what is typed per invoice.
    page.get_by_label("By hand, invoice by invoice").check()
    older_amount = page.get_by_label(f"Amount for invoice {older.number}")
    newer_amount = page.get_by_label(f"Amount for invoice {newer.number}")
    expect(older_amount).to_be_visible()
    older_amount.fill("700.00")
    expect(page.locator("#preview-remaining")).to_contain_text("800.00")
    newer_amount.fill("800.00")
    expect(page.locator("#preview-remaining")).to_contain_text("0.00")
    expect(page.locator("#preview-allocated")).to_contain_text("1,500.00")
    snap("preview-by-hand", show=preview)

    page.get_by_role("button", name="Record payment").click()
    expect(page.locator("#payment-number")).to_have_text(re.compile(r"^PAY-\d{4}-\d{6}$"))
    payment = Payment.objects.get()
    allocations = page.locator("#allocations-table")
    expect(allocations).to_contain_text(older.number)
    expect(allocations).to_contain_text(newer.number)
    expect(page.locator("#payment-unapplied")).to_contain_text("0.00")
    expect(page.locator(".alert-success")).to_contain_text("1,500.00 EUR applied")
    snap("payment", show=allocations)

    # Both invoices follow: the older partly paid, the newer paid.
    page.goto(f"{live_server.url}{older.get_absolute_url()}")
    expect(page.locator("#invoice-balance")).to_contain_text("300.00")
    expect(page.locator("#invoice-status")).to_contain_text("Partially paid")
    expect(page.locator("#payments-panel")).to_contain_text(payment.number)
    snap("older-invoice", show=page.locator("#payments-panel"))
    page.goto(f"{live_server.url}{newer.get_absolute_url()}")
    expect(page.locator("#invoice-balance")).to_contain_text("0.00")
    expect(page.locator("#invoice-status")).to_contain_text("Paid")

    # The customer's feed says so.
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    feed = page.locator(".feed-items")
    expect(feed).to_contain_text(f"Received payment {payment.number}")
    expect(feed).to_contain_text(older.number)
    expect(feed).not_to_contain_text("<span")  # amounts as text, not markup shown escaped
    snap("customer-feed", show=feed)
    assert not console_errors, console_errors
