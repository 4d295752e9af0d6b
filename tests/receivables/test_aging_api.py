"""GET /api/v1/aging/: totals per currency with unapplied credit apart, rows per customer
(paginated), the page's filters, who sees what, bad input as 400 and a pinned query count."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from receivables import services
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = reverse("api:aging-list")
AS_OF = "2026-06-30"


@pytest.fixture
def book(issue, clerk, customer, other_rep):
    issue("100.00", on=date(2026, 6, 15))
    issue("500.00", on=date(2026, 2, 1))
    data = {"received_on": date(2026, 6, 1), "amount": "30.00", "method": "bank_transfer"}
    services.record_payment(customer=customer, by=clerk, data=data, allocations=[])
    globex = CustomerFactory(name="Globex Corp", currency="USD", owner=other_rep)
    issue("250.00", on=date(2026, 4, 20), who=globex)
    return globex


def test_the_book_as_of_a_day(token_client, clerk, book, customer):
    body = token_client(clerk, "read").get(URL, {"as_of": AS_OF}).json()
    assert body["as_of"] == AS_OF
    assert [b["key"] for b in body["buckets"]] == ["current", "days_1_30", "days_31_60", "days_61_90", "over_90"]
    eur, usd = body["totals"]
    assert (eur["currency"], eur["current"], eur["over_90"], eur["total"], eur["unapplied"]) == (
        "EUR",
        "100.00",
        "500.00",
        "600.00",
        "30.00",
    )
    assert (usd["currency"], usd["days_31_60"], usd["total"], usd["unapplied"]) == ("USD", "250.00", "250.00", "0.00")
    assert body["count"] == 2
    acme = body["results"][0]
    assert (acme["customer"], acme["customer_name"], acme["total"], acme["unapplied"]) == (
        customer.pk,
        "Acme Industries GmbH",
        "600.00",
        "30.00",
    )


def test_a_rep_gets_their_own_customers_only(token_client, rep, book):
    body = token_client(rep, "read").get(URL, {"as_of": AS_OF}).json()
    assert [row["customer_name"] for row in body["results"]] == ["Acme Industries GmbH"]
    assert [row["currency"] for row in body["totals"]] == ["EUR"]


def test_owner_and_customer_filters(token_client, sales_manager, book, other_rep, customer):
    client = token_client(sales_manager, "read")
    by_owner = client.get(URL, {"as_of": AS_OF, "owner": other_rep.pk}).json()
    assert [row["customer_name"] for row in by_owner["results"]] == ["Globex Corp"]
    by_customer = client.get(URL, {"as_of": AS_OF, "customer": customer.pk}).json()
    assert [row["currency"] for row in by_customer["totals"]] == ["EUR"]


def test_rows_are_paginated(token_client, clerk, book):
    body = token_client(clerk, "read").get(URL, {"as_of": AS_OF, "page_size": 1}).json()
    assert len(body["results"]) == 1 and body["next"] and body["count"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"owner": "nobody"}, "owner"),
        ({"owner": "9" * 40}, "owner"),
        ({"customer": "9" * 40}, "customer"),
        ({"as_of": "2026-01-01\x00"}, "as_of"),
        ({"customer": "-1"}, "customer"),
        ({"page": "x"}, "page"),
        ({"page": ""}, "page"),
        ({"as_of": ""}, "as_of"),
        ({"page_size": "5000"}, "page_size"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(token_client, clerk, params, field):
    response = token_client(clerk, "read").get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_future_day_is_a_400(token_client, clerk):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = token_client(clerk, "read").get(URL, {"as_of": tomorrow})
    assert response.status_code == 400 and "up to today" in response.json()["error"]["fields"]["as_of"][0]


def test_a_page_past_the_end_is_a_404(token_client, clerk):
    assert token_client(clerk, "read").get(URL, {"page": "7"}).status_code == 404


def test_who_reads_no_receivables_gets_403(token_client, outsider, api_client):
    assert token_client(outsider, "read").get(URL).status_code == 403
    assert api_client.get(URL).status_code == 401


def test_the_query_count_does_not_grow_with_the_customers(token_client, clerk, issue, django_assert_num_queries):
    client = token_client(clerk, "read")
    issue("10.00", on=date(2026, 6, 1))
    client.get(URL)
    with django_assert_num_queries(6) as few:  # token, count, rows, their credit, totals, total credit
        client.get(URL)
    for _ in range(15):
        issue("10.00", on=date(2026, 6, 1), who=CustomerFactory())
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(URL).json()["count"] == 16


def test_a_rep_asking_for_an_owner_is_told_so(token_client, rep):
    response = token_client(rep).get("/api/v1/aging/", {"owner": "null"})
    assert response.status_code == 400
    assert "owner" in response.json()["error"]["fields"]


def test_an_empty_day_is_a_400_not_today(token_client, finance_manager):
    assert token_client(finance_manager).get("/api/v1/aging/", {"as_of": ""}).status_code == 400
    assert token_client(finance_manager).get("/api/v1/aging/").status_code == 200


def test_options_on_the_statement_send_describe_it(token_client, finance_manager, customer):
    response = token_client(finance_manager).options(f"/api/v1/customers/{customer.pk}/statement/send/")
    assert response.status_code == 200
