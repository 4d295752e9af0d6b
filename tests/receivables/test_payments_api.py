"""The payments API: /api/v1/payments/ (+ allocate, unallocate, void) and /api/v1/allocations/,
on the same services as the pages; errors of the one shape; ETag / If-Match; Idempotency-Key."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache

from receivables import services
from receivables.models import Allocation, Payment
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

D = Decimal
PAYMENTS = "/api/v1/payments/"
ALLOCATIONS = "/api/v1/allocations/"
TODAY = date.today()


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def pay(clerk, customer, amount, allocations=None, **data):
    data = {"received_on": TODAY, "amount": amount, "method": "bank_transfer", **data}
    return services.record_payment(customer=customer, by=clerk, data=data, allocations=allocations)


def body(customer, amount="100.00", **extra):
    return {"customer": customer.pk, "received_on": TODAY.isoformat(), "amount": amount, **extra}


class TestRecord:
    def test_it_pays_the_oldest_due_first_by_default(self, token_client, clerk, customer, issue):
        newer = issue("300.00", on=TODAY - timedelta(days=5))
        older = issue("200.00", on=TODAY - timedelta(days=50))
        response = token_client(clerk).post(PAYMENTS, body(customer, "250.00", reference="WIRE-1"), format="json")
        assert response.status_code == 201, response.json()
        data = response.json()
        assert data["number"].startswith("PAY-") and data["unapplied"] == "0.00"
        assert [(a["invoice"], a["amount"]) for a in data["allocations"]] == [(older.pk, "200.00"), (newer.pk, "50.00")]
        assert response["ETag"] == f'"{data["version"]}"'

    def test_with_allocations_exactly_so(self, token_client, clerk, customer, issue):
        first, second = issue("100.00"), issue("200.00")
        allocations = [{"invoice": second.pk, "amount": "150.00"}, {"invoice": first.pk, "amount": "20.00"}]
        data = (
            token_client(clerk).post(PAYMENTS, body(customer, "200.00", allocations=allocations), format="json").json()
        )
        assert sorted((a["invoice"], a["amount"]) for a in data["allocations"]) == sorted(
            [(first.pk, "20.00"), (second.pk, "150.00")]
        )
        assert data["unapplied"] == "30.00"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"amount": "0"}, "amount"),
            ({"amount": "-10.00"}, "amount"),
            ({"amount": 12}, "amount"),  # a JSON number, not a decimal string
            ({"received_on": (TODAY + timedelta(days=2)).isoformat()}, "received_on"),
            ({"method": "barter"}, "method"),
            ({"customer": 10**12}, "customer"),
        ],
    )
    def test_bad_input_is_a_400_by_field(self, token_client, clerk, customer, changes, field):
        response = token_client(clerk).post(PAYMENTS, {**body(customer), **changes}, format="json")
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
        assert not Payment.objects.exists()

    def test_more_than_an_invoices_balance_or_another_customers_invoice_is_a_400(
        self, token_client, clerk, customer, issue, other_rep
    ):
        invoice = issue("100.00")
        theirs = issue("100.00", who=CustomerFactory(owner=other_rep))
        client = token_client(clerk)
        too_much = client.post(
            PAYMENTS, body(customer, allocations=[{"invoice": invoice.pk, "amount": "100.01"}]), format="json"
        )
        assert too_much.status_code == 400 and "amount" in too_much.json()["error"]["fields"]
        other = client.post(
            PAYMENTS, body(customer, allocations=[{"invoice": theirs.pk, "amount": "10.00"}]), format="json"
        )
        assert other.status_code == 400 and "another customer" in other.json()["error"]["fields"]["invoice"][0]
        assert not Payment.objects.exists()  # nothing half-written

    def test_a_rep_may_not_record(self, token_client, rep, customer):
        response = token_client(rep).post(PAYMENTS, body(customer), format="json")
        assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"

    def test_the_same_idempotency_key_records_once(self, token_client, clerk, customer):
        client = token_client(clerk)
        first = client.post(PAYMENTS, body(customer), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        again = client.post(PAYMENTS, body(customer), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
        assert Payment.objects.count() == 1
        other = client.post(PAYMENTS, body(customer, "5.00"), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert other.status_code == 409
        assert client.post(PAYMENTS, body(customer), format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201

    def test_a_refused_request_can_be_retried_with_its_key(self, token_client, clerk, customer):
        client = token_client(clerk)
        bad = client.post(PAYMENTS, body(customer, "0"), format="json", HTTP_IDEMPOTENCY_KEY="k-3")
        assert bad.status_code == 400
        good = client.post(PAYMENTS, body(customer, "1.00"), format="json", HTTP_IDEMPOTENCY_KEY="k-3")
        assert good.status_code == 201  # a refusal is not kept: the corrected request goes through

    def test_a_blank_or_huge_key_is_a_400(self, token_client, clerk, customer):
        response = token_client(clerk).post(PAYMENTS, body(customer), format="json", HTTP_IDEMPOTENCY_KEY="x" * 201)
        assert response.status_code == 400


class TestRead:
    def test_a_rep_lists_and_reads_only_their_customers_payments(self, token_client, clerk, rep, customer, other_rep):
        mine = pay(clerk, customer, "10.00")
        theirs = pay(clerk, CustomerFactory(owner=other_rep), "20.00")
        client = token_client(rep)
        assert [row["id"] for row in client.get(PAYMENTS).json()["results"]] == [mine.pk]
        assert client.get(f"{PAYMENTS}{theirs.pk}/").status_code == 404
        assert client.get(f"{PAYMENTS}{mine.pk}/").status_code == 200

    def test_filters(self, token_client, clerk, customer):
        wire = pay(clerk, customer, "10.00", reference="WIRE-42")
        card = pay(clerk, customer, "20.00", method="card")
        client = token_client(clerk)
        assert [r["id"] for r in client.get(f"{PAYMENTS}?q=WIRE-42").json()["results"]] == [wire.pk]
        assert [r["id"] for r in client.get(f"{PAYMENTS}?method=card").json()["results"]] == [card.pk]
        assert client.get(f"{PAYMENTS}?received_from=nope").status_code == 400

    def test_an_outsider_is_refused(self, token_client, outsider):
        assert token_client(outsider).get(PAYMENTS).status_code == 403

    def test_the_list_costs_the_same_queries_for_few_or_many(
        self, token_client, clerk, customer, django_assert_num_queries
    ):
        client = token_client(clerk)
        pay(clerk, customer, "10.00")
        client.get(PAYMENTS)
        with django_assert_num_queries(2) as few:  # the token, the rows
            client.get(PAYMENTS)
        for _ in range(15):
            pay(clerk, CustomerFactory(), "10.00")
        with django_assert_num_queries(len(few.captured_queries)):
            assert len(client.get(PAYMENTS).json()["results"]) == 16

    def test_allocations_by_invoice_and_payment(self, token_client, clerk, customer, issue, django_assert_num_queries):
        first, second = issue("100.00"), issue("100.00")
        payment = pay(clerk, customer, "150.00")
        client = token_client(clerk)
        rows = client.get(f"{ALLOCATIONS}?invoice={second.pk}").json()["results"]
        assert [(r["payment"], r["amount"], r["is_live"]) for r in rows] == [(payment.pk, "50.00", True)]
        assert len(client.get(f"{ALLOCATIONS}?payment={payment.pk}").json()["results"]) == 2
        assert first.pk in [r["invoice"] for r in client.get(ALLOCATIONS).json()["results"]]
        with django_assert_num_queries(2):  # the token, the rows (payment and invoice joined)
            client.get(ALLOCATIONS)


class TestOperations:
    def test_allocate_by_hand_and_auto(self, token_client, clerk, customer, issue):
        payment = pay(clerk, customer, "100.00", allocations=[])
        first, second = issue("30.00"), issue("100.00")
        client = token_client(clerk)
        url = f"{PAYMENTS}{payment.pk}/allocate/"
        by_hand = client.post(url, {"allocations": [{"invoice": second.pk, "amount": "10.00"}]}, format="json")
        assert by_hand.status_code == 200 and by_hand.json()["unapplied"] == "90.00"
        auto = client.post(url, {"auto": True}, format="json")
        assert auto.json()["unapplied"] == "0.00"
        first.refresh_from_db()
        assert first.status == "paid"

    def test_allocate_needs_one_of_allocations_or_auto(self, token_client, clerk, customer):
        payment = pay(clerk, customer, "100.00", allocations=[])
        response = token_client(clerk).post(f"{PAYMENTS}{payment.pk}/allocate/", {}, format="json")
        assert response.status_code == 400

    def test_a_stale_if_match_is_a_412(self, token_client, clerk, customer, issue):
        payment = pay(clerk, customer, "100.00", allocations=[])
        invoice = issue("50.00")
        client = token_client(clerk)
        etag = client.get(f"{PAYMENTS}{payment.pk}/")["ETag"]
        ok = client.post(
            f"{PAYMENTS}{payment.pk}/allocate/",
            {"allocations": [{"invoice": invoice.pk, "amount": "10.00"}]},
            format="json",
            HTTP_IF_MATCH=etag,
        )
        assert ok.status_code == 200
        stale = client.post(
            f"{PAYMENTS}{payment.pk}/allocate/",
            {"allocations": [{"invoice": invoice.pk, "amount": "10.00"}]},
            format="json",
            HTTP_IF_MATCH=etag,
        )
        assert stale.status_code == 412 and stale.json()["error"]["code"] == "precondition_failed"
        assert Allocation.objects.count() == 1

    def test_more_than_is_unapplied_is_a_400(self, token_client, clerk, customer, issue):
        payment = pay(clerk, customer, "10.00", allocations=[])
        invoice = issue("50.00")
        response = token_client(clerk).post(
            f"{PAYMENTS}{payment.pk}/allocate/",
            {"allocations": [{"invoice": invoice.pk, "amount": "20.00"}]},
            format="json",
        )
        assert response.status_code == 400 and "left to allocate" in response.json()["error"]["fields"]["amount"][0]

    def test_unallocate_both_ways_and_twice_is_a_409(self, token_client, clerk, customer, issue):
        issue("50.00"), issue("50.00")
        payment = pay(clerk, customer, "100.00")
        first, second = payment.allocations.order_by("pk")
        client = token_client(clerk)
        one = client.post(f"{PAYMENTS}{payment.pk}/unallocate/", {"allocation": first.pk}, format="json")
        assert one.status_code == 200 and one.json()["unapplied"] == "50.00"
        two = client.post(f"{ALLOCATIONS}{second.pk}/unallocate/", format="json")
        assert two.status_code == 200 and two.json()["is_live"] is False
        again = client.post(f"{ALLOCATIONS}{second.pk}/unallocate/", format="json")
        assert again.status_code == 409
        unknown = client.post(f"{PAYMENTS}{payment.pk}/unallocate/", {"allocation": 10**9}, format="json")
        assert unknown.status_code == 400

    def test_void_then_again_is_a_409(self, token_client, clerk, customer, issue):
        invoice = issue("50.00")
        payment = pay(clerk, customer, "50.00")
        client = token_client(clerk)
        assert client.post(f"{PAYMENTS}{payment.pk}/void/", {}, format="json").status_code == 400
        voided = client.post(f"{PAYMENTS}{payment.pk}/void/", {"reason": "Bounced"}, format="json")
        assert voided.status_code == 200 and voided.json()["status"] == "void"
        invoice.refresh_from_db()
        assert invoice.balance_due == D("50.00")
        again = client.post(f"{PAYMENTS}{payment.pk}/void/", {"reason": "Again"}, format="json")
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

    def test_allocating_from_a_void_payment_is_a_409(self, token_client, clerk, customer, issue):
        payment = pay(clerk, customer, "50.00", allocations=[])
        services.void_payment(payment=payment, by=clerk, reason="Bounced")
        response = token_client(clerk).post(f"{PAYMENTS}{payment.pk}/allocate/", {"auto": True}, format="json")
        assert response.status_code == 409

    def test_a_rep_may_not_operate_on_their_customers_payment(self, token_client, clerk, rep, customer):
        payment = pay(clerk, customer, "50.00")
        client = token_client(rep)
        assert client.post(f"{PAYMENTS}{payment.pk}/void/", {"reason": "x"}, format="json").status_code == 403
        assert client.post(f"{PAYMENTS}{payment.pk}/allocate/", {"auto": True}, format="json").status_code == 403
