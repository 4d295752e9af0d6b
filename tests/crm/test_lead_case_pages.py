"""The lead, service case and catalog pages: what they show, the convert page's
matches, the forms' errors, and list pages whose query count does not grow with rows."""

from datetime import date

import pytest
from django.urls import reverse

from crm import cases, leads
from crm.models import Lead, Product, ServiceCase, Stage, TaxRate
from tests.factories import (
    CustomerFactory,
    LeadFactory,
    ProductFactory,
    ServiceCaseFactory,
    TaxRateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(rep):
    return leads.create_lead(
        by=rep, data={"name": "Jane Buyer", "company": "Initech", "email": "jane@initech.example", "tax_id": "DE42"}
    )


# --- leads ---


def test_the_lead_list_filters_by_status_and_searches(client, rep, lead):
    LeadFactory(owner=rep, name="Bob Other", company="Globex", status=Lead.Status.WORKING)
    client.force_login(rep)
    page = client.get(reverse("crm:lead_list"), {"status": "new"}).content.decode()
    assert "Jane Buyer" in page and "Bob Other" not in page
    page = client.get(reverse("crm:lead_list"), {"q": "globex"}).content.decode()
    assert "Bob Other" in page and "Jane Buyer" not in page
    response = client.get(reverse("crm:lead_list"), {"status": "nonsense"})
    assert response.status_code == 200 and "could not be applied" in response.content.decode()


@pytest.mark.parametrize("rows", [3, 30])
def test_the_lead_list_costs_the_same_queries_for_few_or_many_leads(client, rep, rows, django_assert_max_num_queries):
    owners = [UserFactory(role="Sales rep") for _ in range(3)]
    for index in range(rows):
        LeadFactory(owner=owners[index % 3])
    client.force_login(rep)
    client.get(reverse("crm:lead_list"))  # warm the session and permission caches
    with django_assert_max_num_queries(4):
        assert client.get(reverse("crm:lead_list")).status_code == 200


def test_the_lead_page_shows_the_feed_and_the_actions(client, rep, lead):
    client.force_login(rep)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert 'id="convert-lead"' in page and 'id="disqualify-form"' in page
    assert "Created the lead" in page  # the feed panel


def test_disqualifying_from_the_page_needs_a_reason(client, rep, lead):
    client.force_login(rep)
    response = client.post(reverse("crm:lead_status", args=[lead.pk]), {"status": "disqualified"})
    assert response.status_code == 400 and "Say why" in response.content.decode()
    response = client.post(
        reverse("crm:lead_status", args=[lead.pk]), {"status": "disqualified", "disqualified_reason": "No budget"}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.disqualified_reason) == ("disqualified", "No budget")
    page = client.get(lead.get_absolute_url()).content.decode()
    assert 'id="convert-lead"' not in page and "No budget" in page


def test_creating_a_lead_from_the_page(client, rep):
    client.force_login(rep)
    response = client.post(
        reverse("crm:lead_create"), {"name": "New Person", "company": "NewCo", "source": "event", "status": "new"}
    )
    lead = Lead.objects.get(name="New Person")
    assert response.status_code == 302 and response["Location"] == lead.get_absolute_url()
    assert lead.owner == rep and lead.source == "event"


def test_the_edit_form_reports_a_missing_reason_on_its_field(client, rep, lead):
    client.force_login(rep)
    response = client.post(
        reverse("crm:lead_edit", args=[lead.pk]),
        {"name": lead.name, "source": "web", "status": "disqualified", "version": lead.version},
    )
    assert response.status_code == 200
    assert "Say why the lead is disqualified." in response.content.decode()


def test_the_convert_page_shows_the_matches_by_reason(client, rep, lead):
    CustomerFactory(name="Initech GmbH", tax_id="DE42", email="x@y.example")
    CustomerFactory(name="Other", email="billing@initech.example", tax_id="DE43")
    client.force_login(rep)
    page = client.get(reverse("crm:lead_convert", args=[lead.pk])).content.decode()
    assert "Matches by tax ID: 1" in page
    assert "Matches by email domain: 1" in page
    assert "Create a new customer" in page
    assert 'value="Initech"' in page  # the new customer's name, prefilled from the lead


def test_converting_from_the_page_into_a_match_with_a_deal_opens_the_deal(client, rep, lead):
    customer = CustomerFactory(owner=rep, name="Initech GmbH", tax_id="DE42")
    client.force_login(rep)
    response = client.post(
        reverse("crm:lead_convert", args=[lead.pk]),
        {
            "target": str(customer.pk),
            "create_opportunity": "on",
            "opportunity_name": "Initech pilot",
            "expected_close_date": "2027-02-28",
            "version": lead.version,
        },
    )
    lead.refresh_from_db()
    assert lead.customer == customer and lead.opportunity.expected_close_date == date(2027, 2, 28)
    assert response["Location"] == reverse("crm:opportunity_detail", args=[lead.opportunity.pk])
    # Once converted, the convert page sends people back to the lead.
    assert client.get(reverse("crm:lead_convert", args=[lead.pk]))["Location"] == lead.get_absolute_url()


def test_converting_into_a_new_customer_without_a_deal_opens_the_customer(client, rep, lead):
    client.force_login(rep)
    response = client.post(reverse("crm:lead_convert", args=[lead.pk]), {"target": "new", "name": "Initech AG"})
    lead.refresh_from_db()
    assert lead.customer.name == "Initech AG" and lead.opportunity is None
    assert response["Location"] == lead.customer.get_absolute_url()


def test_the_convert_form_says_what_is_missing_and_saves_nothing(client, rep, lead):
    client.force_login(rep)
    response = client.post(
        reverse("crm:lead_convert", args=[lead.pk]),
        {"target": "new", "name": "Initech AG", "create_opportunity": "on", "opportunity_name": "Pilot"},
    )
    assert response.status_code == 400
    assert "Enter when the deal is expected to close." in response.content.decode()
    lead.refresh_from_db()
    assert not lead.is_converted


def test_a_duplicate_tax_id_on_the_new_customer_is_shown_on_its_field(client, rep, lead):
    CustomerFactory(tax_id="DE777", name="Taken")
    client.force_login(rep)
    response = client.post(
        reverse("crm:lead_convert", args=[lead.pk]), {"target": "new", "name": "Initech AG", "tax_id": "de 777"}
    )
    assert response.status_code == 400
    assert "A customer with this tax ID already exists." in response.content.decode()


# --- service cases ---


def test_logging_a_case_from_the_customer(client, clerk, customer):
    client.force_login(clerk)
    url = reverse("crm:case_create", args=[customer.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"subject": "Damaged goods", "severity": "high", "status": "open"})
    case = ServiceCase.objects.get(subject="Damaged goods")
    assert response["Location"] == case.get_absolute_url()
    assert (case.customer, case.owner) == (customer, clerk)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Damaged goods" in page and 'id="serious-note"' in page


def test_the_case_list_shows_open_cases_first_most_severe_first(client, clerk, customer):
    cases.log_case(by=clerk, customer=customer, data={"subject": "Closed one", "status": "closed"})
    cases.log_case(by=clerk, customer=customer, data={"subject": "Low one", "severity": "low"})
    cases.log_case(by=clerk, customer=customer, data={"subject": "Critical one", "severity": "critical"})
    client.force_login(clerk)
    page = client.get(reverse("crm:case_list")).content.decode()
    assert page.index("Critical one") < page.index("Low one") < page.index("Closed one")
    page = client.get(reverse("crm:case_list"), {"severity": "low"}).content.decode()
    assert "Low one" in page and "Critical one" not in page


@pytest.mark.parametrize("rows", [3, 30])
def test_the_case_list_costs_the_same_queries_for_few_or_many(client, clerk, rows, django_assert_max_num_queries):
    for index in range(rows):
        ServiceCaseFactory(customer=CustomerFactory(), severity=["low", "high"][index % 2])
    client.force_login(clerk)
    client.get(reverse("crm:case_list"))
    with django_assert_max_num_queries(4):
        assert client.get(reverse("crm:case_list")).status_code == 200


def test_editing_a_case_resolves_it(client, clerk, customer):
    case = cases.log_case(by=clerk, customer=customer, data={"subject": "x"})
    client.force_login(clerk)
    response = client.post(
        reverse("crm:case_edit", args=[case.pk]),
        {"subject": "x", "severity": "normal", "status": "resolved", "owner": clerk.pk, "version": case.version},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.resolved_at is not None


# --- catalog ---


@pytest.mark.parametrize("name", ["crm:product_list", "crm:taxrate_list", "crm:stage_list"])
@pytest.mark.parametrize("actor", ["rep", "clerk", "finance_manager", "sales_manager"])
def test_every_role_reads_the_catalog(signed_in, name, actor):
    ProductFactory(name="Support plan")
    response = signed_in(actor).get(reverse(name))
    assert response.status_code == 200


def test_the_product_list_searches_and_filters_active(client, rep):
    ProductFactory(code="SUP-1", name="Support plan")
    ProductFactory(code="OLD-1", name="Old thing", is_active=False)
    client.force_login(rep)
    page = client.get(reverse("crm:product_list"), {"q": "sup"}).content.decode()
    assert "Support plan" in page and "Old thing" not in page
    page = client.get(reverse("crm:product_list"), {"is_active": "false"}).content.decode()
    assert "Old thing" in page and "Support plan" not in page
    assert 'id="new-product"' not in page  # reps read the catalog; managers keep it


def test_managers_keep_the_catalog_through_its_forms(client, sales_manager, finance_manager, rep):
    vat = TaxRateFactory()
    client.force_login(sales_manager)
    response = client.post(
        reverse("crm:product_create"),
        {"code": "NEW-1", "name": "New", "unit_price": "12.50", "currency": "EUR", "default_tax_rate": vat.pk},
    )
    assert response.status_code == 302
    product = Product.objects.get(code="NEW-1")
    response = client.post(
        reverse("crm:product_edit", args=[product.pk]),
        {"code": "NEW-1", "name": "Renamed", "unit_price": "-1", "currency": "EUR"},
    )
    assert response.status_code == 200  # a negative price is refused on its field
    response = client.post(
        reverse("crm:stage_edit", args=[Stage.objects.get(name="Proposal").pk]),
        {"name": "Proposal", "order": Stage.objects.get(name="Proposal").order, "probability": 55},
    )
    assert response.status_code == 302 and Stage.objects.get(name="Proposal").probability == 55
    client.force_login(finance_manager)
    response = client.post(reverse("crm:taxrate_create"), {"name": "VAT 7%", "percentage": "7"})
    assert response.status_code == 302 and TaxRate.objects.filter(name="VAT 7%").exists()
    client.force_login(rep)
    assert client.get(reverse("crm:product_create")).status_code == 403
    assert client.post(reverse("crm:taxrate_create"), {"name": "X", "percentage": "1"}).status_code == 403
