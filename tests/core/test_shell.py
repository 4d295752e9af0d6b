"""The shell every signed-in page sits in: one navigation (a sidebar from 768 px, a menu
below), the skip link, and where each role finds its work and the API links.

The browser tests (tests/e2e/test_phone_navigation.py, test_keyboard_journeys.py,
test_accessibility.py) check how it behaves; these check what it says.
"""

import pytest
from django.urls import reverse

from accounts.services import create_api_token, revoke_api_token
from tests.html import parse

pytestmark = pytest.mark.django_db

HOME = reverse("home")


def shell(client, user, url=HOME):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return parse(response.text)


def navigation(page):
    return page.find(tag="nav", aria_label="Main navigation")


def user_menu(page):
    return page.by_id("user-menu").parent.find(class_="dropdown-menu")


def link_texts(element):
    return [link.text for link in element.find_all(tag="a")]


class TestOneNavigationForEveryWidth:
    def test_the_menu_button_opens_the_navigation_that_is_the_sidebar_on_wide_screens(self, client, rep):
        page = shell(client, rep)
        button = page.by_id("menu-button")
        assert button.tag == "button" and button.attrs["aria-label"] == "Menu"
        assert button.attrs["aria-controls"] == "shell-nav" and button.attrs["data-bs-target"] == "#shell-nav"
        menu = page.by_id("shell-nav")
        assert {"offcanvas-md", "offcanvas-start"} <= menu.classes
        assert navigation(page).ancestor(id="shell-nav") is menu
        assert len(page.find_all(tag="nav", aria_label="Main navigation")) == 1
        assert menu.find(class_="btn-close").attrs["aria-label"] == "Close menu"

    def test_search_has_a_button_that_reveals_it_on_phones(self, client, rep):
        page = shell(client, rep)
        button = page.by_id("search-button")
        assert button.attrs["aria-controls"] == "shell-search" and button.attrs["aria-label"] == "Show search"
        form = page.by_id("shell-search")
        assert form.attrs["role"] == "search" and form.by_id("global-search").attrs["name"] == "q"

    def test_the_skip_link_lands_on_a_focusable_main(self, client, rep):
        page = shell(client, rep)
        assert page.find(tag="a", class_="skip-link").attrs["href"] == "#main"
        assert page.by_id("main").tag == "main" and page.by_id("main").attrs["tabindex"] == "-1"

    def test_the_current_page_is_marked_for_screen_readers(self, client, rep):
        page = shell(client, rep, reverse("crm:customer_list"))
        current = navigation(page).find_all(aria_current="page")
        assert [link.text for link in current] == ["Customers"]


# Every role reads all of the CRM.
CRM = [
    "Customers",
    "Leads",
    "Pipeline",
    "Service cases",
    "Invoices",
    "Payments",
    "Recurring billing",
    "Aging",
    "Catalog",
]
# Who works the book (finance, managers, admins) also finds the collections worklist, disputes and dunning.
FINANCE_CRM = [*CRM[:-1], "Collections", "Disputes", "Dunning", CRM[-1]]


class TestNavigationByRole:
    @pytest.mark.parametrize("actor", ["rep", "sales_manager", "clerk", "finance_manager"])
    def test_people_who_do_not_integrate_find_the_api_under_integrations_in_the_user_menu(self, client, actors, actor):
        page = shell(client, actors[actor])
        assert "API tokens" not in link_texts(navigation(page))
        menu = user_menu(page)
        assert "Integrations" in menu.text
        assert link_texts(menu) == ["API tokens", "API docs", "Preferences", "Change password"]

    def test_admins_find_the_api_in_the_navigation_after_their_settings(self, client, admin_user):
        page = shell(client, admin_user)
        assert link_texts(navigation(page)) == [
            "Home",
            "Admin",
            *FINANCE_CRM,
            "My feed",
            "Approvals",
            "API tokens",
            "API docs",
        ]
        assert link_texts(user_menu(page)) == ["Preferences", "Change password"]

    def test_sales_and_finance_see_their_records_right_after_home(self, client, rep, clerk):
        assert link_texts(navigation(shell(client, rep))) == ["Home", *CRM, "My feed", "Approvals"]
        assert link_texts(navigation(shell(client, clerk))) == ["Home", *FINANCE_CRM, "My feed", "Approvals"]

    def test_holding_an_api_token_makes_an_integrator_on_the_next_request(self, client, rep):
        shell(client, rep)  # fills the cached access
        token, _ = create_api_token(user=rep, name="Accounting sync")
        page = shell(client, rep)
        assert link_texts(navigation(page)) == ["Home", *CRM, "My feed", "Approvals", "API tokens", "API docs"]
        assert "API tokens" not in link_texts(user_menu(page))

        revoke_api_token(token=token)
        assert link_texts(navigation(shell(client, rep))) == ["Home", *CRM, "My feed", "Approvals"]

    def test_a_deleted_token_counts_no_more(self, client, rep):
        token, _ = create_api_token(user=rep, name="Accounting sync")
        assert "API tokens" in link_texts(navigation(shell(client, rep)))
        token.delete()
        assert "API tokens" not in link_texts(navigation(shell(client, rep)))

    def test_a_revoked_token_does_not_make_an_integrator(self, rep):
        token, _ = create_api_token(user=rep, name="Old export")
        revoke_api_token(token=token)
        assert not type(rep).objects.get(pk=rep.pk).is_integrator
