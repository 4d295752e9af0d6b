"""The main journeys through the customer pages, in a real browser."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from crm.models import Customer
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.e2e


def assert_no_csp_violations(errors):
    violations = [error for error in errors if "Content Security Policy" in error or "Content-Security-Policy" in error]
    assert not violations, violations
    assert not [error for error in errors if error.startswith("uncaught:")], errors


def mark_page(page):
    """Leave a marker in the window: it survives htmx swaps but not a page load."""
    page.evaluate("window.__concordMarker = 'still here'")


def assert_not_reloaded(page):
    assert page.evaluate("window.__concordMarker") == "still here", "the page was reloaded"


def test_a_rep_creates_a_customer_adds_a_contact_inline_and_finds_it(
    page, live_server, rep, sign_in, snap, console_errors
):
    CustomerFactory(name="Umbrella Corporation")  # someone else's customer, so the search has something to leave out
    sign_in(rep)
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    snap("customer-list")

    page.get_by_role("link", name="New customer").first.click()
    expect(page.get_by_role("heading", name="New customer")).to_be_visible()
    # Reps do not set credit limits: it is listed after the fields they fill in, not offered.
    expect(page.get_by_label("Credit limit")).to_have_count(0)
    expect(page.locator("#read-only-fields")).to_contain_text("Only finance managers change credit limits.")
    page.get_by_label("Name*").fill("Globex Corporation")
    page.get_by_label("Email").fill("ap@globex.example")
    page.get_by_label("Legal name").fill("Globex Corporation Inc.")
    page.get_by_label("Tax ID").fill("us 12-3456789")
    page.get_by_label("Address", exact=True).fill("1 Globex Way")
    page.get_by_label("Postal code").fill("97401")
    page.get_by_label("City").fill("Springfield")
    page.get_by_role("combobox", name="Country").fill("united states")
    page.get_by_role("option", name="United States of America").click()
    page.get_by_role("combobox", name="Currency").fill("USD")  # a code is taken as typed
    page.get_by_label("Payment terms*").select_option(label="End of month + N days")
    page.get_by_label("Days*").fill("15")
    snap("new-customer-filled")
    page.get_by_role("button", name="Create customer").click()

    customer = Customer.objects.get(name="Globex Corporation")
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.get_by_role("alert")).to_contain_text("Created Globex Corporation.")
    header = page.locator(".record-header")
    expect(header).to_contain_text("End of month + 15")
    expect(header).to_contain_text(str(rep))
    expect(header).to_contain_text("No limit set")
    snap("customer-created")

    # Add a contact inline: the form comes in with htmx, the panel refreshes, no page load.
    mark_page(page)
    panel = page.locator("#contacts-panel")
    expect(panel).to_contain_text("No contacts yet")
    panel.get_by_role("link", name="Add contact").click()
    form = page.get_by_role("form", name="New contact")
    expect(form.get_by_label("Name*")).to_be_focused()  # keyboard users type straight away
    form.get_by_label("Name*").fill("Jane Doe")
    form.get_by_label("Email").fill("jane(at)globex")  # a typo first: the error comes back inline
    form.get_by_label("Job title").fill("Head of Accounts Payable")
    form.get_by_role("button", name="Save contact").click()
    expect(form.get_by_text("Enter a valid email address.", exact=True)).to_be_visible()  # by the field
    expect(form.locator(".error-summary")).to_be_focused()
    expect(form.get_by_label("Job title")).to_have_value("Head of Accounts Payable")
    snap("contact-error", show=form)
    form.get_by_label("Email").fill("jane@globex.example")
    form.get_by_label("Email").press("Enter")

    expect(panel.locator(".contact-row")).to_have_count(1)
    expect(panel).to_contain_text("Added Jane Doe.")
    expect(panel.locator("#contact-count")).to_have_text("1")
    row = panel.locator(".contact-row").first
    expect(row).to_contain_text("Jane Doe")
    expect(row).to_contain_text("Primary")
    expect(row).to_contain_text("Head of Accounts Payable")
    assert_not_reloaded(page)
    snap("contact-added", show=panel)
    assert customer.contacts.get().email == "jane@globex.example"

    # Find it again with the global search: "/" focuses it.
    page.locator("body").press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type("globex")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=globex"))
    expect(page).to_have_title("Search: globex · Concord")
    customers = page.locator("#search-customers")
    expect(customers).to_contain_text("Globex Corporation")
    expect(customers).to_contain_text("US123456789")
    expect(customers).not_to_contain_text("Umbrella")
    expect(page.locator("#search-contacts")).to_contain_text("Jane Doe")
    snap("search-result")
    customers.get_by_role("link", name="Globex Corporation").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Globex Corporation")
    assert_no_csp_violations(console_errors)


def test_a_rep_edits_and_deletes_a_contact_inline(page, live_server, rep, customer, sign_in, snap, console_errors):
    ContactFactory(customer=customer, name="Jane Doe", job_title="Buyer", is_primary=True)
    ContactFactory(customer=customer, name="John Roe", job_title="CFO")
    sign_in(rep)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    mark_page(page)
    panel = page.locator("#contacts-panel")

    panel.get_by_role("link", name="Edit John Roe").click()
    form = page.get_by_role("form", name="Edit John Roe")
    # The form takes the focus (its name field) once htmx has settled it; a person
    # types after that, and so does this test.
    expect(form.get_by_label("Name*")).to_be_focused()
    expect(form.get_by_label("Job title")).to_have_value("CFO")
    form.get_by_label("Job title").fill("Chief Financial Officer")
    form.get_by_label("Primary contact").check()
    snap("editing-contact", show=form)
    form.get_by_role("button", name="Save contact").click()
    expect(panel).to_contain_text("Saved John Roe.")
    expect(panel.locator(".contact-row").first).to_contain_text("Chief Financial Officer")
    expect(panel.locator(".contact-row").first).to_contain_text("Primary")

    # Cancel (the link, or Escape from the keyboard) brings the panel back unchanged.
    panel.get_by_role("link", name="Edit Jane Doe").click()
    page.get_by_role("form", name="Edit Jane Doe").get_by_role("link", name="Cancel").click()
    expect(panel.get_by_role("form")).to_have_count(0)
    panel.get_by_role("link", name="Add contact").click()
    expect(page.get_by_role("form", name="New contact").get_by_label("Name*")).to_be_focused()
    page.keyboard.type("Nobody")
    page.keyboard.press("Escape")
    expect(panel.get_by_role("form")).to_have_count(0)
    expect(panel.locator(".contact-row")).to_have_count(2)

    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Delete Jane Doe").click()
    expect(panel).to_contain_text("Deleted Jane Doe.")
    expect(panel.locator(".contact-row")).to_have_count(1)
    assert_not_reloaded(page)
    snap("contact-deleted", show=panel)
    assert list(customer.contacts.values_list("name", flat=True)) == ["John Roe"]
    assert_no_csp_violations(console_errors)


def test_a_clerk_sees_the_credit_limit_but_changes_only_the_terms(
    page, live_server, rep, clerk, sign_in, snap, console_errors
):
    customer = CustomerFactory(name="Initech", owner=rep, credit_limit=Decimal("25000.00"), currency="EUR")
    sign_in(clerk)
    page.goto(f"{live_server.url}/customers/")
    expect(page.get_by_role("link", name="New customer")).to_have_count(0)  # clerks do not create customers
    page.get_by_label("Search", exact=True).fill("initech")
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("link", name="Initech").click()

    header = page.locator(".record-header")
    expect(header.locator("#credit-limit")).to_have_text(re.compile(r"25,000\.00\s+EUR"))
    snap("clerk-record")
    page.get_by_role("link", name="Edit", exact=True).click()

    expect(page.locator("#read-only-note")).to_be_visible()
    expect(page.get_by_label("Legal name")).to_be_focused()  # the first field a clerk may change
    # What the clerk may not change is listed after the billing section, with who keeps it.
    kept = page.locator("#read-only-fields")
    expect(kept).to_contain_text("25,000.00")
    expect(kept).to_contain_text("Only finance managers change credit limits.")
    expect(page.get_by_label("Credit limit")).to_have_count(0)
    expect(page.get_by_label("Name*")).to_have_count(0)
    credit = kept
    page.get_by_label("Payment terms*").select_option(label="End of month + N days")
    page.get_by_label("Days*").fill("45")
    snap("clerk-edit", show=credit)
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("alert")).to_contain_text("Saved Initech.")
    expect(header).to_contain_text("End of month + 45")
    expect(header.locator("#credit-limit")).to_have_text(re.compile(r"25,000\.00\s+EUR"))
    snap("clerk-saved")
    customer.refresh_from_db()
    assert customer.terms_label == "End of month + 45"
    assert customer.credit_limit == Decimal("25000.00")
    assert_no_csp_violations(console_errors)


def test_filters_apply_with_their_button_not_on_change_or_blur(
    page, live_server, rep, other_rep, sign_in, snap, console_errors
):
    CustomerFactory(name="Mine", owner=rep)
    CustomerFactory(name="Theirs", owner=other_rep)
    sign_in(rep)
    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("table.customer-table tbody tr")).to_have_count(2)
    owner = page.get_by_label("Owner")
    owner.focus()
    page.keyboard.press("ArrowDown")  # a keyboard user looks through the options...
    page.keyboard.press("ArrowDown")
    page.get_by_label("Status").focus()  # ...and moves on: nothing is submitted
    owner.select_option(label=str(other_rep))
    page.wait_for_timeout(300)
    assert "owner=" not in page.url
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(rf"owner={other_rep.pk}"))
    expect(page.locator("table.customer-table tbody tr")).to_have_count(1)
    expect(page.locator("table.customer-table")).to_contain_text("Theirs")
    # The credit granted to the filtered set arrives just after the page (htmx).
    expect(page.locator("#credit-totals")).to_have_text(re.compile(r"Credit granted:\s+10,000\.00\s+EUR"))
    snap("filtered")
    assert_no_csp_violations(console_errors)
