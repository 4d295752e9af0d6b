"""The customer list in a real browser: on a phone (390 px) and with the column chooser,
the All / Mine switch and the way back from a record."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def assert_no_sideways_scrolling(page):
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page scrolls sideways: {width}px wide in a {inner}px window"


@pytest.fixture
def customers(rep, other_rep):
    for number in range(12):
        customer = CustomerFactory(
            name=f"Customer with a rather long name {number:02d} International Holdings",
            owner=rep if number % 2 else other_rep,
            email=f"accounts.payable.department@customer-{number:02d}-with-a-long-domain.example",
            tax_id="" if number % 3 == 0 else f"DE{number:09d}",
        )
        ContactFactory(customer=customer, is_primary=True, name=f"Person {number:02d}")


def test_on_a_phone_the_list_reads_without_scrolling_sideways(
    page, live_server, rep, other_rep, customers, sign_in, snap, console_errors
):
    page.set_viewport_size(PHONE)
    rep.list_columns = {"crm.customer": ["location", "primary_contact", "phone"]}
    rep.save()
    sign_in(rep)
    page.goto(f"{live_server.url}/customers/?status=active&billing=incomplete")

    expect(page.locator("table.customer-table tbody tr").first).to_be_visible()
    assert_no_sideways_scrolling(page)
    visible = page.locator("table.customer-table thead th:visible")
    expect(visible).to_have_count(2)
    expect(visible.first).to_contain_text("Name")
    # The filters are folded behind a button that counts them; search stays in view.
    toggle = page.locator("#filters-toggle")
    expect(toggle).to_have_text("Filters (2)")
    expect(page.get_by_label("Owner")).to_be_hidden()
    expect(page.get_by_label("Search", exact=True)).to_be_visible()
    snap("phone-list")

    toggle.click()
    expect(page.get_by_label("Owner")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_label("Billing details")).to_have_value("incomplete")
    assert_no_sideways_scrolling(page)
    snap("phone-filters-open")

    page.locator("#column-chooser summary").click()
    expect(page.get_by_label("Primary contact")).to_be_checked()
    assert_no_sideways_scrolling(page)
    snap("phone-columns")
    assert not console_errors, console_errors


def test_on_a_desktop_the_filters_are_open_and_optional_columns_are_chosen(
    page, live_server, rep, customers, sign_in, snap, console_errors
):
    sign_in(rep)
    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("#filters-toggle")).to_be_hidden()
    expect(page.get_by_label("Owner")).to_be_visible()
    expect(page.locator("th[aria-sort]")).to_have_count(1)
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("Name")

    page.locator("#column-chooser summary").click()
    page.get_by_label("Primary contact").check()
    page.get_by_label("City, country").check()
    page.get_by_role("button", name="Save columns").click()

    expect(page.locator("table.customer-table thead")).to_contain_text("Primary contact")
    expect(page.locator("table.customer-table tbody")).to_contain_text("Person 00")
    rep.refresh_from_db()
    assert rep.list_columns == {"crm.customer": ["location", "primary_contact"]}
    snap("desktop-columns")

    # Sorting by the new column says so.
    page.get_by_role("link", name="Primary contact").click()
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("Primary contact")
    page.get_by_role("link", name="Primary contact").click()
    expect(page.locator("th[aria-sort='descending']")).to_contain_text("Primary contact")
    assert not console_errors, console_errors


def test_my_customers_and_back_from_a_record_with_the_same_filters(
    page, live_server, rep, customers, sign_in, snap, console_errors
):
    sign_in(rep)
    page.goto(f"{live_server.url}/customers/")
    page.get_by_role("navigation", name="Whose customers").get_by_role("link", name="My customers").click()
    expect(page).to_have_url(re.compile(r"mine=1"))
    expect(page).to_have_title("My customers · Concord")
    page.get_by_label("Billing details").select_option("incomplete")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_title("My customers missing billing details · Concord")
    expect(page.locator("table.customer-table tbody tr")).to_have_count(2)  # numbers 3 and 9
    expect(page.locator("#list-summary")).to_contain_text("2 customers match")
    filtered = page.url

    page.locator("table.customer-table tbody a").first.click()
    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name="Customers").click()
    assert page.url == filtered
    # Back again, the count is already known: it is in the page, not fetched.
    expect(page.locator("#list-summary")).to_contain_text("2 customers match")
    assert page.locator("#list-summary[hx-get]").count() == 0
    snap("back-to-the-list")
    assert not console_errors, console_errors


def test_the_rep_home_warns_and_links_to_the_customers_to_complete(
    page, live_server, rep, customers, sign_in, snap, console_errors
):
    sign_in(rep)
    warning = page.locator("#my-incomplete-warning")
    expect(warning).to_contain_text("2 of your customers cannot be invoiced yet")
    snap("rep-home")
    warning.get_by_role("link").click()
    expect(page).to_have_title("My customers missing billing details · Concord")
    expect(page.locator("table.customer-table tbody tr")).to_have_count(2)
    assert not console_errors, console_errors
