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
    assert_no_csp_violations(console_errors)
