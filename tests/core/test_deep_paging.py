"""Deep pages of a list are read by id first (core.tables.deep_paging): the same rows
in the same order as a plain OFFSET, whatever the sort, filter or annotation."""

from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from core import tables
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def shown(client, **params) -> list[int]:
    response = client.get(f"{reverse('crm:customer_list')}?{urlencode(params)}")
    assert response.status_code == 200
    return [row.record.pk for row in response.context["table"].page.object_list]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sort": "-credit_limit"},  # an annotation (no limit sorts highest)
        {"sort": "primary_contact"},  # a subquery annotation
        {"sort": "owner", "status": "active"},  # a join, and a filter
        {"q": "corp", "sort": "-name"},
    ],
)
def test_deep_pages_show_what_a_plain_offset_shows(signed_in, rep, monkeypatch, params):
    for n in range(14):
        customer = CustomerFactory(
            owner=rep,
            name=f"Corp {n % 5} {n}",
            status="active" if n % 3 else "prospect",
            credit_limit=None if n % 4 == 0 else Decimal(1000 * (n % 6)),
        )
        if n % 2:
            ContactFactory(customer=customer, is_primary=True, name=f"Person {13 - n}")
    client = signed_in("rep")
    plain = [shown(client, per_page=3, page=page, **params) for page in (1, 2, 3, 4)]
    monkeypatch.setattr(tables, "DEEP_OFFSET", 0)  # every page by id first
    assert [shown(client, per_page=3, page=page, **params) for page in (1, 2, 3, 4)] == plain
    assert len(set(plain[0] + plain[1])) == 6  # two full, different pages


def test_a_deep_page_is_one_query_by_id(rep, monkeypatch, django_assert_num_queries):
    from crm.models import Customer

    CustomerFactory.create_batch(5, owner=rep)
    monkeypatch.setattr(tables, "DEEP_OFFSET", 2)
    customers = tables.deep_paging(Customer.objects.select_related("owner").order_by("name", "id"))
    with django_assert_num_queries(1) as queries:
        page = list(customers[2:4])
    assert "IN (SELECT" in queries.captured_queries[0]["sql"]
    assert page == list(Customer.objects.order_by("name", "id")[2:4])
