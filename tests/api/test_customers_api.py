"""/api/v1/customers/: reading, creating, changing and deleting customers."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Contact, Customer
from tests.factories import ContactFactory, CustomerFactory

from .helpers import customer_url, error_of

pytestmark = pytest.mark.django_db


class TestReading:
    def test_a_customer_reads_as_its_fields_plus_what_people_need(self, as_actor, customer):
        response = as_actor("rep").get(customer_url(customer))

        assert response.status_code == 200
        body = response.json()
        assert body["id"] == customer.pk
        assert body["url"] == f"http://testserver/api/v1/customers/{customer.pk}/"
        assert body["name"] == "Acme Industries GmbH"
        assert body["owner"] == customer.owner_id
        assert body["owner_name"] == "Rita Rep"
        assert body["terms_label"] == "Net 30"
        assert body["billing_name"] == customer.legal_name
        assert body["credit_limit"] == "10000.00"  # money is a decimal string, never a float

    def test_the_detail_lists_the_contacts_primary_first(self, as_actor, customer):
        ContactFactory(customer=customer, name="Zoe Zimmer", is_primary=True)
        ContactFactory(customer=customer, name="Adam Alt")

        contacts = as_actor("rep").get(customer_url(customer)).json()["contacts"]

        assert [c["name"] for c in contacts] == ["Zoe Zimmer", "Adam Alt"]
        assert contacts[0]["is_primary"] is True
        assert contacts[0]["url"].startswith("http://testserver/api/v1/contacts/")

    def test_the_list_leaves_contacts_out(self, as_actor, customer):
        ContactFactory(customer=customer)

        results = as_actor("rep").get(customer_url()).json()["results"]

        assert [r["id"] for r in results] == [customer.pk]
        assert "contacts" not in results[0]

    def test_a_customer_without_a_credit_limit_has_null(self, as_actor):
        unlimited = CustomerFactory(credit_limit=None)
        assert as_actor("rep").get(customer_url(unlimited)).json()["credit_limit"] is None

    def test_an_unknown_customer_is_a_404(self, as_actor):
        response = as_actor("rep").get(customer_url(999999))
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


class TestCreating:
    def test_a_rep_creates_a_customer_and_owns_it(self, as_actor, rep):
        response = as_actor("rep").post(
            customer_url(),
            {"name": "Initech", "email": "ap@initech.example", "tax_id": "de 999 888 777", "payment_days": 14},
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        customer = Customer.objects.get(pk=body["id"])
        assert customer.owner == rep
        assert customer.tax_id == "DE999888777"  # normalised by the service
        assert body["tax_id"] == "DE999888777"
        assert body["terms_label"] == "Net 14"
        assert body["currency"] == "EUR"
        assert body["credit_limit"] is None

    def test_a_sales_manager_names_the_owner(self, as_actor, rep):
        response = as_actor("sales_manager").post(customer_url(), {"name": "Initech", "owner": rep.pk})
        assert response.status_code == 201, response.json()
        assert Customer.objects.get(pk=response.json()["id"]).owner == rep

    def test_a_finance_manager_sets_the_credit_limit_from_the_start(self, as_actor, rep):
        response = as_actor("finance_manager").post(
            customer_url(), {"name": "Initech", "credit_limit": "2500.50", "owner": rep.pk}
        )
        assert response.status_code == 201, response.json()
        assert Customer.objects.get(pk=response.json()["id"]).credit_limit == Decimal("2500.50")

    @pytest.mark.parametrize("actor", ["finance_manager", "admin"])
    def test_someone_outside_sales_must_name_the_sales_owner(self, as_actor, actor):
        response = as_actor(actor).post(customer_url(), {"name": "Initech"})

        assert response.status_code == 400
        assert error_of(response)["fields"] == {"owner": ["Choose the sales rep who owns this customer."]}
        assert not Customer.objects.filter(name="Initech").exists()

    def test_the_owner_choices_are_the_forms(self, as_actor, clerk, rep):
        """Active sales users only, as the form offers; a clerk is not one."""
        response = as_actor("sales_manager").post(customer_url(), {"name": "Initech", "owner": clerk.pk})
        assert response.status_code == 400
        assert list(error_of(response)["fields"]) == ["owner"]

    def test_read_only_fields_are_ignored(self, as_actor):
        response = as_actor("rep").post(
            customer_url(),
            {"name": "Initech", "id": 4242, "terms_label": "Net 999", "created_at": "2001-01-01T00:00:00Z"},
        )
        assert response.status_code == 201
        body = response.json()
        assert body["id"] != 4242
        assert body["terms_label"] == "Net 30"
        assert not body["created_at"].startswith("2001")


class TestChanging:
    def test_a_patch_changes_only_what_it_sends(self, as_actor, customer):
        response = as_actor("rep").patch(customer_url(customer), {"phone": "+49 89 555"})

        assert response.status_code == 200, response.json()
        customer.refresh_from_db()
        assert customer.phone == "+49 89 555"
        assert customer.name == "Acme Industries GmbH"
        assert response.json()["phone"] == "+49 89 555"

    def test_a_put_replaces_the_fields(self, as_actor, customer):
        body = as_actor("rep").get(customer_url(customer)).json()
        body.update(name="Acme Holding", payment_terms="eom", payment_days=15)

        response = as_actor("rep").put(customer_url(customer), body)

        assert response.status_code == 200, response.json()
        assert response.json()["terms_label"] == "End of month + 15"
        customer.refresh_from_db()
        assert (customer.name, customer.payment_terms, customer.payment_days) == ("Acme Holding", "eom", 15)

    def test_the_updated_at_moves_on_a_change(self, as_actor, customer):
        before = customer.updated_at
        as_actor("rep").patch(customer_url(customer), {"phone": "+49 89 555"})
        customer.refresh_from_db()
        assert customer.updated_at > before

    def test_a_sales_manager_hands_a_customer_to_another_rep(self, as_actor, customer, other_rep):
        response = as_actor("sales_manager").patch(customer_url(customer), {"owner": other_rep.pk})
        assert response.status_code == 200, response.json()
        customer.refresh_from_db()
        assert customer.owner == other_rep


class TestDeleting:
    def test_an_admin_deletes_a_customer_and_its_contacts(self, as_actor, customer, contact):
        response = as_actor("admin").delete(customer_url(customer))

        assert response.status_code == 204
        assert not Customer.objects.filter(pk=customer.pk).exists()
        assert not Contact.objects.filter(pk=contact.pk).exists()

    @pytest.mark.parametrize("actor", ["rep", "sales_manager", "clerk", "finance_manager"])
    def test_nobody_else_deletes_customers(self, as_actor, customer, actor):
        response = as_actor(actor).delete(customer_url(customer))

        assert response.status_code == 403
        assert error_of(response)["code"] == "permission_denied"
        assert Customer.objects.filter(pk=customer.pk).exists()


class TestWhatAWriteAnswers:
    def test_an_update_answers_with_the_fields_of_a_get(self, as_actor, customer):
        ContactFactory(customer=customer, name="Jane Doe")
        client = as_actor("rep")

        patched = client.patch(customer_url(customer), {"phone": "+49 89 555"}).json()
        read = client.get(customer_url(customer)).json()

        assert patched == read
        assert [c["name"] for c in patched["contacts"]] == ["Jane Doe"]

    # On top of what a GET costs (auth, the customer and its contacts, read back the
    # same way after the write): the record read for the permission check (1), and
    # the lock, the update and their two savepoints (6).
    WRITE_QUERIES = 1 + 6

    def test_an_update_costs_a_get_plus_the_write_for_1_and_10_contacts(
        self, as_actor, customer, django_assert_num_queries
    ):
        client = as_actor("rep")
        ContactFactory(customer=customer)
        client.get(customer_url(customer))  # warm: the token's last use is recorded once a minute
        with CaptureQueriesContext(connection) as get:
            client.get(customer_url(customer))
        with django_assert_num_queries(len(get) + self.WRITE_QUERIES):
            assert client.patch(customer_url(customer), {"phone": "+1"}).status_code == 200
        ContactFactory.create_batch(9, customer=customer)
        with django_assert_num_queries(len(get) + self.WRITE_QUERIES):
            assert client.patch(customer_url(customer), {"phone": "+2"}).status_code == 200


class TestOptimisticConcurrency:
    def test_a_customer_carries_its_version_as_etag(self, as_actor, customer):
        client = as_actor("rep")
        assert client.get(customer_url(customer)).headers["ETag"] == '"1"'
        response = client.patch(customer_url(customer), {"phone": "+1"})
        assert response.headers["ETag"] == '"2"'
        assert client.get(customer_url(customer)).headers["ETag"] == '"2"'

    def test_a_matching_if_match_is_applied(self, as_actor, customer):
        client = as_actor("rep")
        etag = client.get(customer_url(customer)).headers["ETag"]
        response = client.patch(customer_url(customer), {"phone": "+1"}, headers={"If-Match": etag})
        assert response.status_code == 200, response.json()

    @pytest.mark.parametrize("method", ["patch", "put"])
    def test_a_stale_if_match_is_412_and_nothing_is_saved(self, as_actor, customer, method):
        client = as_actor("rep")
        body = client.get(customer_url(customer)).json()
        etag = client.get(customer_url(customer)).headers["ETag"]
        as_actor("sales_manager").patch(customer_url(customer), {"phone": "+49 40 999"})  # meanwhile
        body["name"] = "Mine"

        response = getattr(client, method)(customer_url(customer), body, headers={"If-Match": etag})

        assert response.status_code == 412
        assert error_of(response)["code"] == "precondition_failed"
        customer.refresh_from_db()
        assert (customer.name, customer.phone) == ("Acme Industries GmbH", "+49 40 999")

    def test_without_if_match_the_last_write_wins_as_before(self, as_actor, customer):
        as_actor("sales_manager").patch(customer_url(customer), {"phone": "+49 40 999"})
        assert as_actor("rep").patch(customer_url(customer), {"name": "Mine"}).status_code == 200

    @pytest.mark.parametrize("header", ["garbage", '"abc"', "W/"])
    def test_an_if_match_that_names_no_version_is_412(self, as_actor, customer, header):
        response = as_actor("rep").patch(customer_url(customer), {"name": "Mine"}, headers={"If-Match": header})
        assert response.status_code == 412
        customer.refresh_from_db()
        assert customer.name == "Acme Industries GmbH"

    def test_a_stale_delete_is_412(self, as_actor, customer):
        as_actor("rep").patch(customer_url(customer), {"phone": "+1"})
        response = as_actor("admin").delete(customer_url(customer), headers={"If-Match": '"1"'})
        assert response.status_code == 412
        assert Customer.objects.filter(pk=customer.pk).exists()
        assert as_actor("admin").delete(customer_url(customer), headers={"If-Match": '"2"'}).status_code == 204

    def test_the_schema_documents_the_headers_and_the_412(self, as_actor):
        schema = as_actor("rep").get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}).json()
        patch = schema["paths"]["/api/v1/customers/{id}/"]["patch"]
        assert {"name": "If-Match", "in": "header"}.items() <= next(
            p for p in patch["parameters"] if p["name"] == "If-Match"
        ).items()
        assert "412" in patch["responses"]
        assert "ETag" in patch["responses"]["200"]["headers"]
        get = schema["paths"]["/api/v1/customers/{id}/"]["get"]
        assert "ETag" in get["responses"]["200"]["headers"]
