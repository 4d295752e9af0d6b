"""The leads and service-cases API: same services as the pages, errors of one shape
(400 invalid, 403 not allowed, 409 converting twice), shared filters, cursor pages."""

import pytest

from crm import leads
from crm.models import Customer, Lead, Opportunity, ServiceCase
from tests.api.helpers import error_of
from tests.factories import CustomerFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(rep):
    return leads.create_lead(
        by=rep, data={"name": "Jane Buyer", "company": "Initech", "email": "jane@initech.example", "tax_id": "DE42"}
    )


def test_a_rep_creates_and_lists_leads(as_actor, rep):
    api = as_actor("rep")
    response = api.post("/api/v1/leads/", {"name": "New Person", "company": "NewCo", "source": "event"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"] == rep.pk and body["status"] == "new" and body["is_converted"] is False
    listed = api.get("/api/v1/leads/", {"q": "newco"}).json()
    assert [row["name"] for row in listed["results"]] == ["New Person"]
    assert "next" in listed  # cursor pages


def test_filters_are_the_pages(as_actor, rep, lead):
    LeadFactory(owner=rep, status=Lead.Status.WORKING, name="Working one")
    api = as_actor("clerk")
    assert [r["name"] for r in api.get("/api/v1/leads/", {"status": "working"}).json()["results"]] == ["Working one"]
    assert api.get("/api/v1/leads/", {"status": "bogus"}).status_code == 400
    assert len(api.get("/api/v1/leads/", {"converted": "false"}).json()["results"]) == 2


def test_disqualifying_without_a_reason_is_a_400_on_the_field(as_actor, lead):
    response = as_actor("rep").patch(f"/api/v1/leads/{lead.pk}/", {"status": "disqualified"}, format="json")
    assert response.status_code == 400
    assert "disqualified_reason" in error_of(response)["fields"]


def test_there_is_no_delete(as_actor, lead):
    assert as_actor("admin").delete(f"/api/v1/leads/{lead.pk}/").status_code == 405


def test_matches_list_the_customers_with_their_reasons(as_actor, lead):
    customer = CustomerFactory(name="Initech GmbH", tax_id="DE42", email="billing@initech.example")
    response = as_actor("clerk").get(f"/api/v1/leads/{lead.pk}/matches/")
    assert response.status_code == 200
    [match] = response.json()
    assert match["customer"] == customer.pk
    assert match["reasons"] == ["tax_id", "email_domain", "name"]


def test_converting_into_a_new_customer_with_a_deal(as_actor, lead):
    response = as_actor("rep").post(
        f"/api/v1/leads/{lead.pk}/convert/",
        {
            "customer_data": {"name": "Initech AG", "country": "DE"},
            "create_opportunity": True,
            "opportunity": {"name": "Pilot", "expected_close_date": "2027-01-31"},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["is_converted"] and body["status"] == "qualified"
    assert Customer.objects.get(pk=body["customer"]).name == "Initech AG"
    assert Opportunity.objects.get(pk=body["opportunity"]).name == "Pilot"
    assert response["ETag"]


def test_converting_into_an_existing_customer(as_actor, rep, lead):
    customer = CustomerFactory(owner=rep)
    response = as_actor("rep").post(f"/api/v1/leads/{lead.pk}/convert/", {"customer": customer.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["customer"] == customer.pk and response.json()["opportunity"] is None


def test_converting_twice_is_a_409(as_actor, lead):
    api = as_actor("rep")
    body = {"customer_data": {"name": "Initech AG"}}
    assert api.post(f"/api/v1/leads/{lead.pk}/convert/", body, format="json").status_code == 200
    response = api.post(f"/api/v1/leads/{lead.pk}/convert/", body, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    assert Customer.objects.filter(name="Initech AG").count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"customer": 1, "customer_data": {"name": "Both"}},
        {"customer_data": {"name": ""}},
        {"customer_data": {"name": "X"}, "create_opportunity": True},
        {"customer_data": {"name": "X"}, "create_opportunity": "yes", "opportunity": {"expected_close_date": "x"}},
        {"customer": 999999999},
    ],
)
def test_bad_conversions_are_400s_and_save_nothing(as_actor, lead, body):
    response = as_actor("rep").post(f"/api/v1/leads/{lead.pk}/convert/", body, format="json")
    assert response.status_code == 400, response.json()
    error_of(response)
    lead.refresh_from_db()
    assert not lead.is_converted and not Customer.objects.exists()


def test_a_duplicate_tax_id_rolls_everything_back(as_actor, lead):
    CustomerFactory(tax_id="DE777")
    response = as_actor("rep").post(
        f"/api/v1/leads/{lead.pk}/convert/",
        {
            "customer_data": {"name": "Initech AG", "tax_id": "de 777"},
            "create_opportunity": True,
            "opportunity": {"name": "Pilot", "expected_close_date": "2027-01-31"},
        },
        format="json",
    )
    assert response.status_code == 400 and "tax_id" in error_of(response)["fields"]
    assert Customer.objects.count() == 1 and not Opportunity.objects.exists()


def test_a_stale_if_match_on_convert_is_a_412(as_actor, lead):
    response = as_actor("rep").post(
        f"/api/v1/leads/{lead.pk}/convert/",
        {"customer_data": {"name": "Initech AG"}},
        format="json",
        HTTP_IF_MATCH='"99"',
    )
    assert response.status_code == 412


def test_finance_may_not_convert(as_actor, lead):
    response = as_actor("clerk").post(
        f"/api/v1/leads/{lead.pk}/convert/", {"customer_data": {"name": "X"}}, format="json"
    )
    assert response.status_code == 403


# --- service cases ---


def test_logging_and_resolving_a_case(as_actor, clerk, customer):
    api = as_actor("clerk")
    response = api.post(
        "/api/v1/service-cases/", {"customer": customer.pk, "subject": "Outage", "severity": "critical"}, format="json"
    )
    assert response.status_code == 201, response.json()
    case = response.json()
    assert case["owner"] == clerk.pk and case["is_open"] is True
    response = api.patch(f"/api/v1/service-cases/{case['id']}/", {"status": "resolved"}, format="json")
    assert response.status_code == 200 and response.json()["resolved_at"]
    assert api.get("/api/v1/service-cases/", {"open": "true"}).json()["results"] == []


def test_a_deal_of_another_customer_is_a_400(as_actor, customer):
    deal = OpportunityFactory(customer=CustomerFactory())
    response = as_actor("rep").post(
        "/api/v1/service-cases/", {"customer": customer.pk, "subject": "x", "opportunity": deal.pk}, format="json"
    )
    assert response.status_code == 400 and "opportunity" in error_of(response)["fields"]
    assert not ServiceCase.objects.exists()


def test_a_case_cannot_move_to_another_customer(as_actor, clerk, customer):
    from crm import cases

    case = cases.log_case(by=clerk, customer=customer, data={"subject": "x"})
    response = as_actor("clerk").patch(
        f"/api/v1/service-cases/{case.pk}/", {"customer": CustomerFactory().pk}, format="json"
    )
    assert response.status_code == 400


def test_a_case_is_closed_not_deleted(as_actor, clerk, customer):
    from crm import cases

    case = cases.log_case(by=clerk, customer=customer, data={"subject": "x"})
    assert as_actor("admin").delete(f"/api/v1/service-cases/{case.pk}/").status_code == 405
