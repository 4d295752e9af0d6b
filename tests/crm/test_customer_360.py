"""The customer 360: panels registered in crm.panels, rendered in order, hidden when
they have nothing to show, extensible by apps crm never imports, and a page that costs
the same number of queries for a customer with a short or a ten times longer history."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import collaboration
from crm import panels
from crm.models import Customer, Quote, ServiceCase
from crm.panels import Badge, Panel
from tests.factories import ContactFactory, CustomerFactory, OpportunityFactory, ServiceCaseFactory, stage
from tests.html import parse

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15
TODAY = datetime.date.today()


def detail_url(customer):
    return reverse("crm:customer_detail", args=[customer.pk])


def panel_url(customer, key: str) -> str:
    """A lazy panel's own URL: its placeholder asks for it once the page is shown."""
    return reverse("crm:customer_panel", args=[customer.pk, key])


LAZY_PANELS = ("collections", "invoices", "quotes", "closed_deals", "feed")


def make_quote(deal, number, status=Quote.Status.SENT, total=Decimal("1190.00")):
    return Quote.objects.create(
        opportunity=deal,
        customer=deal.customer,
        number=number,
        status=status,
        issue_date=TODAY,
        valid_until=TODAY + datetime.timedelta(days=30),
        currency=deal.currency,
        payment_terms=deal.payment_terms,
        payment_days=deal.payment_days,
        subtotal=total - Decimal("190.00"),
        tax_total=Decimal("190.00"),
        total=total,
        created_by=deal.owner,
    )


def add_history(customer, scale: int, start: int = 0):
    """`scale` × a customer's history: deals open, won and lost, quotes, cases open
    and closed, contacts and feed items."""
    won, lost = stage("Won"), stage("Lost")
    for n in range(start, start + scale):
        ContactFactory(customer=customer)
        for k in range(3):
            OpportunityFactory(customer=customer, name=f"Open deal {n}-{k}", amount=Decimal("1000.00"))
        OpportunityFactory(customer=customer, name=f"Won deal {n}", stage=won, closed_on=TODAY)
        lost_deal = OpportunityFactory(customer=customer, name=f"Lost deal {n}", stage=lost, closed_on=TODAY)
        lost_deal.lost_reason = "Price"
        lost_deal.save(update_fields=["lost_reason"])
        for k in range(2):
            make_quote(lost_deal, f"Q-2026-{n:04d}{k}")
        ServiceCaseFactory(customer=customer, subject=f"Case {n}", severity=ServiceCase.Severity.HIGH)
        ServiceCaseFactory(customer=customer, subject=f"Closed case {n}", status=ServiceCase.Status.CLOSED)
        for k in range(3):
            collaboration.publish(customer, "customer.checked", actor=customer.owner, data={"n": n, "k": k})


def count_queries(client, url) -> int:
    client.get(url)  # warm: the session user, permissions and content types are cached
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


class TestPanels:
    def test_a_long_history_shows_every_panel_with_bounded_lists(self, signed_in, customer):
        add_history(customer, 3)
        page = parse(signed_in("rep").get(detail_url(customer)).text)

        deals = page.by_id("deals-panel")
        assert len(deals.find("tbody").find_all(tag="tr")) == 9
        assert page.by_id("open-deal-count").text == "9"
        new_deal = page.by_id("new-deal")
        assert new_deal.attrs["href"] == reverse("crm:opportunity_create", args=[customer.pk])

        client = signed_in("rep")
        for key in ("quotes", "closed_deals"):  # placeholders, filled in after load
            placeholder = page.by_id(f"{key}-lazy-panel")
            assert placeholder.attrs["hx-get"] == panel_url(customer, key)
            assert placeholder.attrs["hx-swap"] == "outerHTML"
        closed = parse(client.get(panel_url(customer, "closed_deals")).text).by_id("closed-deals-panel")
        assert {"Won", "Lost"} <= {badge.text for badge in closed.find_all(class_="badge")}
        assert "Price" in closed.text

        quotes = parse(client.get(panel_url(customer, "quotes")).text).by_id("quotes-panel")
        assert len(quotes.find("tbody").find_all(tag="tr")) == 5  # the latest five of six
        assert "Sent" in quotes.text and "1,190.00" in quotes.text

        cases = page.by_id("cases-panel")
        assert page.by_id("open-case-count").text == "3"
        assert "Closed case" not in cases.text
        assert {badge.text for badge in cases.find("ul").find_all(class_="badge")} == {"High"}
        assert page.by_id("log-case").attrs["href"] == reverse("crm:case_create", args=[customer.pk])

        assert page.by_id("contacts-panel")
        assert page.by_id("side-panels").find(id="feed-lazy-panel")  # the feed comes after load too
        feed = parse(client.get(panel_url(customer, "feed")).text)
        assert feed.by_id("feed-panel") and feed.by_id("feed-composer")

    def test_a_new_customer_shows_empty_deals_and_cases_and_no_quotes_or_closed_deals(self, signed_in, customer):
        client = signed_in("rep")
        page = parse(client.get(detail_url(customer)).text)
        assert page.by_id("no-open-deals")
        assert page.by_id("no-open-cases")
        # Lazy panels with nothing to show answer nothing: htmx swaps their placeholder away.
        for key in ("quotes", "closed_deals"):
            response = client.get(panel_url(customer, key))
            assert response.status_code == 200 and response.content == b""

    def test_a_lazy_panel_is_only_what_its_person_may_see(self, signed_in, customer):
        assert signed_in("rep").get(panel_url(customer, "contacts")).status_code == 404  # not lazy
        assert signed_in("rep").get(panel_url(customer, "nonsense")).status_code == 404
        assert (
            signed_in("rep").get(reverse("crm:customer_panel", args=[customer.pk + 1000, "quotes"])).status_code == 404
        )
        response = Client().get(panel_url(customer, "quotes"))  # signed out
        assert response.status_code == 302 and "login" in response.url

    def test_more_open_deals_than_shown_link_to_all_of_them(self, signed_in, customer):
        OpportunityFactory.create_batch(12, customer=customer)
        page = parse(signed_in("rep").get(detail_url(customer)).text)
        assert len(page.by_id("deals-panel").find("tbody").find_all(tag="tr")) == 10
        assert page.by_id("deals-panel").find(tag="a", href=f"{reverse('crm:opportunity_list')}?customer={customer.pk}")

    def test_who_may_not_create_deals_gets_no_new_deal_button(self, signed_in, customer):
        page = parse(signed_in("clerk").get(detail_url(customer)).text)
        assert not page.find_all(id="new-deal")
        assert page.find_all(id="log-case")  # everyone logs cases

    def test_the_header_badges_say_what_needs_attention(self, signed_in, rep):
        customer = CustomerFactory(owner=rep, tax_id="")
        ServiceCaseFactory.create_batch(2, customer=customer)
        badges = parse(signed_in("rep").get(detail_url(customer)).text).by_id("record-badges").text
        assert "Billing details incomplete" in badges
        assert "2 open cases" in badges

    def test_a_complete_customer_without_cases_has_no_extra_badges(self, signed_in, customer):
        page = parse(signed_in("rep").get(detail_url(customer)).text)
        assert not page.find_all(id="record-badges")


class TestRegistry:
    def test_panels_render_in_order_in_their_columns(self, signed_in, customer):
        add_history(customer, 1)
        response = signed_in("rep").get(detail_url(customer))
        main = [shown.panel.key for shown in response.context["panels"]["main"]]
        # receivables' panel (order 5), its Statement link (6) and Collections (7) come first for who may
        # see the customer's standing.
        main_keys = [
            "receivables",
            "statement",
            "collections",
            "billing",
            "contacts",
            "open_deals",
            "invoices",
            "open_cases",
            "quotes",
        ]
        assert main == [*main_keys, "closed_deals"]
        lazy = [
            shown.panel.key
            for column in ("main", "side")
            for shown in response.context["panels"][column]
            if shown.lazy_url
        ]
        assert lazy == list(LAZY_PANELS)
        assert [shown.panel.key for shown in response.context["panels"]["side"]] == ["about", "feed"]
        # …and in the page in that order.
        html = response.text
        positions = [html.index(f'id="{panel_id}"') for panel_id in ("contacts-panel", "deals-panel", "cases-panel")]
        assert positions == sorted(positions)

    def test_a_panel_with_a_bad_column_is_refused(self):
        with pytest.raises(ValueError):
            Panel("x", "X", "x.html", lambda request, customer: {}, column="footer")


# --- a panel from another app: what billing will do, from its own AppConfig.ready() --------


def outstanding_panel(request, customer):
    """The fake app's panel: hidden for customers it has nothing on."""
    if customer.name.startswith("Nothing"):
        return None
    return {"outstanding": Decimal("4200.00")}


@pytest.fixture
def fake_billing_app(settings, tmp_path):
    (tmp_path / "fakebilling").mkdir()
    (tmp_path / "fakebilling" / "panel.html").write_text(
        '{% load concord %}<section class="card mb-3" id="fake-invoices-panel" aria-labelledby="fake-h">'
        '<h2 id="fake-h" class="h6">{{ panel.title }}</h2>'
        "<p>{{ outstanding|money:customer.currency }} open for {{ customer.name }}</p></section>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    panels.register_panel(Panel("fake_invoices", "Invoices", "fakebilling/panel.html", outstanding_panel, order=35))
    panels.register_panel(
        Panel("fake_aging", "Aging", "fakebilling/panel.html", outstanding_panel, order=36, permission="crm.no_such")
    )
    panels.register_badge("fake_hold", lambda request, customer: [Badge("On credit hold", "danger")])
    yield
    panels.unregister_panel("fake_invoices")
    panels.unregister_panel("fake_aging")
    panels.unregister_badge("fake_hold")


class TestAnotherAppsPanel:
    def test_it_shows_in_its_place_with_the_page_context(self, signed_in, customer, fake_billing_app):
        response = signed_in("rep").get(detail_url(customer))
        main = [shown.panel.key for shown in response.context["panels"]["main"]]
        assert main[main.index("open_deals") + 1] == "fake_invoices"
        page = parse(response.text)
        panel = page.by_id("fake-invoices-panel")
        assert panel.find(tag="h2").text == "Invoices"
        assert "4,200.00" in panel.text and customer.name in panel.text
        assert "On credit hold" in page.by_id("record-badges").text

    def test_it_is_hidden_when_its_context_is_none(self, signed_in, rep, fake_billing_app):
        customer = CustomerFactory(owner=rep, name="Nothing Owed AG")
        page = parse(signed_in("rep").get(detail_url(customer)).text)
        assert not page.find_all(id="fake-invoices-panel")

    def test_it_is_hidden_from_who_lacks_its_permission(self, signed_in, customer, fake_billing_app):
        response = signed_in("rep").get(detail_url(customer))
        assert "fake_aging" not in [shown.panel.key for shown in response.context["panels"]["main"]]


class TestQueryCount:
    def test_the_page_costs_the_same_for_1x_and_10x_history(self, signed_in, customer):
        client = signed_in("rep")
        add_history(customer, 1)
        one = count_queries(client, detail_url(customer))
        add_history(customer, 9, start=1)
        ten = count_queries(client, detail_url(customer))
        # user, customer, contacts, receivables' figures (one precompiled query,
        # tests/receivables/test_credit_pages.py), open deals, open cases; the feed, billing's
        # invoices, the quotes and the won and lost deals come after load (lazy panels, below)
        assert one == ten == 6 <= MAX_QUERIES
        drawn_in = f"{detail_url(customer)}?feed=1"  # as without JavaScript: the feed in the page
        assert count_queries(client, drawn_in) == 12 <= MAX_QUERIES

    def test_each_lazy_panel_costs_the_same_for_1x_and_10x_history(self, signed_in, customer):
        client = signed_in("rep")
        add_history(customer, 1)
        one = {key: count_queries(client, panel_url(customer, key)) for key in LAZY_PANELS}
        add_history(customer, 9, start=1)
        ten = {key: count_queries(client, panel_url(customer, key)) for key in LAZY_PANELS}
        # user, customer, then the panel's own: receivables' collections (every kind in one
        # row), the invoice figures (none here, so no list of them: tests/billing/test_pages.py),
        # the latest quotes, the latest won and lost deals; the feed: following?, its items with
        # their details (tests/collaboration/test_feed_queries.py) and the record's approvals
        assert one == ten == {"collections": 3, "invoices": 3, "quotes": 3, "closed_deals": 3, "feed": 8}

    def test_a_customer_without_history_costs_no_more(self, signed_in, customer):
        assert count_queries(signed_in("rep"), detail_url(customer)) <= MAX_QUERIES


class TestOwners:
    def test_deals_and_cases_of_other_owners_show_them_for_one_query_more(self, signed_in, customer, other_rep):
        client = signed_in("rep")
        OpportunityFactory(customer=customer, name="Ours", owner=customer.owner)
        ServiceCaseFactory(customer=customer, subject="Our case", owner=customer.owner)
        own = count_queries(client, detail_url(customer))
        OpportunityFactory(customer=customer, name="Theirs", owner=other_rep)
        ServiceCaseFactory(customer=customer, subject="Their case", owner=other_rep)
        mixed = count_queries(client, detail_url(customer))
        assert mixed == own + 2  # the other owner, once for the deals and once for the cases
        page = parse(client.get(detail_url(customer)).text)
        deals, cases = page.by_id("deals-panel").text, page.by_id("cases-panel").text
        assert str(other_rep) in deals and str(customer.owner) in deals
        assert str(other_rep) in cases and str(customer.owner) in cases

    def test_who_changed_it_last_is_shown_and_costs_a_query_only_when_not_its_owner(
        self, signed_in, customer, other_rep
    ):
        client = signed_in("rep")
        Customer.objects.filter(pk=customer.pk).update(updated_by=customer.owner)
        by_owner = count_queries(client, detail_url(customer))
        assert f"by {customer.owner}" in parse(client.get(detail_url(customer)).text).by_id("last-changed").text
        Customer.objects.filter(pk=customer.pk).update(updated_by=other_rep)
        assert count_queries(client, detail_url(customer)) == by_owner + 1
        assert f"by {other_rep}" in parse(client.get(detail_url(customer)).text).by_id("last-changed").text
