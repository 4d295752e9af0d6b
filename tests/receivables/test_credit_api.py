"""The credit API: GET /customers/{id}/credit/ (credit status) and /credit-holds/
(list, read, set, release) — the same services as the pages, documented in OpenAPI."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from receivables import credit
from receivables.models import CreditHold
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
HOLDS = "/api/v1/credit-holds/"


def status_url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/credit/"


@pytest.fixture
def as_actor(actors, token_client):
    return lambda name, scope="write": token_client(actors[name], scope=scope)


def error(response):
    return response.json()["error"]


class TestCreditStatus:
    def test_it_answers_exposure_limit_left_and_holds(self, as_actor, customer, issue, finance_manager):
        issue("10500.00", on=TODAY)
        credit.set_hold(customer=customer, by=finance_manager, reason="Bounced")
        response = as_actor("rep").get(status_url(customer))
        assert response.status_code == 200, response.json()
        data = response.json()
        assert (data["exposure"], data["limit"], data["left"], data["on_hold"]) == (
            "10500.00",
            "10000.00",
            "-500.00",
            True,
        )
        assert len(data["reasons"]) == 2
        assert data["manual_hold"]["reason"] == "Bounced"
        assert data["manual_hold"]["set_by"] == "Fiona Finance"
        assert data["avg_days_late"] is None
        assert data["verdict"].endswith("500.00 over the credit limit")

    def test_no_limit_is_null(self, as_actor, customer):
        customer.credit_limit = None
        customer.save(update_fields=["credit_limit"])
        data = as_actor("clerk").get(status_url(customer)).json()
        assert (data["limit"], data["left"], data["on_hold"], data["manual_hold"]) == (None, None, False, None)

    @pytest.mark.parametrize(
        ("actor", "code"), [("rep", 200), ("sales_manager", 200), ("clerk", 200), ("other_rep", 404), ("outsider", 404)]
    )
    def test_who_may_read_it(self, as_actor, customer, actor, code):
        assert as_actor(actor, scope="read").get(status_url(customer)).status_code == code

    @pytest.mark.parametrize("pk", ["0", "999999", "abc", "99999999999999999999999"])
    def test_unknown_customers_are_404(self, as_actor, pk):
        assert as_actor("clerk").get(f"/api/v1/customers/{pk}/credit/").status_code == 404

    def test_it_costs_a_bounded_number_of_queries(self, as_actor, customer, issue, django_assert_max_num_queries):
        for n in range(5):
            issue("10.00", on=TODAY - timedelta(days=n * 40))
        client = as_actor("rep")
        client.get(status_url(customer))
        with django_assert_max_num_queries(6):  # token, user, permissions, customer, figures
            assert client.get(status_url(customer)).status_code == 200


class TestHolds:
    def test_a_finance_manager_sets_lists_and_releases_a_hold(self, as_actor, customer):
        client = as_actor("finance_manager")
        until = (TODAY + timedelta(days=14)).isoformat()
        response = client.post(HOLDS, {"customer": customer.pk, "reason": "Bounced cheque", "until": until})
        assert response.status_code == 201, response.json()
        hold = response.json()
        assert (hold["reason"], hold["until"], hold["is_active"], hold["set_by"]) == (
            "Bounced cheque",
            until,
            True,
            "Fiona Finance",
        )
        assert [row["id"] for row in client.get(HOLDS).json()["results"]] == [hold["id"]]
        assert credit.credit_status(customer).on_hold
        response = client.post(f"{HOLDS}{hold['id']}/release/")
        assert response.status_code == 200
        assert response.json()["is_active"] is False and response.json()["released_by"] == "Fiona Finance"
        assert not credit.credit_status(customer).on_hold

    def test_a_second_hold_and_a_second_release_are_conflicts(self, as_actor, customer):
        client = as_actor("finance_manager")
        first = client.post(HOLDS, {"customer": customer.pk, "reason": "One"}).json()
        again = client.post(HOLDS, {"customer": customer.pk, "reason": "Two"})
        assert again.status_code == 409 and "already" in error(again)["message"]
        client.post(f"{HOLDS}{first['id']}/release/")
        assert client.post(f"{HOLDS}{first['id']}/release/").status_code == 409

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"reason": "x"}, "customer"),
            ({"customer": 999999, "reason": "x"}, "customer"),
            ({"reason": ""}, "reason"),
            ({"reason": "x" * 201}, "reason"),
            ({"reason": "x", "until": "2026-02-30"}, "until"),
            ({"reason": "x", "until": (TODAY - timedelta(days=1)).isoformat()}, "until"),
            ({"reason": 12}, "reason"),
        ],
    )
    def test_bad_input_is_a_400_and_sets_nothing(self, as_actor, customer, body, field):
        body = {"customer": customer.pk, **body} if "customer" not in body and field != "customer" else body
        response = as_actor("finance_manager").post(HOLDS, body, format="json")
        assert response.status_code == 400, response.json()
        assert field in error(response)["fields"]
        assert not CreditHold.objects.exists()

    @pytest.mark.parametrize("actor", ["rep", "sales_manager", "clerk"])
    def test_only_finance_managers_set_and_release(self, as_actor, customer, finance_manager, actor):
        assert as_actor(actor).post(HOLDS, {"customer": customer.pk, "reason": "x"}).status_code == 403
        hold = credit.set_hold(customer=customer, by=finance_manager, reason="Held")
        assert as_actor(actor).post(f"{HOLDS}{hold.pk}/release/").status_code == 403
        hold.refresh_from_db()
        assert hold.released_at is None

    def test_reps_list_only_their_own_customers_holds(self, as_actor, customer, finance_manager, other_rep):
        mine = credit.set_hold(customer=customer, by=finance_manager, reason="Mine")
        credit.set_hold(customer=CustomerFactory(owner=other_rep), by=finance_manager, reason="Theirs")
        assert [row["id"] for row in as_actor("rep").get(HOLDS).json()["results"]] == [mine.pk]
        assert len(as_actor("sales_manager").get(HOLDS).json()["results"]) == 2
        assert as_actor("outsider").get(HOLDS).status_code == 403

    def test_the_list_costs_the_same_for_few_or_many(self, as_actor, finance_manager, django_assert_max_num_queries):
        for n in range(12):
            credit.set_hold(customer=CustomerFactory(), by=finance_manager, reason=f"Hold {n}")
        client = as_actor("sales_manager")
        client.get(HOLDS)
        with django_assert_max_num_queries(5):
            response = client.get(HOLDS)
        assert len(response.json()["results"]) == 12


def test_the_schema_documents_both(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content.decode()
    assert "/api/v1/customers/{id}/credit/" in schema or "/api/v1/customers/{pk}/credit/" in schema
    assert "/api/v1/credit-holds/{id}/release/" in schema
    assert Decimal  # amounts are strings of two decimals, as everywhere in the API
