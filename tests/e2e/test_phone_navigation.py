"""On a phone (390 × 844), every destination of the navigation and of the user menu is
reached from a customer record, one after another, and no page scrolls sideways."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
ROLES = ["rep", "sales_manager", "clerk", "finance_manager", "admin_user"]


def assert_no_sideways_scroll(page, where):
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{where} scrolls sideways: {widths[0]} px of content in {widths[1]} px"


def open_menu(page):
    page.get_by_role("button", name="Menu").click()
    menu = page.get_by_role("dialog", name="Menu")
    expect(menu).to_be_visible()
    expect(page.locator("#shell-nav")).to_be_focused()  # opened: the focus is in it
    return menu.get_by_role("navigation", name="Main navigation")


def open_user_menu(page):
    page.locator("#user-menu").click()
    menu = page.locator("#user-menu + .dropdown-menu")
    expect(menu).to_be_visible()
    return menu


@pytest.mark.parametrize("role", ROLES)
def test_every_destination_is_reached_from_a_record_on_a_phone(page, live_server, request, customer, role, snap):
    user = request.getfixturevalue(role)
    page.set_viewport_size(PHONE)
    sign_in = request.getfixturevalue("sign_in")
    sign_in(user)
    record = f"{live_server.url}/customers/{customer.pk}/"
    page.goto(record)
    assert_no_sideways_scroll(page, "the record")
    # Below 768 px the sidebar is hidden: the menu button is the way in.
    expect(page.locator("#shell-nav")).to_be_hidden()

    destinations = [("navigation", name) for name in open_menu(page).get_by_role("link").all_inner_texts()]
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Menu")).to_be_hidden()
    destinations += [("user menu", name) for name in open_user_menu(page).get_by_role("link").all_inner_texts()]
    assert ("navigation", "Customers") in destinations and ("user menu", "Change password") in destinations
    snap("user-menu")

    for where, name in destinations:
        page.goto(record)
        container = open_menu(page) if where == "navigation" else open_user_menu(page)
        link = container.get_by_role("link", name=name.strip(), exact=True)
        href = link.get_attribute("href")
        link.click()
        page.wait_for_load_state()
        assert page.url == f"{live_server.url}{href}", f"{name} led to {page.url}"
        assert_no_sideways_scroll(page, f"{name} ({href})")

    # Signing out is the user menu's last item: a button, and the end of the journey.
    page.goto(record)
    open_user_menu(page).get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert_no_sideways_scroll(page, "the sign-in page")
