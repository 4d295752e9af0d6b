"""The feed in a real browser: a rep @mentions a clerk on a customer; the clerk, on
another browser, sees the notification and the post arrive on My feed without a
reload."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, SCREENSHOTS
from tests.e2e.test_customer_journeys import assert_no_csp_violations, assert_not_reloaded, mark_page

pytestmark = pytest.mark.e2e


@pytest.fixture
def second_page(browser, browser_context_args, e2e_db):
    """Another person's browser: its own context, its own cookies."""
    context = browser.new_context(**browser_context_args)
    page = context.new_page()
    yield page
    context.close()


def sign_in_on(page, url, user):
    page.goto(f"{url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda address: "/login/" not in address)


def test_a_rep_mentions_a_clerk_who_sees_it_live(
    page, second_page, e2e_db, rep, clerk, customer, sign_in, snap, console_errors
):
    # The clerk has My feed open before anything is posted.
    sign_in_on(second_page, e2e_db.url, clerk)
    second_page.goto(f"{e2e_db.url}/feed/")
    expect(second_page.get_by_role("heading", name="My feed")).to_be_visible()
    mark_page(second_page)

    sign_in(rep)
    page.goto(f"{e2e_db.url}/customers/{customer.pk}/")
    composer = page.locator("#feed-body")
    composer.click()
    composer.press_sequentially("@cl")
    suggestion = page.get_by_role("option", name=re.compile("Clara Clerk"))
    expect(suggestion).to_be_visible()
    snap("mention-suggestions", show=composer)
    composer.press("ArrowDown")
    composer.press("Enter")
    expect(composer).to_have_value("@clerk ")
    composer.press_sequentially("please check the terms")
    mark_page(page)
    page.locator("#feed-post").click()
    posted = page.locator("#feed-items").get_by_text("please check the terms")
    expect(posted).to_be_visible()
    expect(composer).to_have_value("")
    assert_not_reloaded(page)
    snap("posted", show=posted)

    # On the clerk's browser: the post arrives on My feed and the bell counts it, without a reload.
    arrived = second_page.locator("#feed-items").get_by_text("please check the terms")
    expect(arrived).to_be_visible(timeout=5_000)
    expect(second_page.locator("#notifications-count")).to_have_text("1", timeout=5_000)
    assert_not_reloaded(second_page)
    second_page.screenshot(path=str(SCREENSHOTS / "feed-clerk-my-feed-live.png"))

    second_page.locator("#notifications-bell").click()
    notification = second_page.get_by_role("link", name=re.compile(r"Rita Rep mentioned you"))
    expect(notification.first).to_be_visible()
    notification.first.click()
    expect(second_page).to_have_url(re.compile(rf"/customers/{customer.pk}/"))
    expect(second_page.locator("#feed-items").get_by_text("please check the terms")).to_be_visible()

    # The clerk answers under the post, mentioning the rep back, with the keyboard.
    card = second_page.locator("#feed-items article").filter(has_text="please check the terms")
    card.get_by_role("link", name=re.compile("^Comment")).click()
    box = card.get_by_role("textbox", name=re.compile("Comment on"))
    expect(box).to_be_focused()
    box.press_sequentially("Done, terms are Net 30 @ri")
    expect(card.get_by_role("option", name=re.compile("Rita Rep"))).to_be_visible()
    box.press("Enter")
    expect(box).to_have_value("Done, terms are Net 30 @rep ")
    box.press("Tab")
    second_page.keyboard.press("Enter")
    expect(card.locator(".feed-comment").get_by_text("Done, terms are Net 30")).to_be_visible()
    second_page.screenshot(path=str(SCREENSHOTS / "feed-clerk-commented.png"))
    # The rep is told under the bell without a reload.
    expect(page.locator("#notifications-count")).to_have_text("1", timeout=20_000)
    assert_not_reloaded(page)
    assert_no_csp_violations(console_errors)


def test_a_rep_asks_for_a_credit_exception_and_a_finance_manager_approves_it(
    page, second_page, e2e_db, rep, finance_manager, customer, sign_in, console_errors
):
    sign_in(rep)
    page.goto(f"{e2e_db.url}/customers/{customer.pk}/")
    page.get_by_text("Request approval…").click()
    page.get_by_label("Approval needed").select_option(label="Sell above the credit limit")
    page.get_by_label("Reason").fill("Renewal of 18,000.00 takes them over the limit")
    page.locator("#request-approval").click()
    expect(page.locator(".record-approvals")).to_contain_text("Sell above the credit limit")
    page.screenshot(path=str(SCREENSHOTS / "approval-requested.png"))

    sign_in_on(second_page, e2e_db.url, finance_manager)
    second_page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Approvals").click()
    row = second_page.locator("[id^=approval-]").filter(has_text="Sell above the credit limit").first
    expect(row).to_contain_text("Renewal of 18,000.00")
    row.get_by_label("Comment").fill("Fine for this renewal")
    row.get_by_role("button", name=re.compile("^Approve")).click()
    expect(second_page.get_by_text("Approved", exact=False).first).to_be_visible()
    expect(second_page.locator("#notifications-count")).to_be_hidden()  # the reminder is read
    second_page.screenshot(path=str(SCREENSHOTS / "approval-decided.png"))

    # The decision is on the customer's feed, live, for the rep who asked.
    expect(page.locator("#feed-items").get_by_text("Approved: Sell above the credit limit")).to_be_visible(
        timeout=5_000
    )
    assert_no_csp_violations(console_errors)
