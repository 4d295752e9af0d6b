"""The CRM in the global search (crm.search): customers, contacts, leads and deals,
ranked, with PostgreSQL full-text search and a plain fallback elsewhere."""

import pytest
from django.db import connection
from django.urls import reverse

from crm.models import Customer, Lead, Opportunity
from crm.search import (
    CUSTOMER_FIELDS,
    OPPORTUNITY_FIELDS,
    looks_like_identifier,
    prefix_query,
    prefix_terms,
    ranked_search,
)
from tests.factories import CustomerFactory, LeadFactory, OpportunityFactory
from tests.html import parse

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search is PostgreSQL's")


def search_page(client, query):
    response = client.get(reverse("search"), {"q": query})
    assert response.status_code == 200
    return parse(response.text)


def titles(page, kind):
    return [link.text for link in page.by_id(f"search-{kind}").find_all(tag="a", class_="fw-semibold")]


def names(queryset):
    return [row.name for row in queryset]


class TestRanking:
    def test_an_exact_name_comes_before_names_starting_with_it_before_the_rest(self):
        CustomerFactory(name="Alpha Zeta Systems")
        CustomerFactory(name="Zeta Labs")
        CustomerFactory(name="Zeta")
        CustomerFactory(name="Beta", legal_name="Beta Zeta Holding")
        found = names(ranked_search(Customer.objects.all(), CUSTOMER_FIELDS, "zeta"))
        assert found[:2] == ["Zeta", "Zeta Labs"]
        assert set(found[2:]) == {"Alpha Zeta Systems", "Beta"}

    def test_a_word_in_the_name_ranks_above_one_only_in_the_legal_name(self):
        CustomerFactory(name="Beta", legal_name="Beta Zeta Holding")
        CustomerFactory(name="Alpha Zeta Systems", legal_name="Alpha Systems AG")
        assert names(ranked_search(Customer.objects.all(), CUSTOMER_FIELDS, "zeta")) == ["Alpha Zeta Systems", "Beta"]

    def test_every_word_must_match_in_any_order_and_words_are_prefixes(self):
        CustomerFactory(name="Nordwind Logistik Hamburg")
        CustomerFactory(name="Nordwind Software")
        CustomerFactory(name="Südstern Logistik")
        assert names(ranked_search(Customer.objects.all(), CUSTOMER_FIELDS, "logist nordw")) == [
            "Nordwind Logistik Hamburg"
        ]

    def test_the_page_shows_the_exact_match_first(self, client, rep):
        CustomerFactory(name="Alpha Initech")
        CustomerFactory(name="Initech")
        client.force_login(rep)
        assert titles(search_page(client, "initech"), "customers") == ["Initech", "Alpha Initech"]


class TestKinds:
    def test_finds_leads_by_name_company_and_email(self, client, rep):
        lead = LeadFactory(name="Wanda Lead", company="Globex Prospects", email="wanda@globex.example")
        client.force_login(rep)
        for query in ("wanda", "globex", "wanda@glob"):
            page = search_page(client, query)
            assert titles(page, "leads") == ["Wanda Lead"], query
        link = page.by_id("search-leads").find(tag="a", class_="fw-semibold")
        assert link.attrs["href"] == lead.get_absolute_url()
        assert "Globex Prospects" in page.by_id("search-leads").text

    def test_finds_deals_by_name_with_their_customer_and_stage(self, client, rep, customer):
        deal = OpportunityFactory(customer=customer, name="Renewal 2027")
        client.force_login(rep)
        page = search_page(client, "renewal")
        assert titles(page, "opportunities") == ["Renewal 2027"]
        group = page.by_id("search-opportunities")
        assert group.find(tag="a", class_="fw-semibold").attrs["href"] == deal.get_absolute_url()
        assert customer.name in group.text and "Qualification" in group.text
        assert "0.00 EUR" in group.text and "<span" not in group.text  # plain text, not escaped markup
        assert "Deals" in page.by_id("search-opportunities-title").text

    def test_each_kind_costs_two_queries_at_most(self, client, rep, customer, django_assert_num_queries):
        client.force_login(rep)
        search_page(client, "acme")  # warm
        for n in range(7):
            OpportunityFactory(customer=customer, name=f"Acme deal {n}")
            LeadFactory(company=f"Acme lead {n}")
        # user; customers: count + rows; contacts: count; leads and deals: count + rows; invoices: count; payments: count
        with django_assert_num_queries(1 + 2 + 1 + 2 + 2 + 1 + 1):
            page = search_page(client, "acme")
        assert len(titles(page, "opportunities")) == 5
        assert "7" in page.by_id("search-opportunities-title").text


class TestHostileInput:
    @pytest.mark.parametrize("query", ["acme & | ! :* ( ) <->", "'", "a:*", "!", "x" * 100, "日本語", "a"])
    def test_query_syntax_is_never_passed_through(self, client, rep, query):
        CustomerFactory(name="Acme")
        client.force_login(rep)
        search_page(client, query)

    def test_only_words_reach_the_text_query(self):
        assert prefix_terms("acme & | ! :* ( ) <->") == "acme:*"
        assert prefix_terms("Müller-Lüdenscheidt GmbH") == "müller:* & lüdenscheidt:* & gmbh:*"
        assert prefix_query("&!()") is None


def test_identifiers_are_searched_when_the_query_is_more_than_words():
    assert all(looks_like_identifier(q) for q in ("ap@globex", "DE 123", "+49 30", "acme.example"))
    assert not any(looks_like_identifier(q) for q in ("acme", "Müller Logistik"))


class TestDatabases:
    def test_postgresql_uses_full_text_search_and_sqlite_falls_back_to_plain_matching(self):
        # One test for both (CI, on PostgreSQL, must skip nothing).
        sql = str(ranked_search(Customer.objects.all(), CUSTOMER_FIELDS, "acme").query)
        if connection.vendor == "postgresql":
            assert "to_tsvector" in sql and "@@" in sql and "to_tsquery" in sql
        else:
            assert "LIKE" in sql and "to_tsvector" not in sql

    @on_postgresql
    def test_postgresql_answers_from_the_gin_index(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = ranked_search(Opportunity.objects.all(), OPPORTUNITY_FIELDS, "renewal").explain()
        assert "crm_opportunity_search_fts" in plan
        plan = ranked_search(Customer.objects.all(), CUSTOMER_FIELDS, "acme").explain()
        assert "crm_customer_search_fts" in plan

    def test_a_word_inside_a_name_is_found_where_matching_is_by_substring_only(self):
        """A fragment from the middle of a word is a substring match: SQLite finds it,
        PostgreSQL's word search does not (the customer list's own search still does)."""
        CustomerFactory(name="Initech")
        found = names(ranked_search(Customer.objects.all(), CUSTOMER_FIELDS, "nitech"))
        assert found == ([] if connection.vendor == "postgresql" else ["Initech"])

    def test_lead_status_does_not_hide_it(self, client, rep):
        LeadFactory(name="Old Lead", status=Lead.Status.DISQUALIFIED, disqualified_reason="No budget")
        client.force_login(rep)
        assert titles(search_page(client, "old lead"), "leads") == ["Old Lead"]
