"""Formats in a real browser: the exact time of a relative time on hover and focus,
and a German user's preferences taking effect."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.factories import CustomerFactory

pytestmark = pytest.mark.e2e


def test_a_relative_time_shows_its_exact_time_on_focus_and_escape_hides_it(page, live_server, clerk, sign_in, snap):
    CustomerFactory(name="Initech")
    sign_in(clerk)
    moment = page.locator("#recent-customers time.relative-time").first
    exact = moment.locator(".relative-time-exact")
    expect(moment).to_contain_text("just now")
    assert exact.bounding_box()["width"] <= 1  # clipped until asked for
    moment.focus()
    assert exact.bounding_box()["width"] > 50  # shown as a tooltip on keyboard focus
    snap("tooltip-on-focus", show=moment)
    page.keyboard.press("Escape")
    assert exact.bounding_box()["width"] <= 1  # dismissible (WCAG 2.2, 1.4.13)
    page.locator("h1").click()  # focus leaves: the next hover or focus shows it again
    assert exact.bounding_box()["width"] <= 1
    moment.hover()
    assert exact.bounding_box()["width"] > 50  # on hover too
    exact.hover()
    assert exact.bounding_box()["width"] > 50  # and it stays while the pointer is on it (hoverable)


def test_a_german_format_chosen_in_preferences_reads_on_the_next_pages(page, live_server, rep, sign_in, snap):
    CustomerFactory(name="Initech", owner=rep, credit_limit=Decimal("25000.00"), currency="EUR")
    sign_in(rep)
    page.locator("#user-menu").click()
    page.get_by_role("link", name="Preferences").click()
    # Both are searchable lists: typed into, then chosen with the keyboard.
    page.get_by_role("combobox", name="Language and format").fill("deutsch (deutschland)")
    page.keyboard.press("Enter")
    page.get_by_role("combobox", name="Time zone").fill("vienna")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    snap("preferences", show=page.get_by_role("button", name="Save preferences"))
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("alert")).to_contain_text("Deutsch (Deutschland)")
    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("td.money").first).to_have_text("25.000,00 EUR")
    snap("list-de")
    page.get_by_role("link", name="Initech").click()
    page.get_by_role("link", name="Edit", exact=True).click()
    # A rep does not change the credit limit: it is listed, in their format, with who keeps it.
    kept = page.locator("#read-only-fields")
    expect(kept).to_contain_text("25.000,00")
    snap("edit-de", show=kept)
