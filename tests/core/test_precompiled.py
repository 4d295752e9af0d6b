"""core.precompiled.Precompiled: a values() read compiled once, run for given primary
keys in one query each time, with the same rows the ORM gives."""

import pytest
from django.db import DatabaseError, transaction
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from core.precompiled import Precompiled
from crm.models import Contact, Customer
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def contacts_per_customer(name_prefix: str):
    """Customers with their number of contacts (a correlated subquery) and a parameter."""
    counted = (
        Contact.objects.filter(customer=OuterRef("pk"), name__startswith=name_prefix)
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Customer.objects.annotate(contact_count=Coalesce(Subquery(counted), Value(0))).values("pk", "name", "contact_count")


def test_the_rows_of_the_asked_for_keys_as_the_orm_reads_them(django_assert_num_queries):
    customers = [CustomerFactory(name=f"Customer {n}") for n in range(4)]
    for n, customer in enumerate(customers):
        ContactFactory.create_batch(n, customer=customer, name=f"Ann {n}")
        ContactFactory(customer=customer, name="Bob")
    read = Precompiled(contacts_per_customer("Ann"))
    asked = [customers[1].pk, customers[3].pk, 999_999]  # an unknown key is left out
    with django_assert_num_queries(1):
        rows = read.rows(asked)
    expected = {row["pk"]: row for row in contacts_per_customer("Ann").filter(pk__in=asked)}
    assert rows == expected
    assert rows[customers[3].pk]["contact_count"] == 3  # the parameter ("Ann") is kept: Bob is not counted


def test_no_keys_no_query(django_assert_num_queries):
    read = Precompiled(contacts_per_customer("Ann"))
    with django_assert_num_queries(0):
        assert read.rows([]) == {}


def test_a_key_is_a_parameter_never_sql():
    customer, _ = CustomerFactory(), CustomerFactory()
    read = Precompiled(contacts_per_customer("Ann"))
    try:
        with transaction.atomic():
            rows = read.rows([f"{customer.pk}) OR (1=1"])
    except DatabaseError:  # PostgreSQL refuses text for an integer
        rows = {}
    assert rows == {}  # SQLite compares it as text: no row; never every row
    assert set(read.rows([customer.pk])) == {customer.pk}


def test_the_primary_key_comes_first():
    with pytest.raises(ValueError, match="primary key first"):
        Precompiled(Customer.objects.values("name", "pk"))
    with pytest.raises(ValueError, match="primary key first"):
        Precompiled(Customer.objects.all())
