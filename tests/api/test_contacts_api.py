"""/api/v1/contacts/: the people at customers, kept by whoever may edit the customer."""

import pytest

from crm.models import Contact
from tests.factories import ContactFactory

from .helpers import contact_url, error_of

pytestmark = pytest.mark.django_db


class TestCrud:
    def test_a_rep_adds_the_first_contact_and_it_becomes_primary(self, as_actor, customer):
        response = as_actor("rep").post(
            contact_url(),
            {"customer": customer.pk, "name": "Jane Doe", "email": "jane@acme.example", "job_title": "CFO"},
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["customer"] == customer.pk
        assert body["customer_name"] == "Acme Industries GmbH"
        assert body["is_primary"] is True
        assert Contact.objects.get(pk=body["id"]).email == "jane@acme.example"

    def test_naming_a_new_primary_contact_demotes_the_old_one(self, as_actor, customer, contact):
        response = as_actor("rep").post(
            contact_url(), {"customer": customer.pk, "name": "John Roe", "phone": "+49 1", "is_primary": True}
        )

        assert response.status_code == 201, response.json()
        contact.refresh_from_db()
        assert not contact.is_primary
        assert list(customer.contacts.filter(is_primary=True).values_list("name", flat=True)) == ["John Roe"]

    def test_reads_a_contact(self, as_actor, contact):
        response = as_actor("clerk").get(contact_url(contact))
        assert response.status_code == 200
        assert response.json()["name"] == "Jane Doe"

    def test_changes_a_contact(self, as_actor, contact):
        response = as_actor("rep").patch(contact_url(contact), {"phone": "+49 30 999"})
        assert response.status_code == 200, response.json()
        contact.refresh_from_db()
        assert contact.phone == "+49 30 999"

    def test_a_put_may_send_the_customer_back_unchanged(self, as_actor, contact):
        client = as_actor("rep")
        body = client.get(contact_url(contact)).json()
        body["job_title"] = "Head of Finance"
        assert client.put(contact_url(contact), body).status_code == 200

    def test_a_contact_cannot_move_to_another_customer(self, as_actor, contact, others_customer):
        response = as_actor("sales_manager").patch(contact_url(contact), {"customer": others_customer.pk})

        assert response.status_code == 400
        assert error_of(response)["fields"] == {"customer": ["A contact cannot move to another customer."]}

    def test_deletes_a_contact(self, as_actor, contact):
        assert as_actor("rep").delete(contact_url(contact)).status_code == 204
        assert not Contact.objects.filter(pk=contact.pk).exists()

    def test_lists_one_customers_contacts(self, as_actor, customer, others_customer):
        mine = ContactFactory(customer=customer)
        ContactFactory(customer=others_customer)

        response = as_actor("rep").get(contact_url(), {"customer": customer.pk})

        assert [c["id"] for c in response.json()["results"]] == [mine.pk]


class TestWhoKeepsContacts:
    def test_a_rep_cannot_touch_another_reps_customers_contacts(self, as_actor, others_customer):
        theirs = ContactFactory(customer=others_customer)
        client = as_actor("rep")

        assert client.get(contact_url(theirs)).status_code == 200  # reading is fine
        for response in (
            client.post(contact_url(), {"customer": others_customer.pk, "name": "Intruder"}),
            client.patch(contact_url(theirs), {"name": "Changed"}),
            client.delete(contact_url(theirs)),
        ):
            assert response.status_code == 403
            assert error_of(response)["code"] == "permission_denied"
        theirs.refresh_from_db()
        assert theirs.name != "Changed"

    @pytest.mark.parametrize("actor", ["clerk", "sales_manager", "finance_manager"])
    def test_finance_and_managers_keep_any_customers_contacts(self, as_actor, contact, actor):
        assert as_actor(actor).patch(contact_url(contact), {"job_title": "Controller"}).status_code == 200

    def test_an_outsider_sees_no_contacts(self, as_actor, contact):
        assert as_actor("outsider").get(contact_url()).status_code == 403
        assert as_actor("outsider").get(contact_url(contact)).status_code == 403

    def test_anonymous_is_asked_to_authenticate(self, api_client, contact):
        response = api_client.get(contact_url(contact))
        assert response.status_code == 401
        assert error_of(response)["code"] == "not_authenticated"


class TestBadInput:
    def test_an_unknown_customer_is_a_field_error(self, as_actor):
        response = as_actor("rep").post(contact_url(), {"customer": 999999, "name": "Jane"})
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == ["customer"]

    def test_an_invalid_email_is_a_field_error(self, as_actor, customer):
        response = as_actor("rep").post(
            contact_url(), {"customer": customer.pk, "name": "Jane", "email": "not-an-email"}
        )
        assert response.status_code == 400
        assert error_of(response)["fields"] == {"email": ["Enter a valid email address."]}

    def test_a_name_is_required(self, as_actor, customer):
        response = as_actor("rep").post(contact_url(), {"customer": customer.pk})
        assert response.status_code == 400
        assert error_of(response)["fields"] == {"name": ["This field is required."]}


class TestOptimisticConcurrency:
    def test_a_contact_carries_an_etag_and_a_stale_if_match_is_412(self, as_actor, contact):
        client = as_actor("rep")
        etag = client.get(contact_url(contact)).headers["ETag"]
        assert client.patch(contact_url(contact), {"job_title": "CFO"}, headers={"If-Match": etag}).status_code == 200

        response = client.patch(contact_url(contact), {"job_title": "CEO"}, headers={"If-Match": etag})

        assert response.status_code == 412
        assert error_of(response)["code"] == "precondition_failed"
        contact.refresh_from_db()
        assert contact.job_title == "CFO"
        assert client.delete(contact_url(contact), headers={"If-Match": etag}).status_code == 412

    def test_a_no_op_patch_by_someone_who_may_not_keep_the_contacts_is_403(self, as_actor, others_customer):
        theirs = ContactFactory(customer=others_customer)
        response = as_actor("rep").patch(contact_url(theirs), {})
        assert response.status_code == 403
        assert error_of(response)["message"] == "You may not change this customer's contacts."
