"""The home page shows each role what it works on first, and nothing it cannot use."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CustomerFactory
from tests.html import parse

SECTIONS = {"my-customers", "customers-per-owner", "missing-billing", "credit-granted", "recent-customers"}


def home(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response


def sections_on(response) -> set[str]:
    return {section.attrs["id"] for section in parse(response.content.decode()).find_all(tag="section")} & SECTIONS


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("rep", {"my-customers"}),
        ("sales_manager", {"customers-per-owner"}),
        ("clerk", {"missing-billing", "credit-granted", "recent-customers"}),
        ("finance_manager", {"missing-billing", "credit-granted", "recent-customers"}),
        ("admin", {"customers-per-owner", "missing-billing", "credit-granted", "recent-customers"}),
        ("outsider", set()),
    ],
)
def test_each_role_gets_its_own_sections_and_no_others(client, actors, actor, expected):
    response = home(client, actors[actor])
    assert sections_on(response) == expected
    assert actors[actor].role_label in response.content.decode()


def test_a_rep_sees_how_many_customers_they_own_and_the_latest_ten(client, rep, other_rep):
    mine = CustomerFactory.create_batch(12, owner=rep)
    CustomerFactory(owner=other_rep, name="Not Mine AG")

    response = home(client, rep)

    digest = response.context["my_customers"]
    assert digest.count == 12
    assert len(digest.latest) == 10 and {c.owner for c in digest.latest} == {rep}
    page = response.content.decode()
    assert "Not Mine AG" not in page
    assert f"{reverse('crm:customer_list')}?mine=1" in page
    assert mine[-1].get_absolute_url() in page


def test_a_rep_without_customers_is_told_so_and_offered_to_create_one(client, rep):
    page = parse(home(client, rep).content.decode())
    digest = page.by_id("my-customers")
    assert "You do not own any customers yet." in digest.text
    assert digest.find(tag="a", href=reverse("crm:customer_create")).text == "Create one"


def test_a_sales_manager_sees_customers_counted_per_owner(client, sales_manager, rep, other_rep):
    CustomerFactory.create_batch(3, owner=rep)
    CustomerFactory(owner=rep, status="inactive")
    CustomerFactory(owner=other_rep)

    response = home(client, sales_manager)

    counts = [(owner, owner.customer_count, owner.active_count) for owner in response.context["owners"]]
    assert counts == [(rep, 4, 3), (other_rep, 1, 1)]
    assert f"?owner={rep.pk}" in response.content.decode()


def test_finance_sees_customers_missing_billing_details(client, clerk, rep):
    CustomerFactory(owner=rep, name="Complete GmbH")
    CustomerFactory(owner=rep, name="No Tax Id Ltd", tax_id="")
    CustomerFactory(owner=rep, name="No Address SA", address_line1="", city="")

    response = home(client, clerk)

    digest = response.context["missing_billing"]
    assert digest.count == 2
    assert {c.name for c in digest.latest} == {"No Tax Id Ltd", "No Address SA"}
    assert [c.name for c in response.context["recent_customers"]] == ["No Address SA", "No Tax Id Ltd", "Complete GmbH"]


def test_finance_is_told_when_every_customer_is_complete(client, clerk, customer):
    assert "Every customer has complete billing details." in home(client, clerk).content.decode()


def test_someone_without_a_role_is_told_whom_to_ask_and_offered_no_customer_pages(client, outsider):
    page = home(client, outsider).content.decode()
    assert "Your account has no role yet" in page
    assert reverse("crm:customer_list") not in page
    assert reverse("token_list") in page and reverse("api_docs") in page


def test_only_roles_that_may_create_customers_are_offered_new_customer(client, rep, clerk, customer):
    new_customer_url = reverse("crm:customer_create")

    def links_to_new_customer(user):
        page = parse(home(client, user).content.decode())
        return [link.text for link in page.find_all(tag="a", href=new_customer_url)]

    assert links_to_new_customer(rep) == ["New customer"]
    assert links_to_new_customer(clerk) == []


@pytest.mark.parametrize("actor", ["rep", "sales_manager", "clerk", "admin"])
def test_the_query_count_does_not_grow_with_customers(client, actors, actor, rep, other_rep):
    client.force_login(actors[actor])

    def queries_for_home():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("home")).status_code == 200
        return len(queries)

    CustomerFactory.create_batch(3, owner=rep)
    CustomerFactory.create_batch(2, owner=other_rep, tax_id="")
    queries_for_home()  # warm: the user's permissions and roles are cached from here on
    few = queries_for_home()
    CustomerFactory.create_batch(25, owner=rep, city="")
    CustomerFactory.create_batch(20, owner=other_rep)
    assert queries_for_home() == few <= 9


def test_a_rep_is_warned_about_their_own_customers_that_cannot_be_invoiced(client, rep, other_rep):
    CustomerFactory(owner=rep, name="Complete GmbH")
    CustomerFactory(owner=rep, name="No Tax Id Ltd", tax_id="")
    CustomerFactory(owner=rep, name="No Country SA", country="")
    CustomerFactory(owner=other_rep, name="Not Mine, No City", city="")

    page = parse(home(client, rep).content.decode())

    warning = page.by_id("my-incomplete-warning")
    assert warning.text.startswith("2 of your customers cannot be invoiced yet")
    link = warning.find(tag="a")
    assert link.attrs["href"] == f"{reverse('crm:customer_list')}?mine=1&billing=incomplete"
    rows = page.by_id("my-incomplete").find(tag="tbody").find_all(tag="tr")
    assert sorted(row.find(tag="a").text for row in rows) == ["No Country SA", "No Tax Id Ltd"]

    # The link lists exactly those.
    listed = client.get(link.attrs["href"]).context["table"].page.object_list
    assert sorted(row.record.name for row in listed) == ["No Country SA", "No Tax Id Ltd"]


def test_a_rep_whose_customers_are_complete_gets_no_warning(client, rep, customer):
    page = parse(home(client, rep).content.decode())
    assert page.find_all(id="my-incomplete-warning") == [] and page.find_all(id="my-incomplete") == []


def test_the_missing_billing_card_links_to_the_list_filtered_the_same_way(client, clerk, rep):
    CustomerFactory(owner=rep, name="Complete GmbH")
    CustomerFactory.create_batch(12, owner=rep, tax_id="")

    page = parse(home(client, clerk).content.decode())

    link = page.by_id("missing-billing").find(tag="a", href=f"{reverse('crm:customer_list')}?billing=incomplete")
    assert link.text == "See all 12"
    response = client.get(link.attrs["href"])
    assert len(response.context["table"].page.object_list) == 12
    assert "Customers missing billing details" in response.content.decode()


def test_finance_sees_the_credit_granted_per_currency(client, finance_manager, rep):
    CustomerFactory(owner=rep, currency="EUR", credit_limit=1000)
    CustomerFactory(owner=rep, currency="EUR", credit_limit=500)
    CustomerFactory(owner=rep, currency="USD", credit_limit=70)
    CustomerFactory(owner=rep, currency="USD", credit_limit=None)

    section = parse(home(client, finance_manager).content.decode()).by_id("credit-granted")

    assert [item.text for item in section.find_all(tag="li")] == ["1,500.00 EUR", "70.00 USD"]
    assert section.find(tag="a").attrs["href"] == f"{reverse('crm:customer_list')}?sort=-credit_limit"


def test_finance_sees_their_work_before_the_recent_changes(client, clerk, customer):
    ids = [section.attrs["id"] for section in parse(home(client, clerk).content.decode()).find_all(tag="section")]
    assert ids == ["missing-billing", "credit-granted", "recent-customers"]


def test_a_sales_manager_sees_the_team_book_with_what_each_owner_must_complete(client, sales_manager, rep, other_rep):
    CustomerFactory.create_batch(2, owner=rep)
    CustomerFactory(owner=rep, tax_id="")
    CustomerFactory(owner=other_rep, city="", status="inactive")

    response = home(client, sales_manager)

    counts = [(owner, owner.incomplete_count) for owner in response.context["owners"]]
    assert counts == [(rep, 1), (other_rep, 1)]
    section = parse(response.content.decode()).by_id("customers-per-owner")
    link = section.find(tag="a", href=f"{reverse('crm:customer_list')}?owner={rep.pk}&billing=incomplete")
    assert link.text == "1"
    totals = section.by_id("team-totals").find_all(tag="td")
    assert [cell.text for cell in totals] == ["4", "3", "2"]
