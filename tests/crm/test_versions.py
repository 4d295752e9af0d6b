"""Optimistic concurrency: an edit made on a stale copy is refused, not applied."""

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse

from core.concurrency import StaleVersion
from crm.forms import STALE_CONTACT, CustomerForm
from crm.services import create_contact, delete_contact, update_contact, update_customer
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

STALE = "This customer was changed by someone else since you opened it. Review the current values below and save again."


class TestService:
    def test_every_change_bumps_the_version(self, rep, customer):
        assert customer.version == 1
        update_customer(customer=customer, by=rep, data={"phone": "+1 555"})
        update_customer(customer=customer, by=rep, data={"phone": "+1 556"})
        customer.refresh_from_db()
        assert customer.version == 3

    def test_a_save_that_changes_nothing_keeps_the_version(self, rep, customer):
        update_customer(customer=customer, by=rep, data={"name": customer.name})
        customer.refresh_from_db()
        assert customer.version == 1

    def test_a_stale_expected_version_is_refused_and_nothing_is_saved(self, rep, customer):
        update_customer(customer=customer, by=rep, data={"phone": "+1 555"})  # someone else, meanwhile
        with pytest.raises(StaleVersion) as caught:
            update_customer(customer=customer, by=rep, data={"name": "Mine"}, expected_version=1)
        assert caught.value.current_version == 2
        customer.refresh_from_db()
        assert customer.name == "Acme Industries GmbH"

    def test_the_current_expected_version_is_accepted(self, rep, customer):
        update_customer(customer=customer, by=rep, data={"name": "Mine"}, expected_version=1)
        customer.refresh_from_db()
        assert (customer.name, customer.version) == ("Mine", 2)

    def test_contacts_carry_a_version_too(self, rep, customer):
        contact = ContactFactory(customer=customer)
        update_contact(contact=contact, by=rep, data={"job_title": "CFO"}, expected_version=1)
        with pytest.raises(StaleVersion):
            update_contact(contact=contact, by=rep, data={"job_title": "CEO"}, expected_version=1)
        with pytest.raises(StaleVersion):
            delete_contact(contact=contact, by=rep, expected_version=1)
        contact.refresh_from_db()
        assert (contact.job_title, contact.version) == ("CFO", 2)


class TestEditPage:
    def post(self, client, customer, **changes):
        data = model_to_dict(customer, fields=CustomerForm._meta.fields)
        data.update(changes)
        data = {name: "" if value is None else value for name, value in data.items()}
        return client.post(reverse("crm:customer_edit", args=[customer.pk]), data)

    def test_the_form_carries_the_version_it_was_opened_with(self, client, rep, customer):
        client.force_login(rep)
        page = client.get(reverse("crm:customer_edit", args=[customer.pk])).text
        assert '<input type="hidden" name="version" value="1"' in page

    def test_a_stale_form_is_refused_with_the_current_values_and_nothing_is_saved(
        self, client, rep, sales_manager, customer
    ):
        client.force_login(rep)
        update_customer(customer=customer, by=sales_manager, data={"phone": "+49 40 999"})  # meanwhile

        response = self.post(client, customer, version=1, name="Acme AG", phone="+1 555")

        assert response.status_code == 200
        form = response.context["form"]
        assert form.non_field_errors() == [STALE]
        assert STALE in response.text
        assert ("Phone", "+49 40 999") in form.changed_by_others
        assert 'name="version" value="2"' in response.text  # saving again is a deliberate overwrite
        customer.refresh_from_db()
        assert (customer.name, customer.phone, customer.version) == ("Acme Industries GmbH", "+49 40 999", 2)

    def test_saving_again_after_review_goes_through(self, client, rep, sales_manager, customer):
        client.force_login(rep)
        update_customer(customer=customer, by=sales_manager, data={"phone": "+49 40 999"})
        response = self.post(client, customer, version=2, name="Acme AG")
        assert response.status_code == 302
        customer.refresh_from_db()
        assert (customer.name, customer.version) == ("Acme AG", 3)


class TestContactInlineForm:
    def post(self, client, contact, **changes):
        data = {"name": contact.name, "job_title": contact.job_title, "email": contact.email, "phone": contact.phone}
        data.update(changes)
        url = reverse("crm:contact_edit", args=[contact.customer_id, contact.pk])
        return client.post(url, data, HTTP_HX_REQUEST="true")

    def test_the_inline_form_carries_the_version_it_was_opened_with(self, client, rep, customer):
        contact = create_contact(customer=customer, by=rep, data={"name": "Jane Doe", "email": "jane@acme.example"})
        client.force_login(rep)
        page = client.get(reverse("crm:contact_edit", args=[customer.pk, contact.pk]), HTTP_HX_REQUEST="true").text
        assert '<input type="hidden" name="version" value="1"' in page

    def test_a_stale_inline_form_shows_the_stored_contact_and_saves_nothing(self, client, rep, sales_manager, customer):
        contact = create_contact(customer=customer, by=rep, data={"name": "Jane Doe", "email": "jane@acme.example"})
        update_contact(contact=contact, by=sales_manager, data={"job_title": "CFO"})  # meanwhile
        client.force_login(rep)

        response = self.post(client, contact, version=1, job_title="CEO")

        assert response.status_code == 200
        assert STALE_CONTACT in response.text
        assert 'value="CFO"' in response.text
        assert 'name="version" value="2"' in response.text
        contact.refresh_from_db()
        assert (contact.job_title, contact.version) == ("CFO", 2)

    def test_the_current_version_saves(self, client, rep, customer):
        contact = create_contact(customer=customer, by=rep, data={"name": "Jane Doe", "email": "jane@acme.example"})
        client.force_login(rep)
        response = self.post(client, contact, version=1, job_title="CEO")
        assert response.status_code == 200
        contact.refresh_from_db()
        assert (contact.job_title, contact.version) == ("CEO", 2)
