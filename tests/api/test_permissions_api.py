"""Who may do what to customers over the API. The rules live in crm.permissions and
crm.services; these tests check the API answers them with 401 / 403 and changes
nothing it refuses."""

from decimal import Decimal

import pytest

from crm.models import Customer

from .helpers import customer_url, error_of

pytestmark = pytest.mark.django_db


def assert_forbidden(response):
    assert response.status_code == 403, response.json()
    assert error_of(response)["code"] == "permission_denied"


class TestAnonymous:
    @pytest.mark.parametrize(
        ("method", "detail"), [("get", False), ("get", True), ("post", False), ("patch", True), ("delete", True)]
    )
    def test_is_asked_to_authenticate(self, api_client, customer, method, detail):
        url = customer_url(customer) if detail else customer_url()

        response = getattr(api_client, method)(url, {"name": "X"} if method in ("post", "patch") else None)

        assert response.status_code == 401
        assert error_of(response)["code"] == "not_authenticated"
        assert response.headers["WWW-Authenticate"] == "Token"


class TestOutsider:
    """Signed in, but without a role: sees and changes nothing."""

    @pytest.mark.parametrize(
        ("method", "detail"), [("get", False), ("get", True), ("post", False), ("patch", True), ("delete", True)]
    )
    def test_is_refused(self, as_actor, customer, method, detail):
        url = customer_url(customer) if detail else customer_url()
        response = getattr(as_actor("outsider"), method)(url, {"name": "X"} if method in ("post", "patch") else None)
        assert_forbidden(response)

    def test_with_a_session_is_refused_too(self, api_client, outsider, customer):
        api_client.force_login(outsider)
        assert_forbidden(api_client.get(customer_url()))


class TestSalesRep:
    def test_lists_and_reads_every_customer(self, as_actor, customer, others_customer):
        client = as_actor("rep")
        assert {c["id"] for c in client.get(customer_url()).json()["results"]} == {customer.pk, others_customer.pk}
        assert client.get(customer_url(others_customer)).status_code == 200

    def test_creates_customers(self, as_actor):
        assert as_actor("rep").post(customer_url(), {"name": "Initech"}).status_code == 201

    def test_edits_own_customers(self, as_actor, customer):
        response = as_actor("rep").patch(customer_url(customer), {"name": "Acme AG", "payment_days": 45})
        assert response.status_code == 200, response.json()

    def test_cannot_edit_another_reps_customer(self, as_actor, others_customer):
        assert_forbidden(as_actor("rep").patch(customer_url(others_customer), {"phone": "+1 555"}))
        others_customer.refresh_from_db()
        assert others_customer.phone != "+1 555"

    def test_cannot_change_a_credit_limit_even_on_own_customers(self, as_actor, customer):
        response = as_actor("rep").patch(customer_url(customer), {"credit_limit": "99999.00"})
        assert_forbidden(response)
        assert "credit limit" in error_of(response)["message"]
        customer.refresh_from_db()
        assert customer.credit_limit == Decimal("10000.00")

    def test_cannot_set_a_credit_limit_when_creating(self, as_actor):
        assert_forbidden(as_actor("rep").post(customer_url(), {"name": "Initech", "credit_limit": "100.00"}))
        assert not Customer.objects.filter(name="Initech").exists()

    def test_cannot_give_a_customer_to_another_rep(self, as_actor, customer, other_rep):
        assert_forbidden(as_actor("rep").patch(customer_url(customer), {"owner": other_rep.pk}))
        assert_forbidden(as_actor("rep").post(customer_url(), {"name": "Initech", "owner": other_rep.pk}))


class TestFinanceClerk:
    def test_edits_billing_fields_of_any_customer(self, as_actor, customer):
        response = as_actor("clerk").patch(
            customer_url(customer),
            {"payment_terms": "eom", "payment_days": 10, "tax_id": "DE555", "address_line1": "Unter den Linden 1"},
        )
        assert response.status_code == 200, response.json()
        customer.refresh_from_db()
        assert (customer.terms_label, customer.tax_id, customer.address_line1) == (
            "End of month + 10",
            "DE555",
            "Unter den Linden 1",
        )

    def test_cannot_rename_a_customer(self, as_actor, customer):
        assert_forbidden(as_actor("clerk").patch(customer_url(customer), {"name": "Renamed"}))

    def test_cannot_change_a_credit_limit(self, as_actor, customer):
        assert_forbidden(as_actor("clerk").patch(customer_url(customer), {"credit_limit": "1.00"}))

    def test_cannot_create_customers(self, as_actor):
        assert_forbidden(as_actor("clerk").post(customer_url(), {"name": "Initech"}))

    def test_a_put_that_sends_the_credit_limit_back_unchanged_is_fine(self, as_actor, customer):
        """Integrations PUT the whole record they read: unchanged fields are not changes."""
        client = as_actor("clerk")
        body = client.get(customer_url(customer)).json()
        body["payment_days"] = 60

        response = client.put(customer_url(customer), body)

        assert response.status_code == 200, response.json()
        customer.refresh_from_db()
        assert customer.payment_days == 60
        assert customer.credit_limit == Decimal("10000.00")

    def test_a_put_that_changes_the_credit_limit_is_refused_as_a_whole(self, as_actor, customer):
        client = as_actor("clerk")
        body = client.get(customer_url(customer)).json()
        body.update(payment_days=60, credit_limit="20000.00")

        assert_forbidden(client.put(customer_url(customer), body))
        customer.refresh_from_db()
        assert customer.payment_days == 30


class TestFinanceManager:
    def test_changes_credit_limits(self, as_actor, customer):
        response = as_actor("finance_manager").patch(customer_url(customer), {"credit_limit": "25000.00"})
        assert response.status_code == 200, response.json()
        assert response.json()["credit_limit"] == "25000.00"
        customer.refresh_from_db()
        assert customer.credit_limit == Decimal("25000.00")

    def test_removes_a_credit_limit_with_null(self, as_actor, customer):
        response = as_actor("finance_manager").patch(customer_url(customer), {"credit_limit": None})
        assert response.status_code == 200, response.json()
        customer.refresh_from_db()
        assert customer.credit_limit is None


class TestSalesManager:
    def test_edits_every_customer(self, as_actor, customer, others_customer):
        client = as_actor("sales_manager")
        assert client.patch(customer_url(customer), {"name": "Acme AG", "tax_id": "DE777"}).status_code == 200
        assert client.patch(customer_url(others_customer), {"status": "inactive"}).status_code == 200

    def test_cannot_change_a_credit_limit(self, as_actor, customer):
        assert_forbidden(as_actor("sales_manager").patch(customer_url(customer), {"credit_limit": "1.00"}))
