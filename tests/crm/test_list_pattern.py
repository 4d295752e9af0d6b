"""The customer list as the first user of the shared list pattern (core.lists, core.tables):
All / Mine, a title that says what is listed, optional columns, aria-sort, the phone
layout, filters behind a counted button, the way back with the same filters, and the
summary shown at once when it is cached."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from crm.models import Customer
from crm.tables import CustomerTable
from tests.factories import ContactFactory, CustomerFactory
from tests.html import parse

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
HIDDEN_ON_PHONES = {"d-none", "d-md-table-cell"}


def list_url(**params):
    url = reverse("crm:customer_list")
    return f"{url}?{urlencode(params)}" if params else url


def names(response):
    return [row.record.name for row in response.context["table"].page.object_list]


def headers(page):
    return {th.text: th for th in page.find(tag="table", class_="customer-table").find(tag="thead").find_all(tag="th")}


@pytest.fixture
def book(rep, other_rep):
    """Two customers of `rep` (one cannot be invoiced) and one of `other_rep`."""
    return {
        "mine": CustomerFactory(name="Mine Complete", owner=rep),
        "mine_incomplete": CustomerFactory(name="Mine No Tax", owner=rep, tax_id=""),
        "theirs": CustomerFactory(name="Theirs No City", owner=other_rep, city=""),
    }


class TestMine:
    def test_mine_lists_only_the_customers_i_own(self, client, rep, book):
        client.force_login(rep)
        assert names(client.get(list_url(mine=1))) == ["Mine Complete", "Mine No Tax"]
        assert names(client.get(list_url())) == ["Mine Complete", "Mine No Tax", "Theirs No City"]

    def test_the_switch_is_two_links_that_keep_the_other_filters(self, client, rep, book):
        client.force_login(rep)
        page = parse(client.get(list_url(status="active", mine=1, page=1)).text)
        switch = page.by_id("mine-switch")
        all_link, mine_link = switch.find_all(tag="a")
        assert (all_link.text, mine_link.text) == ("All customers", "My customers")
        assert mine_link.attrs["aria-current"] == "page" and "aria-current" not in all_link.attrs
        assert all_link.attrs["href"] == "?status=active"
        assert mine_link.attrs["href"] == "?status=active&mine=1"
        # Applying the filter form keeps the switch where it is.
        assert (
            page.find(tag="form", class_="filter-bar").find(tag="input", type="hidden", name="mine").attrs["value"]
            == "1"
        )

    def test_the_title_says_whose_customers(self, client, rep, book):
        client.force_login(rep)
        page = parse(client.get(list_url(mine=1)).text)
        assert page.find(tag="title").text == "My customers · Concord"
        assert page.by_id("list-title").text == "My customers"

    def test_only_those_who_own_customers_get_the_switch(self, client, clerk, book):
        client.force_login(clerk)
        assert parse(client.get(list_url()).text).find_all(id="mine-switch") == []

    def test_a_bad_mine_value_is_a_filter_error_not_a_crash(self, client, rep, book):
        client.force_login(rep)
        response = client.get(list_url(mine="yes please"))
        assert response.status_code == 200
        assert "Mine: Enter true or false." in parse(response.text).by_id("filter-errors").text


class TestTitle:
    @pytest.mark.parametrize(
        ("params", "title"),
        [
            ({}, "Customers"),
            ({"q": "acme"}, "Customers matching “acme”"),
            ({"q": "acme", "mine": "1"}, "My customers matching “acme”"),
            ({"status": "active", "billing": "incomplete"}, "Active customers missing billing details"),
            ({"mine": "1", "billing": "incomplete"}, "My customers missing billing details"),
            ({"status": "bogus", "q": "acme"}, "Customers"),  # an invalid filter lists nothing, so claims nothing
        ],
    )
    def test_the_page_title_and_heading_reflect_the_filters(self, client, rep, params, title):
        client.force_login(rep)
        page = parse(client.get(list_url(**params)).text)
        assert page.find(tag="title").text == f"{title} · Concord"
        assert page.by_id("list-title").text == title

    def test_the_searched_text_is_escaped_in_the_title(self, client, rep):
        client.force_login(rep)
        text = client.get(list_url(q="<b>x</b>")).text
        assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text


class TestBillingDetails:
    def test_incomplete_lists_those_that_cannot_be_invoiced(self, client, rep, book):
        client.force_login(rep)
        assert names(client.get(list_url(billing="incomplete"))) == ["Mine No Tax", "Theirs No City"]
        assert names(client.get(list_url(billing="complete"))) == ["Mine Complete"]
        assert names(client.get(list_url(billing="incomplete", mine=1))) == ["Mine No Tax"]

    def test_the_filter_is_always_in_the_bar(self, client, rep):
        client.force_login(rep)
        select = parse(client.get(list_url()).text).find(tag="select", name="billing")
        assert [option.text for option in select.find_all(tag="option")] == [
            "Any billing details",
            "Missing billing details",
            "Complete billing details",
        ]

    def test_an_unknown_value_is_a_filter_error(self, client, rep, book):
        client.force_login(rep)
        response = client.get(list_url(billing="maybe"))
        assert response.status_code == 200
        assert "is-invalid" in parse(response.text).find(tag="select", name="billing").classes


class TestOptionalColumns:
    def choose(self, client, *columns, url=None):
        return client.post(url or list_url(), {"columns": list(columns)})

    def test_no_optional_column_is_shown_until_chosen(self, client, rep, customer):
        client.force_login(rep)
        assert set(headers(parse(client.get(list_url()).text))) == {
            "Name",
            "Owner",
            "Status",
            "Terms",
            "Credit limit",
            "Updated",
        }

    def test_chosen_columns_are_remembered_for_the_person(self, client, rep, other_rep, customer):
        ContactFactory(customer=customer, name="Petra Primary", email="petra@acme.example", is_primary=True)
        customer.city, customer.country, customer.phone = "Berlin", "DE", "+49 30 1234"
        customer.save()
        client.force_login(rep)

        response = self.choose(client, "phone", "location", "primary_contact")

        assert response.status_code == 302 and response["Location"] == list_url()
        rep.refresh_from_db()
        assert rep.list_columns == {"crm.customer": ["location", "primary_contact", "phone"]}
        page = parse(client.get(list_url()).text)
        shown = headers(page)
        assert {"City, country", "Primary contact", "Phone"} <= set(shown)
        row = page.find(tag="tbody").find(tag="tr").text
        assert "Berlin, Germany" in row and "Petra Primary" in row and "petra@acme.example" in row
        assert "+49 30 1234" in row
        # Someone else's list is as they left it.
        client.force_login(other_rep)
        assert "Phone" not in headers(parse(client.get(list_url()).text))

    def test_the_chooser_shows_what_is_chosen_and_posts_to_the_same_list(self, client, rep, customer):
        rep.list_columns = {"crm.customer": ["phone"]}
        rep.save()
        client.force_login(rep)
        chooser = parse(client.get(list_url(status="active")).text).by_id("column-chooser")
        form = chooser.find(tag="form")
        assert form.attrs["method"] == "post" and form.attrs["action"] == list_url(status="active")
        boxes = {box.attrs["value"]: "checked" in box.attrs for box in form.find_all(tag="input", type="checkbox")}
        assert boxes == {"location": False, "primary_contact": False, "phone": True, "created_at": False}
        assert form.find(tag="button", type="submit").text == "Save columns"
        # Saving returns to the list with its filters.
        assert self.choose(client, "location", url=list_url(status="active"))["Location"] == list_url(status="active")

    def test_a_column_that_does_not_exist_is_ignored(self, client, rep, customer):
        client.force_login(rep)
        self.choose(client, "phone", "password", "owner__password", "", "x" * 5000)
        rep.refresh_from_db()
        assert rep.list_columns == {"crm.customer": ["phone"]}
        assert client.get(list_url()).status_code == 200

    @pytest.mark.parametrize("saved", [{"crm.customer": "phone"}, {"crm.customer": ["gone", "phone"]}, [], None])
    def test_a_saved_choice_the_table_cannot_use_is_ignored(self, client, rep, customer, saved):
        rep.list_columns = saved if saved is not None else {}
        rep.save()
        client.force_login(rep)
        response = client.get(list_url())
        assert response.status_code == 200
        expected = ["phone"] if isinstance(saved, dict) and isinstance(saved.get("crm.customer"), list) else []
        assert CustomerTable.chosen_columns(rep) == expected

    def test_choosing_nothing_clears_the_choice(self, client, rep, customer):
        rep.list_columns = {"crm.customer": ["phone"], "billing.invoice": ["due"]}
        rep.save()
        client.force_login(rep)
        self.choose(client)
        rep.refresh_from_db()
        assert rep.list_columns == {"crm.customer": [], "billing.invoice": ["due"]}

    def test_those_who_may_not_read_customers_cannot_save_columns(self, client, outsider):
        client.force_login(outsider)
        assert self.choose(client, "phone").status_code == 403
        outsider.refresh_from_db()
        assert outsider.list_columns == {}

    def test_sorting_by_an_optional_column(self, client, rep):
        for name, contact in (("B Corp", "Zed"), ("A Corp", "Amy")):
            ContactFactory(customer=CustomerFactory(name=name), name=contact, is_primary=True)
        rep.list_columns = {"crm.customer": ["primary_contact"]}
        rep.save()
        client.force_login(rep)
        assert names(client.get(list_url(sort="primary_contact"))) == ["A Corp", "B Corp"]
        assert names(client.get(list_url(sort="-primary_contact"))) == ["B Corp", "A Corp"]

    def test_every_optional_column_costs_no_query_per_row(self, client, rep, django_assert_num_queries):
        client.force_login(rep)
        client.get(list_url(per_page=50))  # warm
        for _ in range(3):
            ContactFactory(customer=CustomerFactory(), is_primary=True)
        with django_assert_num_queries(3) as plain:  # user, owners (filter), rows
            client.get(list_url(per_page=50))
        rep.list_columns = {"crm.customer": list(CustomerTable.optional_columns)}
        rep.save()
        client.get(list_url(per_page=50))  # warm again: saving a user forgets their cached permissions
        with django_assert_num_queries(3):
            client.get(list_url(per_page=50))
        for _ in range(40):
            ContactFactory(customer=CustomerFactory(), is_primary=True)
        with django_assert_num_queries(3) as many:
            response = client.get(list_url(per_page=50))
        assert len(response.context["table"].page.object_list) == 43
        assert any("primary_contact_name" in query["sql"] for query in many.captured_queries)
        assert len(plain) == len(many)


class TestSortedHeaders:
    def test_the_sorted_header_says_so_and_no_other(self, client, rep, customer):
        client.force_login(rep)
        shown = headers(parse(client.get(list_url()).text))
        assert shown["Name"].attrs["aria-sort"] == "ascending"  # the default order
        assert [name for name, th in shown.items() if "aria-sort" in th.attrs] == ["Name"]

        shown = headers(parse(client.get(list_url(sort="-credit_limit")).text))
        assert shown["Credit limit"].attrs["aria-sort"] == "descending"
        assert [name for name, th in shown.items() if "aria-sort" in th.attrs] == ["Credit limit"]


class TestPhoneLayout:
    def test_a_phone_shows_the_priority_columns_only(self, client, rep, customer):
        rep.list_columns = {"crm.customer": ["phone"]}
        rep.save()
        client.force_login(rep)
        page = parse(client.get(list_url()).text)
        hidden = {name for name, th in headers(page).items() if th.classes >= HIDDEN_ON_PHONES}
        assert hidden == {"Owner", "Terms", "Credit limit", "Updated", "Phone"}
        cells = page.find(tag="tbody").find(tag="tr").find_all(tag="td")
        assert [cell.classes >= HIDDEN_ON_PHONES for cell in cells] == [False, True, True, False, True, True, True]
        # The money column keeps its own class.
        assert "money" in headers(page)["Credit limit"].classes


class TestFilterBar:
    def test_the_phone_button_counts_the_filters_it_hides(self, client, rep, other_rep, customer):
        client.force_login(rep)
        page = parse(client.get(list_url(owner=other_rep.pk, billing="incomplete", q="x", mine=1)).text)
        button = page.by_id("filters-toggle")
        assert button.text == "Filters (2)"  # search and Mine stay in view, so they are not counted
        assert button.attrs["aria-controls"] == "list-filters" and button.attrs["aria-expanded"] == "false"
        panel = page.by_id("list-filters")
        assert {"collapse", "d-md-block"} <= panel.classes and "show" not in panel.classes
        assert panel.find(tag="select", name="owner")

    def test_no_filters_no_count(self, client, rep, customer):
        client.force_login(rep)
        assert parse(client.get(list_url()).text).by_id("filters-toggle").text == "Filters"

    def test_a_refused_filter_opens_the_folded_bar(self, client, rep, customer):
        client.force_login(rep)
        page = parse(client.get(list_url(status="bogus")).text)
        assert "show" in page.by_id("list-filters").classes
        assert page.by_id("filters-toggle").attrs["aria-expanded"] == "true"


class TestWayBack:
    def test_the_record_and_edit_breadcrumbs_return_to_the_list_as_left(self, client, rep, customer):
        client.force_login(rep)
        client.get(list_url(status="active", q="acme", sort="-credit_limit", page=1))
        client.get(list_url(status="active", q="acme", sort="-credit_limit", page=1, _part="summary"), headers=HTMX)
        expected = list_url(status="active", q="acme", sort="-credit_limit", page=1)
        for url in (customer.get_absolute_url(), reverse("crm:customer_edit", args=[customer.pk])):
            crumbs = parse(client.get(url).text).find(tag="ol", class_="breadcrumb")
            assert crumbs.find(tag="a", string=None).attrs["href"] == expected, url

    def test_without_a_visit_the_breadcrumb_is_the_plain_list(self, client, rep, customer):
        client.force_login(rep)
        crumbs = parse(client.get(customer.get_absolute_url()).text).find(tag="ol", class_="breadcrumb")
        assert crumbs.find(tag="a").attrs["href"] == list_url()

    def test_an_export_is_not_remembered(self, client, rep, customer):
        client.force_login(rep)
        client.get(list_url(status="active"))
        b"".join(client.get(list_url(status="prospect", _export="csv")).streaming_content)
        crumbs = parse(client.get(customer.get_absolute_url()).text).find(tag="ol", class_="breadcrumb")
        assert crumbs.find(tag="a").attrs["href"] == list_url(status="active")

    def test_clearing_the_filters_is_remembered_too(self, client, rep, customer):
        client.force_login(rep)
        client.get(list_url(status="active"))
        client.get(list_url())
        crumbs = parse(client.get(customer.get_absolute_url()).text).find(tag="ol", class_="breadcrumb")
        assert crumbs.find(tag="a").attrs["href"] == list_url()


class TestSummary:
    def test_a_cached_summary_is_in_the_page_and_a_missing_one_is_asked_for(self, client, rep, book):
        client.force_login(rep)
        summary = parse(client.get(list_url(status="active")).text).by_id("list-summary")
        assert summary.attrs["hx-get"] == "?status=active&_part=summary"
        assert summary.text == "Counting…"

        client.get(list_url(status="active", _part="summary"), headers=HTMX)  # what htmx asks for

        summary = parse(client.get(list_url(status="active")).text).by_id("list-summary")
        assert "hx-get" not in summary.attrs
        assert summary.text.startswith("3 customers match")
        # Another filter has its own figure, not yet counted.
        assert "hx-get" in parse(client.get(list_url(status="active", q="Mine")).text).by_id("list-summary").attrs

    def test_a_change_makes_the_page_ask_again(self, client, rep, book):
        client.force_login(rep)
        client.get(list_url(_part="summary"), headers=HTMX)
        assert "hx-get" not in parse(client.get(list_url()).text).by_id("list-summary").attrs
        CustomerFactory(owner=rep)
        assert "hx-get" in parse(client.get(list_url()).text).by_id("list-summary").attrs

    def test_a_warm_page_costs_no_summary_queries(self, client, rep, book, django_assert_num_queries):
        client.force_login(rep)
        client.get(list_url(_part="summary"), headers=HTMX)
        client.get(list_url())
        with django_assert_num_queries(3):  # user, owners, rows: the summary comes from the cache
            response = client.get(list_url())
        assert "3 customers" in parse(response.text).by_id("list-summary").text


def test_bad_input_on_the_new_parameters_never_breaks_the_page(client, rep, customer):
    client.force_login(rep)
    for params in (
        {"mine": "\x00"},
        {"billing": "\x00"},
        {"q": "\x00" * 3, "mine": "1"},
        {"sort": "primary_contact"},  # an optional column not shown
        {"page": str(2**70), "mine": "1"},
        {"q": "é" * 5000},
    ):
        assert client.get(list_url(**params)).status_code == 200, params
    assert Customer.objects.count() == 1
