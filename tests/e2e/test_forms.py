"""Forms people can correct, in a real browser: the error summary takes the focus and
leads to each field, searchable country and currency lists, focus that is never
hidden under the sticky bars, and inline forms that give the focus back."""

import re
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD
from tests.e2e.test_customer_journeys import assert_no_csp_violations
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 720}


def focused(page):
    return page.evaluate("document.activeElement.id || document.activeElement.className")


def test_the_error_summary_takes_the_focus_and_leads_to_each_field(page, live_server, rep, sign_in, snap):
    sign_in(rep)
    page.goto(f"{live_server.url}/customers/new/")
    page.get_by_label("Name*").fill("")
    page.get_by_label("Email").fill("ap(at)globex")
    page.get_by_role("button", name="Create customer").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()  # not the first field: the summary is read first
    expect(page).to_have_title(re.compile(r"^Error: New customer"))
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    snap("error-summary")
    page.keyboard.press("Tab")
    expect(summary.get_by_role("link", name="Name: This field is required.")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the email's link
    email = page.get_by_label("Email")
    expect(email).to_be_focused()
    expect(email).to_have_attribute("aria-describedby", re.compile("id_email_error"))
    # Its label is in view too, below the sticky top bar.
    label_top = page.locator("label[for=id_email]").bounding_box()["y"]
    assert label_top >= 56, label_top
    email.fill("ap@globex.example")
    page.get_by_label("Name*").fill("Globex")
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Globex")
    expect(page).not_to_have_title(re.compile("Error"))


def test_country_and_currency_are_chosen_by_name_from_searchable_lists(
    page, live_server, finance_manager, sign_in, snap, console_errors
):
    customer = CustomerFactory(name="Initech", country="DE", currency="EUR")
    sign_in(finance_manager)
    page.goto(f"{live_server.url}/customers/{customer.pk}/edit/")

    country = page.get_by_role("combobox", name="Country")
    expect(country).to_have_value("Germany")
    country.click()
    country.fill("")
    page.keyboard.type("swit")
    listbox = page.get_by_role("listbox", name="Country")
    expect(listbox.get_by_role("option")).to_have_text(["Switzerland"])
    expect(page.locator(".combobox [role=status]").first).to_have_text("1 result available")
    expect(country).to_have_attribute("aria-expanded", "true")
    snap("country-filtered")
    page.keyboard.press("ArrowDown")
    expect(country).to_have_attribute("aria-activedescendant", "id_country_option_0")
    page.keyboard.press("Enter")
    expect(country).to_have_value("Switzerland")
    expect(listbox).to_be_hidden()

    currency = page.get_by_role("combobox", name="Currency")
    currency.fill("franc")  # by name …
    expect(page.get_by_role("listbox", name="Currency").get_by_role("option", name="CHF — Swiss Franc")).to_be_visible()
    page.keyboard.press("Escape")  # … Escape closes the list and keeps the choice
    expect(currency).to_have_value("EUR — Euro")
    currency.fill("chf")  # … or by code, taken when leaving the field
    page.keyboard.press("Tab")
    expect(currency).to_have_value("CHF — Swiss Franc")
    page.get_by_role("button", name="Save changes").click()

    expect(page.locator("#currency")).to_have_text("Swiss Franc (CHF)")
    expect(page.locator("main")).to_contain_text("Switzerland")
    customer.refresh_from_db()
    assert (customer.country.code, customer.currency) == ("CH", "CHF")
    assert_no_csp_violations(console_errors)


def test_a_time_zone_is_found_by_typing_and_a_meaningful_blank_choice_shows_as_placeholder(
    page, live_server, clerk, sign_in
):
    sign_in(clerk)
    page.goto(f"{live_server.url}/account/preferences/")
    fmt = page.get_by_role("combobox", name="Language and format")
    expect(fmt).to_have_value("")
    expect(fmt).to_have_attribute("placeholder", re.compile(r"^Automatic — from your browser"))
    zone = page.get_by_role("combobox", name="Time zone")
    expect(zone).to_have_attribute("placeholder", re.compile(r"^Company default"))
    zone.fill("berl")
    expect(page.get_by_role("listbox", name="Time zone").get_by_role("option")).to_have_text(["Europe/Berlin"])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("combobox", name="Time zone")).to_have_value("Europe/Berlin")
    clerk.refresh_from_db()
    assert (clerk.time_zone, clerk.locale) == ("Europe/Berlin", "")


def test_the_searchable_lists_and_the_error_summary_pass_axe(browser, live_server, finance_manager):
    # axe-core is injected as a script: only this context lets it past the CSP.
    context = browser.new_context(bypass_csp=True, viewport=DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(finance_manager.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/customers/new/")
    page.get_by_label("Email").fill("nope")
    page.get_by_role("button", name="Create customer").click()
    expect(page.locator(".error-summary")).to_be_focused()
    page.get_by_role("combobox", name="Country").fill("ger")  # the list open
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
    results = Axe().run(page, options=options)
    context.close()
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_sticky_bars_never_cover_the_focused_field(page, live_server, finance_manager, sign_in, snap, viewport):
    customer = CustomerFactory(name="Initech", credit_limit=Decimal("5000.00"))
    page.set_viewport_size(viewport)
    sign_in(finance_manager)
    page.goto(f"{live_server.url}/customers/{customer.pk}/edit/")
    expect(page.locator("#id_name")).to_be_focused()  # the first field, where typing starts
    save = page.get_by_role("button", name="Save changes")
    for _ in range(60):
        page.keyboard.press("Tab")
        box = page.evaluate(
            """async () => {
              // Once any scrolling (smooth, where motion is not reduced) has come to rest.
              const frame = () => new Promise(resolve => requestAnimationFrame(resolve));
              let last = -1;
              while (last !== window.scrollY) { last = window.scrollY; await frame(); await frame(); }
              const element = document.activeElement, rect = element.getBoundingClientRect();
              const bar = document.querySelector('.form-actions').getBoundingClientRect();
              const top = document.querySelector('.navbar.sticky-top').getBoundingClientRect();
              return {name: element.name || element.id || element.textContent.trim(), inBar: !!element.closest('.form-actions'),
                      inForm: !!element.closest('form.customer-form'),
                      top: rect.top, bottom: rect.bottom, barTop: bar.top, topBarBottom: top.bottom};
            }"""
        )
        if box["inBar"]:
            break
        # The form's fields; not the shell's links (the skip link shows over the top bar by design).
        if box["inForm"]:
            assert box["top"] >= box["topBarBottom"], box
            assert box["bottom"] <= box["barTop"], box
    else:
        pytest.fail("Tab never reached the save bar")
    expect(save).to_be_visible()
    snap(f"edit-{viewport['width']}")


def test_an_inline_form_gives_the_focus_back_to_the_button_that_opened_it(
    page, live_server, rep, customer, sign_in, snap, console_errors
):
    jane = ContactFactory(customer=customer, name="Jane Doe", is_primary=True)
    sign_in(rep)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    panel = page.locator("#contacts-panel")

    panel.get_by_role("link", name="Add contact").click()
    expect(page.get_by_role("form", name="New contact").get_by_label("Name*")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel.get_by_role("link", name="Add contact")).to_be_focused()

    panel.get_by_role("link", name="Edit Jane Doe").click()
    page.get_by_role("form", name="Edit Jane Doe").get_by_role("link", name="Cancel").click()
    expect(page.locator(f"#edit-contact-{jane.pk}")).to_be_focused()

    # A mistake: the form's own summary takes the focus, inside the panel.
    panel.get_by_role("link", name="Add contact").click()
    form = page.get_by_role("form", name="New contact")
    form.get_by_label("Name*").fill("John Roe")
    form.get_by_role("button", name="Save contact").click()
    expect(form.locator(".error-summary")).to_be_focused()
    expect(form.locator(".error-summary")).to_contain_text("Email: Enter an email address or a phone number")
    snap("contact-error-summary", show=form)
    form.locator(".error-summary").get_by_role("link", name=re.compile("^Phone")).click()
    expect(form.get_by_label("Phone")).to_be_focused()
    page.keyboard.type("+49 30 1234")
    page.keyboard.press("Enter")
    # Saved: the notice takes the focus, so it is read out and Tab goes on from there.
    expect(panel.locator(".contacts-notice .alert")).to_be_focused()
    expect(panel.locator(".contacts-notice")).to_have_text("Added John Roe.")
    assert_no_csp_violations(console_errors)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_record_page_reads_well(page, live_server, rep, clerk, sign_in, snap, viewport):
    customer = CustomerFactory(
        name="Acme Industries GmbH",
        owner=rep,
        email="accounts.payable.department.of.the.north@acme-industries-holding.example",
        country="DE",
    )
    ContactFactory(customer=customer, name="Jane Doe", email="jane.doe.purchasing@acme-industries-holding.example")
    page.set_viewport_size(viewport)
    sign_in(clerk)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    # Nothing wider than the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Buttons keep their icon beside the label.
    for button in page.locator(".btn:has(> .icon)").all():
        if button.is_visible():
            icon, box = button.locator(".icon").first.bounding_box(), button.bounding_box()
            assert icon["y"] + icon["height"] <= box["y"] + box["height"] and icon["y"] >= box["y"]
            assert box["height"] < 48, button.inner_text()  # one line
    email = page.locator(".text-ellipsis").first
    is_clipped = "el => el.scrollWidth > el.clientWidth"
    if viewport is PHONE:
        assert email.evaluate(is_clipped)
        email.focus()
        assert not email.evaluate(is_clipped)  # the whole address, on focus
    snap(f"record-{viewport['width']}")
    page.get_by_role("link", name="Edit", exact=True).click()
    snap(f"clerk-edit-{viewport['width']}")
    page.locator("#read-only-fields").scroll_into_view_if_needed()
    snap(f"clerk-edit-read-only-{viewport['width']}")
