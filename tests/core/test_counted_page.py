"""core.tables.counted_page: a page and the number of rows in one query, with
Paginator.get_page's leniency (junk or below 1 is page 1, past the end is the last
page, read with two more queries)."""

import pytest
from django.core.paginator import Paginator
from django.db.models import Count

from core.tables import counted_page
from crm.models import Contact
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def grouped():
    """Contacts counted per customer: an aggregate, one row per customer (7 of them)."""
    for n in range(7):
        customer = CustomerFactory(name=f"Customer {n}")
        ContactFactory.create_batch(n % 3 + 1, customer=customer)
    return Contact.objects.order_by().values("customer_id").annotate(n=Count("pk")).order_by("-n", "customer_id")


@pytest.mark.parametrize("number", [1, 2, 3, "2", "junk", None, 0, -4, 4, 99, "9" * 40])
def test_the_same_page_as_django_paginator_in_one_query(grouped, number, django_assert_max_num_queries):
    below_one = str(number).lstrip("-").isdigit() and int(number) < 1
    expected = Paginator(grouped, 3).get_page(1 if below_one else number)
    past_the_end = str(number).isdigit() and int(number) > 3
    with django_assert_max_num_queries(3 if past_the_end else 1):
        page = counted_page(grouped, number, 3)
    assert page.number == expected.number
    assert page.paginator.count == 7 and page.paginator.num_pages == 3
    assert [row["customer_id"] for row in page.object_list] == [row["customer_id"] for row in expected.object_list]
    assert page.has_next() == expected.has_next() and page.has_previous() == expected.has_previous()


@pytest.mark.parametrize(("number", "queries"), [(1, 1), ("5", 2)])
def test_an_empty_list_is_one_empty_page(grouped, number, queries, django_assert_num_queries):
    with django_assert_num_queries(queries):
        page = counted_page(grouped.filter(customer__name="nobody"), number, 3)
    assert (page.number, page.paginator.count, list(page.object_list)) == (1, 0, [])
