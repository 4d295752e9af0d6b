"""Leads (crm.leads): status rules, who may reassign, finding the customer a lead may
already be, and converting it once, all or nothing."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from collaboration.models import FeedItem, Follow
from crm import leads
from crm.models import Contact, Customer, Lead, Opportunity
from tests.factories import ContactFactory, CustomerFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(rep):
    return leads.create_lead(
        by=rep,
        data={"name": "Jane Buyer", "company": "Initech GmbH", "email": "jane@initech.example", "phone": "+49 1"},
    )


def convert_new(lead, by, **kwargs):
    return leads.convert_lead(lead=lead, by=by, customer_data={"name": "Initech GmbH"}, **kwargs)


# --- create and change ---


def test_a_rep_creates_a_lead_they_own_and_follow(rep, lead):
    assert lead.owner == rep and lead.status == Lead.Status.NEW
    assert FeedItem.objects.filter(verb="lead.created", target_id=lead.pk).exists()
    assert Follow.objects.filter(user=rep, target_id=lead.pk).exists()


def test_finance_may_not_create_leads(clerk):
    with pytest.raises(PermissionDenied):
        leads.create_lead(by=clerk, data={"name": "X"})


def test_disqualifying_needs_a_reason_and_taking_it_up_again_clears_it(rep, lead):
    with pytest.raises(ValidationError) as error:
        leads.update_lead(lead=lead, by=rep, data={"status": "disqualified"})
    assert "disqualified_reason" in error.value.message_dict
    lead = leads.update_lead(lead=lead, by=rep, data={"status": "disqualified", "disqualified_reason": "No budget"})
    assert lead.disqualified_reason == "No budget"
    assert FeedItem.objects.filter(verb="lead.disqualified", target_id=lead.pk).exists()
    lead = leads.update_lead(lead=lead, by=rep, data={"status": "working"})
    assert lead.disqualified_reason == ""


def test_only_managers_give_a_lead_to_another_rep(rep, other_rep, sales_manager, lead):
    with pytest.raises(PermissionDenied):
        leads.update_lead(lead=lead, by=rep, data={"owner": other_rep})
    lead = leads.update_lead(lead=lead, by=sales_manager, data={"owner": other_rep})
    assert lead.owner == other_rep
    assert Follow.objects.filter(user=other_rep, target_id=lead.pk).exists()


def test_a_rep_may_not_change_another_reps_lead(other_rep, lead):
    with pytest.raises(PermissionDenied):
        leads.update_lead(lead=lead, by=other_rep, data={"status": "working"})


def test_a_stale_version_is_refused(rep, lead):
    with pytest.raises(leads.StaleVersion):
        leads.update_lead(lead=lead, by=rep, data={"status": "working"}, expected_version=lead.version + 1)


# --- matching ---


def test_it_matches_by_normalised_tax_id(rep):
    customer = CustomerFactory(tax_id="DE123456789", name="Something Else")
    lead = LeadFactory(owner=rep, tax_id="de 123.456-789", company="Unrelated", email="a@gmail.com")
    [match] = leads.find_matches(lead)
    assert match.customer == customer and match.reasons == ["tax_id"]


def test_it_matches_by_the_customers_or_a_contacts_email_domain_but_not_free_mail(rep):
    by_email = CustomerFactory(email="billing@initech.example", name="A")
    by_contact = CustomerFactory(email="x@other.example", name="B")
    ContactFactory(customer=by_contact, email="bob@INITECH.example")
    CustomerFactory(email="someone@sub.initech.example.org", name="C")  # not the same domain
    lead = LeadFactory(owner=rep, company="Zzz", email="jane@initech.example")
    assert {m.customer for m in leads.find_matches(lead)} == {by_email, by_contact}
    assert all(m.reasons == ["email_domain"] for m in leads.find_matches(lead))

    CustomerFactory(email="ceo@gmail.com", name="Gmail user")
    assert leads.find_matches(LeadFactory(owner=rep, company="Qqq", email="jane@gmail.com")) == []


def test_it_matches_by_name_ignoring_case_and_the_legal_form(rep):
    acme = CustomerFactory(name="ACME Industries GmbH", email="a@acme.example")
    CustomerFactory(name="Acme Industries Holding", email="b@holding.example")
    lead = LeadFactory(owner=rep, company="Acme Industries", email="x@gmail.com")
    [match] = leads.find_matches(lead)
    assert match.customer == acme and match.reasons == ["name"]
    assert leads.company_core("Acme Industries, Inc.") == "acme industries"


def test_a_customer_matching_several_ways_lists_each_reason_strongest_first(rep):
    customer = CustomerFactory(name="Initech AG", tax_id="DE999", email="billing@initech.example")
    lead = LeadFactory(owner=rep, company="Initech", tax_id="DE 999", email="jane@initech.example")
    [match] = leads.find_matches(lead)
    assert match.customer == customer
    assert match.reasons == ["tax_id", "email_domain", "name"]


# --- conversion ---


def test_converting_into_a_new_customer_makes_customer_contact_and_deal(rep, lead):
    lead = convert_new(
        lead, rep, create_opportunity=True, opportunity_data={"name": "Pilot", "expected_close_date": date(2027, 1, 31)}
    )
    assert lead.is_converted and lead.status == Lead.Status.QUALIFIED and lead.converted_by == rep
    assert lead.customer.name == "Initech GmbH" and lead.customer.owner == rep
    assert lead.contact.email == "jane@initech.example" and lead.contact.customer == lead.customer
    assert lead.opportunity.name == "Pilot" and lead.opportunity.customer == lead.customer
    converted = FeedItem.objects.get(verb="lead.converted")
    assert {(p.target_type.model, p.target_id) for p in converted.placements.all()} >= {
        ("lead", lead.pk),
        ("customer", lead.customer.pk),
    }


def test_converting_into_an_existing_customer_reuses_a_contact_with_the_same_email(rep, customer, lead):
    existing = ContactFactory(customer=customer, email="JANE@initech.example")
    lead = leads.convert_lead(lead=lead, by=rep, customer=customer)
    assert lead.customer == customer and lead.contact == existing
    assert customer.contacts.count() == 1
    assert lead.opportunity is None


def test_converting_into_another_reps_customer_links_it_without_a_contact(rep, other_rep, lead):
    theirs = CustomerFactory(owner=other_rep)
    lead = leads.convert_lead(lead=lead, by=rep, customer=theirs)
    assert lead.customer == theirs and lead.contact is None
    assert not theirs.contacts.exists()


def test_converting_twice_is_refused(rep, lead):
    convert_new(lead, rep)
    with pytest.raises(leads.LeadAlreadyConverted):
        convert_new(lead, rep)
    assert Customer.objects.filter(name="Initech GmbH").count() == 1


def test_a_converted_lead_is_read_only(rep, lead):
    convert_new(lead, rep)
    with pytest.raises(ValidationError, match="converted"):
        leads.update_lead(lead=lead, by=rep, data={"status": "working"})


def test_a_disqualified_lead_is_not_converted(rep, lead):
    leads.update_lead(lead=lead, by=rep, data={"status": "disqualified", "disqualified_reason": "Student"})
    with pytest.raises(ValidationError, match="disqualified"):
        convert_new(lead, rep)


def test_any_other_status_converts_and_becomes_qualified(rep, lead):
    assert lead.status == Lead.Status.NEW
    assert convert_new(lead, rep).status == Lead.Status.QUALIFIED


def test_nothing_is_half_saved_when_the_deal_is_invalid(rep, lead):
    with pytest.raises(ValidationError) as error:
        convert_new(lead, rep, create_opportunity=True, opportunity_data={"name": "No date"})
    assert "opportunity" in error.value.message_dict
    assert not Customer.objects.filter(name="Initech GmbH").exists()
    assert not Contact.objects.filter(email="jane@initech.example").exists()
    assert not Opportunity.objects.exists()
    lead.refresh_from_db()
    assert not lead.is_converted


def test_nothing_is_half_saved_on_bad_customer_data(rep, lead):
    taken = CustomerFactory(tax_id="DE555")
    with pytest.raises(ValidationError) as error:
        leads.convert_lead(lead=lead, by=rep, customer_data={"name": "Initech GmbH", "tax_id": "de 555"})
    assert "tax_id" in error.value.message_dict
    assert Customer.objects.exclude(pk=taken.pk).count() == 0
    lead.refresh_from_db()
    assert not lead.is_converted and lead.customer is None


def test_a_manager_converting_a_reps_lead_gives_the_customer_and_deal_to_the_rep(rep, sales_manager, lead):
    lead = convert_new(
        lead,
        sales_manager,
        create_opportunity=True,
        opportunity_data={"name": "Pilot", "expected_close_date": date(2027, 1, 31)},
    )
    assert lead.customer.owner == rep and lead.opportunity.owner == rep


def test_a_rep_may_not_convert_another_reps_lead(other_rep, lead):
    with pytest.raises(PermissionDenied):
        convert_new(lead, other_rep)
