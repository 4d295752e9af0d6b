"""Forms people can correct (issue 6, item 3): an error summary naming and linking
each invalid field, the page title saying "Error:", fields in the order the role
edits them, country and currency by name, and contacts that can be reached."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.currencies import currency_choices, currency_label
from crm.models import CONTACT_NEEDS_EMAIL_OR_PHONE, Contact, Customer
from crm.services import create_contact, create_customer, update_contact, update_customer
from tests.crm.test_pages import HTMX, contact_url, create_url, detail_url, edit_url, form_data, new_customer_data
from tests.factories import ContactFactory, CustomerFactory
from tests.html import parse

pytestmark = pytest.mark.django_db


def title_of(page):
    return page.find(tag="title").text


def summary_links(summary):
    return [(link.attrs["href"], link.text) for link in summary.find_all(tag="a")]


class TestErrorSummary:
    def test_it_names_each_invalid_field_in_page_order_and_links_to_it(self, signed_in):
        response = signed_in("rep").post(create_url(), new_customer_data(name="", email="ap(at)globex", currency="XYZ"))

        page = parse(response.text)
        summaries = page.find_all(class_="error-summary")
        assert len(summaries) == 1  # drawn once, above the form, not again by crispy
        summary = summaries[0]
        assert summary.attrs["tabindex"] == "-1"  # focusable by script, not in the tab order
        assert summary.find(tag="h2").text == "There is a problem"
        assert summary_links(summary) == [
            ("#id_name", "Name: This field is required."),
            ("#id_email", "Email: Enter a valid email address."),
            ("#id_currency", "Currency: Select a valid choice. XYZ is not one of the available choices."),
        ]
        for href, _ in summary_links(summary):
            page.by_id(href[1:])  # each link leads to a field on the page

    def test_the_title_starts_with_error_only_while_a_form_has_errors(self, signed_in):
        client = signed_in("rep")
        assert title_of(parse(client.get(create_url()).text)) == "New customer · Concord"
        invalid = parse(client.post(create_url(), new_customer_data(name="")).text)
        assert title_of(invalid) == "Error: New customer · Concord"

    def test_the_summary_takes_the_focus_from_the_first_field(self, signed_in):
        client = signed_in("rep")
        fresh = parse(client.get(create_url()).text)
        assert "autofocus" in fresh.find(tag="input", name="name").attrs
        invalid = parse(client.post(create_url(), new_customer_data(email="nope")).text)
        assert not invalid.find_all(autofocus="")
        assert "data-error-summary" in invalid.find(class_="error-summary").attrs  # concord.js focuses it

    def test_each_message_stays_by_its_field_and_is_tied_to_it(self, signed_in):
        page = parse(signed_in("rep").post(create_url(), new_customer_data(email="nope")).text)
        field = page.find(tag="input", name="email")
        assert field.attrs["aria-invalid"] == "true"
        described_by = field.attrs["aria-describedby"].split()
        assert "id_email_error" in described_by
        assert page.by_id("id_email_error").text == "Enter a valid email address."

    def test_a_form_wide_error_is_listed_without_a_link(self, signed_in, customer, sales_manager):
        update_customer(customer=customer, by=sales_manager, data={"phone": "+49 1"})  # meanwhile
        data = form_data(customer, version=1, name="Acme AG")
        summary = parse(signed_in("rep").post(edit_url(customer), data).text).find(class_="error-summary")
        first = summary.find(tag="li")
        assert first.text.startswith("This customer was changed by someone else")
        assert not first.find_all(tag="a")

    def test_the_inline_contact_form_carries_its_own_summary(self, signed_in, customer):
        response = signed_in("rep").post(
            contact_url("contact_create", customer), {"name": "", "email": "jane(at)acme"}, headers=HTMX
        )
        form = parse(response.text).elements[0]
        summary = form.find(class_="error-summary")
        assert summary_links(summary) == [
            ("#id_name", "Name: This field is required."),
            ("#id_email", "Email: Enter a valid email address."),
        ]
        assert not form.find_all(autofocus="")  # htmx would focus it; the summary is focused instead

    def test_a_record_page_with_an_invalid_contact_form_is_titled_error(self, signed_in, customer):
        response = signed_in("rep").post(contact_url("contact_create", customer), {"name": ""})
        assert title_of(parse(response.text)).startswith("Error: Acme Industries GmbH")

    def test_the_sign_in_form_gets_it_through_crispy_by_itself(self, client, rep):
        response = client.post(reverse("login"), {"username": "rep", "password": "wrong"})
        page = parse(response.text)
        assert title_of(page).startswith("Error: ")
        assert page.find(class_="error-summary").find(tag="li").text.startswith("Please enter a correct username")


class TestFieldsInTheOrderTheRoleEditsThem:
    def section_titles(self, page):
        return [header.text for header in page.find_all(tag="h2", class_="card-header")]

    def test_a_clerk_sees_billing_first_and_the_rest_as_values_with_who_keeps_them(self, signed_in, customer):
        page = parse(signed_in("clerk").get(edit_url(customer)).text)
        assert self.section_titles(page) == ["Billing", "Kept by others"]
        assert not page.find_all(tag="input", name="name")  # no run of disabled inputs
        assert not page.find_all(tag="input", name="credit_limit")
        assert "autofocus" in page.find(tag="input", name="legal_name").attrs
        kept = page.by_id("read-only-fields")
        assert "Kept by finance managers." not in kept.text
        values = {dt.text: dt.parent.find(tag="dd").text for dt in kept.find_all(tag="dt")}
        assert values["Name"] == "Acme Industries GmbH"
        assert values["Owner"] == "Rita Rep"
        assert values["Credit limit"] == "10,000.00"
        assert "Only finance managers change credit limits." in kept.text

    def test_a_rep_sees_general_and_billing_then_owner_and_credit_limit_as_values(self, signed_in, customer):
        page = parse(signed_in("rep").get(edit_url(customer)).text)
        assert self.section_titles(page) == ["General", "Billing", "Kept by others"]
        assert not page.find_all(tag="select", name="owner")
        kept = page.by_id("read-only-fields")
        assert [dt.text for dt in kept.find_all(tag="dt")] == ["Owner", "Credit limit"]

    def test_a_finance_manager_edits_everything_and_sees_no_summary(self, signed_in, customer):
        page = parse(signed_in("finance_manager").get(edit_url(customer)).text)
        assert self.section_titles(page) == ["General", "Billing", "Credit"]
        assert not page.find_all(id="read-only-fields")

    def test_a_rep_creating_a_customer_sees_themselves_as_owner(self, signed_in):
        kept = parse(signed_in("rep").get(create_url()).text).by_id("read-only-fields")
        assert kept.find(tag="dd").text == "Rita Rep"

    def test_a_value_posted_for_a_field_not_drawn_is_still_refused(self, signed_in, customer):
        response = signed_in("clerk").post(edit_url(customer), form_data(customer, credit_limit="999999"))
        assert response.status_code == 403
        customer.refresh_from_db()
        assert str(customer.credit_limit) == "10000.00"


class TestCountryAndCurrencyByName:
    def test_currencies_are_the_iso_codes_in_use_named(self):
        choices = dict(currency_choices())
        assert choices["EUR"] == "EUR — Euro"
        assert choices["CHF"] == "CHF — Swiss Franc"
        assert "DEM" not in choices  # the Deutsche Mark is history
        assert currency_label("EUR") == "Euro (EUR)"

    def test_the_form_offers_both_as_searchable_lists_by_name(self, signed_in, customer):
        page = parse(signed_in("finance_manager").get(edit_url(customer)).text)
        country = page.find(tag="select", name="country")
        currency = page.find(tag="select", name="currency")
        assert "data-searchable" in country.attrs and "data-searchable" in currency.attrs
        assert country.find(tag="option", value="DE").text == "Germany"
        assert "selected" in country.find(tag="option", value="DE").attrs
        assert currency.find(tag="option", value="EUR").text == "EUR — Euro"

    @pytest.mark.parametrize(("field", "value"), [("country", "XX"), ("country", "Germany"), ("currency", "XYZ")])
    def test_an_unknown_code_is_a_form_error(self, signed_in, field, value):
        response = signed_in("rep").post(create_url(), new_customer_data(**{field: value}))
        assert list(response.context["form"].errors) == [field]
        assert not Customer.objects.exists()

    @pytest.mark.parametrize(("field", "value"), [("country", "XX"), ("currency", "DEM"), ("currency", "eur")])
    def test_an_unknown_code_is_refused_by_the_service(self, rep, field, value):
        with pytest.raises(ValidationError) as caught:
            create_customer(by=rep, data={"name": "Initech", field: value})
        assert list(caught.value.message_dict) == [field]

    def test_the_record_page_names_them(self, signed_in, customer):
        page = parse(signed_in("rep").get(detail_url(customer)).text)
        assert page.by_id("currency").text == "Euro (EUR)"
        assert "Germany" in page.find(tag="main").text

    def test_the_api_keeps_codes(self, customer, token_client, rep):
        body = token_client(rep).get(reverse("api:customer-detail", args=[customer.pk])).json()
        assert (body["country"], body["currency"]) == ("DE", "EUR")
        listed = token_client(rep).get(reverse("api:customer-list")).json()["results"][0]
        assert (listed["country"], listed["currency"]) == ("DE", "EUR")


class TestAContactNeedsAnEmailOrAPhone:
    def test_the_service_refuses_a_contact_without_either(self, rep, customer):
        with pytest.raises(ValidationError) as caught:
            create_contact(customer=customer, by=rep, data={"name": "Nobody"})
        assert caught.value.message_dict == {
            "email": [CONTACT_NEEDS_EMAIL_OR_PHONE],
            "phone": [CONTACT_NEEDS_EMAIL_OR_PHONE],
        }

    def test_either_one_is_enough(self, rep, customer):
        assert create_contact(customer=customer, by=rep, data={"name": "Mail", "email": "m@acme.example"}).pk
        assert create_contact(customer=customer, by=rep, data={"name": "Phone", "phone": "+49 30 1"}).pk

    def test_clearing_the_last_one_is_refused(self, rep, customer):
        contact = ContactFactory(customer=customer, email="jane@acme.example", phone="")
        with pytest.raises(ValidationError):
            update_contact(contact=contact, by=rep, data={"email": ""})
        contact.refresh_from_db()
        assert contact.email == "jane@acme.example"

    def test_the_form_says_so_on_both_fields(self, signed_in, customer):
        response = signed_in("rep").post(contact_url("contact_create", customer), {"name": "Jane"}, headers=HTMX)
        form = parse(response.text).elements[0]
        assert form.by_id("id_email_error").text == CONTACT_NEEDS_EMAIL_OR_PHONE
        assert form.by_id("id_phone_error").text == CONTACT_NEEDS_EMAIL_OR_PHONE
        assert not customer.contacts.exists()

    def test_the_api_answers_400_on_the_fields(self, token_client, rep, customer):
        response = token_client(rep).post(reverse("api:contact-list"), {"customer": customer.pk, "name": "Jane"})
        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == {"email", "phone"}

    def test_the_database_refuses_it_too(self, customer):
        with pytest.raises(IntegrityError), transaction.atomic():
            Contact.objects.create(customer=customer, name="Nobody", email="", phone="")


class TestLastChangedBy:
    def test_the_services_record_who_saved_last(self, rep, clerk):
        customer = create_customer(by=rep, data={"name": "Initech"})
        assert customer.updated_by == rep
        update_customer(customer=customer, by=clerk, data={"city": "Bonn"})
        customer.refresh_from_db()
        assert customer.updated_by == clerk

    def test_saving_nothing_changes_nobody(self, rep, clerk):
        customer = create_customer(by=rep, data={"name": "Initech"})
        update_customer(customer=customer, by=clerk, data={"name": "Initech"})
        customer.refresh_from_db()
        assert customer.updated_by == rep

    def test_the_record_page_says_by_whom(self, signed_in, customer, clerk):
        update_customer(customer=customer, by=clerk, data={"city": "Bonn"})
        text = parse(signed_in("rep").get(detail_url(customer)).text).by_id("last-changed").text
        assert text.endswith(" by Clara Clerk")


class TestTheRecordPage:
    def test_each_fact_is_shown_once(self, signed_in, rep):
        customer = CustomerFactory(owner=rep, name="Acme", legal_name="Acme Legal GmbH", tax_id="DE999")
        main = parse(signed_in("clerk").get(detail_url(customer)).text).find(tag="main").text
        for fact in ("Acme Legal GmbH", "DE999", "Net 30", "Rita Rep", "Euro (EUR)", customer.email):
            assert len(re.findall(re.escape(fact), main)) == 1, fact

    def test_a_long_email_ends_in_an_ellipsis_with_the_full_value_on_hover_and_focus(self, signed_in, rep):
        email = "accounts.payable.department.of.the.north@acme-industries-holding.example"
        customer = CustomerFactory(owner=rep, email=email)
        ContactFactory(customer=customer, email="a.very.long.contact.address@acme-industries-holding.example")
        page = parse(signed_in("rep").get(detail_url(customer)).text)
        links = page.find_all(tag="a", class_="text-ellipsis")
        assert {link.attrs["title"] for link in links} == {
            email,
            "a.very.long.contact.address@acme-industries-holding.example",
        }
        assert all(link.text == link.attrs["title"] for link in links)  # the whole value is there, clipped by CSS
