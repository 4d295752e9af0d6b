"""The header's global search: one query, every kind of record the user may read."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from core import search as global_search
from core.search import MAX_QUERY_LENGTH, SearchProvider, SearchResult, clean_query
from crm.models import Customer
from tests.factories import ContactFactory, CustomerFactory
from tests.html import parse

pytestmark = pytest.mark.django_db


def search(client, query, **params):
    response = client.get(reverse("search"), {"q": query, **params})
    assert response.status_code == 200
    return response


def titles(page, kind):
    return [link.text for link in page.by_id(f"search-{kind}").find_all(tag="a", class_="fw-semibold")]


def test_the_header_search_goes_to_the_global_search_not_to_the_customer_list(client, rep):
    client.force_login(rep)
    page = parse(client.get(reverse("crm:customer_list")).text)
    box = page.by_id("global-search")
    assert box.ancestor(tag="form").attrs["action"] == reverse("search")
    assert box.attrs["aria-label"] == "Search Concord"
    # The list's own search box is the only one holding the list's query.
    page = parse(client.get(reverse("crm:customer_list"), {"q": "acme"}).text)
    assert page.by_id("global-search").attrs.get("value", "") == ""


def test_finds_customers_and_contacts_grouped_with_counts(client, rep):
    acme = CustomerFactory(name="Acme Industries", email="ap@acme.example")
    CustomerFactory(name="Acme Logistics")
    CustomerFactory(name="Umbrella", legal_name="Umbrella ACME Holding")
    CustomerFactory(name="Initech")
    contact = ContactFactory(customer=acme, name="Wile Coyote", email="wile@acme.example")
    client.force_login(rep)

    response = search(client, "acme")

    page = parse(response.text)
    assert page.find(tag="title").text == "Search: acme · Concord"
    assert titles(page, "customers") == ["Acme Industries", "Acme Logistics", "Umbrella"]
    assert "3" in page.by_id("search-customers-title").text
    see_all = page.by_id("search-customers").find(tag="a", href=f"{reverse('crm:customer_list')}?q=acme")
    assert see_all.text == "See all 3 customers"
    (link,) = page.by_id("search-contacts").find_all(tag="a", class_="fw-semibold")
    assert link.text == "Wile Coyote"
    assert link.attrs["href"] == f"{acme.get_absolute_url()}#contact-{contact.pk}"


@pytest.mark.parametrize("query", ["DE 123", "de123", "ap@globex"])
def test_finds_customers_by_tax_id_as_typed_and_by_email(client, rep, query):
    CustomerFactory(name="Globex", tax_id="DE123456", email="ap@globex.example")
    client.force_login(rep)
    assert titles(parse(search(client, query).text), "customers") == ["Globex"]


def test_finds_contacts_by_phone(client, rep):
    ContactFactory(name="Pat Phone", phone="+49 30 555 0199")
    client.force_login(rep)
    assert titles(parse(search(client, "555 0199").text), "contacts") == ["Pat Phone"]


def test_a_single_match_is_shown_as_a_result_not_a_silent_redirect(client, rep):
    CustomerFactory(name="Only One AG")
    client.force_login(rep)
    response = search(client, "Only One")
    assert titles(parse(response.text), "customers") == ["Only One AG"]


def test_shows_at_most_five_of_each_kind_and_the_count(client, rep):
    CustomerFactory.create_batch(8, name="Widget")
    client.force_login(rep)
    page = parse(search(client, "widget").text)
    assert len(titles(page, "customers")) == 5
    assert page.by_id("search-customers").find(tag="a", href="/customers/?q=widget").text == ("See all 8 customers")


def test_nothing_found_says_what_to_try(client, rep, customer):
    client.force_login(rep)
    page = parse(search(client, "zzzz").text)
    assert "Nothing matches “zzzz”" in page.by_id("search-no-results").text


def test_an_empty_query_asks_for_one(client, rep, customer):
    client.force_login(rep)
    page = parse(search(client, "   ").text)
    assert page.find(tag="title").text == "Search · Concord"
    assert page.find_all(class_="search-group") == []
    assert page.find_all(id="search-empty")


def test_someone_without_a_role_finds_nothing(client, outsider, customer):
    client.force_login(outsider)
    page = parse(search(client, customer.name).text)
    assert page.find_all(class_="search-group") == []


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("search"), {"q": "acme"})
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    "query",
    [
        "\x00",
        "ac\x00me",
        "x" * 10_000,
        "Ünïcødé ☃ 日本語 \U0001f600",
        "%_\\'\"; DROP TABLE crm_customer; --",
        "\u202eevil",
        "<script>alert(1)</script>",
    ],
)
def test_junk_never_breaks_the_page(client, rep, customer, query):
    client.force_login(rep)
    response = search(client, query)
    assert "<script>alert(1)</script>" not in response.text


def test_a_long_query_is_cut_and_says_so(client, rep, customer):
    client.force_login(rep)
    page = parse(search(client, "acme " * 100).text)
    assert page.by_id("search-shortened").text.startswith(f"Searched for the first {MAX_QUERY_LENGTH} characters")


def test_clean_query_drops_control_characters_and_collapses_whitespace():
    assert clean_query("  ac\x00me\t  corp \u200b ") == "ac me corp"
    assert clean_query("x" * 500) == "x" * MAX_QUERY_LENGTH


def test_the_query_count_does_not_grow_with_matches(client, rep, django_assert_num_queries):
    client.force_login(rep)
    ContactFactory(customer=CustomerFactory(name="Match 0"), name="Match person 0")
    search(client, "match")  # warm: permissions cached
    # user; a count and the first rows for customers; a count, the first rows and their customers
    # for contacts; only a count for leads, deals, invoices and payments (none match)
    expected = 1 + 2 + 3 + 1 + 1 + 1 + 1
    with django_assert_num_queries(expected):
        search(client, "match")
    for number in range(1, 30):
        ContactFactory(customer=CustomerFactory(name=f"Match {number}"), name=f"Match person {number}")
    # + the customers named "match" (invoices and payments are found by them too): cached until a customer changes
    with django_assert_num_queries(expected + 1):
        search(client, "match")
    with django_assert_num_queries(expected):
        search(client, "match")


def test_another_app_adds_a_kind_by_registering_a_provider(client, rep, customer):
    """What billing will do for invoices: register once; the page groups and counts them."""
    provider = SearchProvider(
        key="prospects",
        label="Prospects",
        noun="prospect",
        permission="crm.view_customer",
        find=lambda user, query: Customer.objects.filter(status=Customer.Status.PROSPECT).search(query),
        result=lambda row: SearchResult(row.name, row.get_absolute_url()),
        see_all_url=lambda query: f"/customers/?{urlencode({'q': query, 'status': 'prospect'})}",
    )
    CustomerFactory(name="Acme Prospect", status=Customer.Status.PROSPECT)
    global_search.register(provider)
    try:
        client.force_login(rep)
        page = parse(search(client, "acme").text)
        assert titles(page, "prospects") == ["Acme Prospect"]
        assert page.by_id("search-prospects").find(tag="a", href="/customers/?q=acme&status=prospect")
    finally:
        global_search._providers.pop("prospects")


def test_a_count_stops_at_the_limit_and_says_so(client, rep, monkeypatch):
    """Counting every match of a common word costs more than the rest of the search:
    past COUNT_LIMIT the group says "N+"."""
    monkeypatch.setattr(global_search, "COUNT_LIMIT", 3)
    client.force_login(rep)
    for number in range(5):
        CustomerFactory(name=f"Limit {number}")
    page = parse(search(client, "limit").text)
    assert page.by_id("search-customers-title").text.split()[-1] == "3+"
    assert "See all 3+ customers" in " ".join(page.text.split())
    assert len(titles(page, "customers")) == 5
