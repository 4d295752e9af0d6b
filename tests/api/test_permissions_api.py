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


class TestRefusedBeforeTheBodyIsRead:
    """Who may not change a record is refused 403 before validation, whatever
    the body says, as the edit page refuses them. The role-by-action table is in
    tests/crm/test_permission_matrix.py; these are the API's own cases."""

    @pytest.mark.parametrize("method", ["patch", "put"])
    def test_a_no_op_write_by_someone_who_may_not_edit_is_refused(self, as_actor, others_customer, method):
        client = as_actor("rep")
        body = client.get(customer_url(others_customer)).json() if method == "put" else {}
        version = others_customer.version

        response = getattr(client, method)(customer_url(others_customer), body)

        assert_forbidden(response)
        assert error_of(response)["message"] == "You may not change this customer."
        others_customer.refresh_from_db()
        assert others_customer.version == version

    def test_an_invalid_body_from_someone_who_may_not_edit_is_a_403_not_a_400(self, as_actor, others_customer):
        response = as_actor("rep").patch(customer_url(others_customer), {"email": "not-an-email", "payment_days": -5})
        assert_forbidden(response)

    def test_a_delete_by_someone_who_may_not_is_refused_before_anything_else(self, as_actor, customer):
        response = as_actor("sales_manager").delete(customer_url(customer), headers={"If-Match": '"999"'})
        assert_forbidden(response)
        assert Customer.objects.filter(pk=customer.pk).exists()

    def test_a_read_token_cannot_write_even_a_no_op(self, as_actor, customer):
        response = as_actor("rep", scope="read").patch(customer_url(customer), {})
        assert response.status_code == 403


class TestForbiddenFields:
    @pytest.mark.parametrize(
        ("field", "value"),
        [("credit_limit", "99999.00"), ("credit_limit", "lots"), ("owner", 999999), ("owner", "abc")],
    )
    def test_a_rep_changing_a_field_they_may_not_is_refused_valid_or_not(self, as_actor, customer, field, value):
        response = as_actor("rep").patch(customer_url(customer), {field: value})

        assert_forbidden(response)
        customer.refresh_from_db()
        assert customer.credit_limit == Decimal("10000.00")

    def test_the_refusal_names_the_field(self, as_actor, customer):
        response = as_actor("rep").patch(customer_url(customer), {"credit_limit": "99999.00"})
        assert error_of(response)["message"] == "You may not change: credit limit."

    def test_a_rep_cannot_set_a_credit_limit_or_another_owner_when_creating(self, as_actor, other_rep):
        assert_forbidden(as_actor("rep").post(customer_url(), {"name": "Initech", "credit_limit": "100.00"}))
        assert_forbidden(as_actor("rep").post(customer_url(), {"name": "Initech", "owner": other_rep.pk}))
        assert not Customer.objects.filter(name="Initech").exists()

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

    def test_a_tax_id_sent_back_written_differently_is_not_a_change(self, as_actor, customer):
        customer.tax_id = "DE123456789"
        customer.save()
        response = as_actor("sales_manager").patch(customer_url(customer), {"tax_id": "de 123 456 789"})
        assert response.status_code == 200, response.json()


class TestLists:
    def test_a_rep_lists_and_reads_every_customer(self, as_actor, customer, others_customer):
        client = as_actor("rep")
        assert {c["id"] for c in client.get(customer_url()).json()["results"]} == {customer.pk, others_customer.pk}
