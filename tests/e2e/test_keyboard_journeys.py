"""Each role's main journey with the keyboard alone: sign in, search, open a record, add
a contact, correct a form error. Only page.keyboard moves (Tab, Enter, Escape, arrows,
typing); after every step the test checks where the focus is (document.activeElement).

The search step submits the header's search and follows a result link on whatever
page it lands on (today the customer list; a global search page later).
"""

import re

import pytest
from playwright.sync_api import expect

from crm.permissions import can_edit_contacts, can_edit_customer
from tests.e2e.conftest import PASSWORD
from tests.factories import CustomerFactory

pytestmark = pytest.mark.e2e

ROLES = ["rep", "sales_manager", "clerk", "finance_manager", "admin_user"]


def is_focused(locator) -> bool:
    return locator.evaluate("element => element === document.activeElement")


def tab_to(page, locator, *, limit=80, backwards=False):
    """Press Tab (or Shift+Tab) until `locator` has the focus, as a person would."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if is_focused(locator):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {locator}")


def sign_in_with_the_keyboard(page, base_url, user):
    page.goto(f"{base_url}/login/")
    expect(page.get_by_label("Username")).to_be_focused()  # the sign-in page starts there
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login/" not in url)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_works_through_its_journey_with_the_keyboard_only(
    page, live_server, request, rep, role, snap, console_errors
):
    user = request.getfixturevalue(role)
    customer = CustomerFactory(owner=rep, name="Globex Corporation")
    CustomerFactory(owner=rep, name="Initech")

    sign_in_with_the_keyboard(page, live_server.url, user)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")

    # The skip link takes the focus past the top bar and the navigation.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    # Search: "/" focuses the header's search; Enter submits it; Tab reaches the result.
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
    page.keyboard.type("globex")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=globex"))
    result = page.locator("#main").get_by_role("link", name="Globex Corporation")
    tab_to(page, result)
    snap("search-result")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Globex Corporation")

    if can_edit_contacts(user, customer):
        # Add a contact inline: the form opens with the focus in its first field; an
        # error comes back inline; Escape would cancel, Enter saves once corrected.
        tab_to(page, page.get_by_role("link", name="Add contact"))
        page.keyboard.press("Enter")
        form = page.get_by_role("form", name="New contact")
        expect(form.get_by_label("Name*")).to_be_focused()
        page.keyboard.type("Jane Doe")
        page.keyboard.press("Tab")
        expect(form.get_by_label("Job title")).to_be_focused()
        page.keyboard.press("Tab")
        expect(form.get_by_label("Email")).to_be_focused()
        page.keyboard.type("jane(at)globex")
        page.keyboard.press("Enter")
        expect(form.get_by_text("Enter a valid email address.", exact=True)).to_be_visible()
        snap("contact-error")
        email = form.get_by_label("Email")
        if not is_focused(email):
            tab_to(page, email, limit=12)
        page.keyboard.press("Control+A")
        page.keyboard.type("jane@globex.example")
        page.keyboard.press("Enter")
        panel = page.locator("#contacts-panel")
        expect(panel).to_contain_text("Added Jane Doe.")
        # The focus is not lost to the page: it is on the notice saying what happened.
        expect(panel.locator(".contacts-notice .alert")).to_be_focused()

    if can_edit_customer(user, customer):
        # Correct a form error: a required field left empty is named, then fixed.
        tab_to(page, page.locator("#edit-customer"), backwards=True)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/edit/$"))
        expect(page.locator("form.customer-form")).to_be_visible()
        # The first required field the role may type in: a rep's name, a clerk's payment days.
        required = next(
            page.locator(selector)
            for selector in ("#id_name", "#id_payment_days")
            if page.locator(selector).count() and page.locator(selector).is_enabled()
        )
        tab_to(page, required)
        value = required.input_value()
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        page.keyboard.press("Enter")
        expect(page.locator("#form-errors, .error-summary").first).to_be_visible()
        expect(required).to_have_attribute("aria-invalid", "true")
        snap("form-error")
        if not is_focused(required):
            tab_to(page, required)
        page.keyboard.type(value)
        page.keyboard.press("Enter")
        expect(page.get_by_role("alert")).to_contain_text("Saved Globex Corporation.")

    assert not [error for error in console_errors if error.startswith("uncaught:")], console_errors


def test_the_user_menu_opens_moves_and_closes_with_the_keyboard(page, live_server, rep, sign_in):
    sign_in(rep)
    toggle = page.locator("#user-menu")
    toggle.focus()
    page.keyboard.press("Enter")
    menu = page.locator("#user-menu + .dropdown-menu")
    expect(menu).to_be_visible()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("link", name="API tokens")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("link", name="API docs")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(toggle).to_be_focused()


def test_on_a_phone_the_menu_opens_traps_and_returns_the_focus(page, live_server, rep, customer, sign_in, snap):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(rep)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    button = page.get_by_role("button", name="Menu")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-controls", "shell-nav")

    page.keyboard.press("Enter")
    menu = page.get_by_role("dialog", name="Menu")
    expect(menu).to_be_visible()
    expect(page.locator("#shell-nav")).to_be_focused()  # the focus moves into the menu
    page.keyboard.press("Tab")
    expect(menu.get_by_role("button", name="Close menu")).to_be_focused()
    tab_to(page, menu.get_by_role("link", name="Customers"), limit=4)
    snap("menu-open")
    for _ in range(6):  # the focus stays in the open menu
        page.keyboard.press("Tab")
        assert menu.evaluate("menu => menu.contains(document.activeElement)")

    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()

    # Search on a phone: its button opens the field with the focus in it; Escape closes it.
    search_button = page.get_by_role("button", name="Show search")
    tab_to(page, search_button, limit=4)
    page.keyboard.press("Enter")
    expect(page.locator("#global-search")).to_be_focused()
    expect(search_button).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")
    expect(page.locator("#global-search")).to_be_hidden()
    expect(search_button).to_be_focused()
    # "/" opens it too.
    page.keyboard.press("/")
    expect(page.locator("#global-search")).to_be_focused()
