"""A cached query result (core.cache) is shared by the same filters and never outlives a change."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.cache import bump_generation, cached_result
from core.money import format_money
from crm.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def money(amount) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", format_money(Decimal(amount), "EUR")).split())


def summary(client, **params) -> str:
    """The summary's text: "3 customers Credit granted: 150.00 EUR"."""
    response = client.get(reverse("crm:customer_list"), {"_part": "summary", **params}, headers=HTMX)
    assert response.status_code == 200
    return " ".join(re.sub(r"<[^>]+>", " ", response.text).split())


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def test_a_repeated_summary_is_served_from_the_cache(rep_client, rep, django_assert_num_queries):
    CustomerFactory.create_batch(3, owner=rep)
    first = summary(rep_client)
    with django_assert_num_queries(1):  # the user; no count, no sums
        assert summary(rep_client) == first


def test_each_filter_has_its_own_summary(rep_client, rep):
    CustomerFactory.create_batch(2, owner=rep, status=Customer.Status.ACTIVE)
    CustomerFactory(owner=rep, status=Customer.Status.PROSPECT)
    assert summary(rep_client).startswith("3 customers")
    assert summary(rep_client, status="prospect").startswith("1 customer match")
    assert summary(rep_client, status="active").startswith("2 customers match")


def test_a_new_customer_shows_in_the_next_summary(rep_client, rep):
    CustomerFactory(owner=rep, credit_limit=Decimal("100.00"))
    assert summary(rep_client) == f"1 customer Credit granted: {money(100)}"
    CustomerFactory(owner=rep, credit_limit=Decimal("50.00"))
    assert summary(rep_client) == f"2 customers Credit granted: {money(150)}"


def test_a_changed_credit_limit_shows_in_the_next_summary(rep_client, rep):
    customer = CustomerFactory(owner=rep, credit_limit=Decimal("100.00"))
    summary(rep_client)
    customer.credit_limit = Decimal("700.00")
    customer.save()
    assert summary(rep_client) == f"1 customer Credit granted: {money(700)}"


def test_a_deleted_customer_leaves_the_next_summary(rep_client, rep):
    keep, gone = CustomerFactory.create_batch(2, owner=rep)
    assert summary(rep_client).startswith("2 customers")
    gone.delete()
    assert summary(rep_client).startswith("1 customer ")


def test_writes_that_bypass_signals_bump_the_generation_themselves(rep):
    CustomerFactory.create_batch(2, owner=rep)
    queryset = Customer.objects.all()
    assert cached_result(queryset, "n", queryset.count) == 2
    Customer.objects.filter(pk=queryset[0].pk).delete()  # signals sent: bumped
    assert cached_result(queryset, "n", queryset.count) == 1
    Customer.objects.update(status=Customer.Status.INACTIVE)  # no signal
    with CaptureQueriesContext(connection) as queries:
        cached_result(Customer.objects.all(), "n", Customer.objects.count)
    assert len(queries) == 0  # stale until told
    bump_generation(Customer)
    with CaptureQueriesContext(connection) as queries:
        cached_result(Customer.objects.all(), "n", Customer.objects.count)
    assert len(queries) == 1


def test_an_empty_queryset_is_computed_not_cached():
    assert cached_result(Customer.objects.none(), "n", lambda: 0) == 0
