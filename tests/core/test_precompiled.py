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
    return Customer.objects.annotate(contact_count=Coalesce(Subquery(counted), Value(0))).values(
        "pk", "name", "contact_count"
    )


def test_the_rows_of_the_asked_for_keys_as_the_orm_reads_them(django_assert_num_queries):
    customers = [CustomerFactory(name=f"Customer {n}") for n in range(4)]
    for n, customer in enumerate(customers):
        ContactFactory.create_batch(n, customer=customer, name=f"Ann {n}")
        ContactFactory(customer=customer, name="Bob")
    read = Precompiled(contacts_per_customer("Ann"))
    asked = [customers[1].pk, customers[3].pk, 999_999]  # an unknown key is left out
    with django_assert_num_queries(1):
        rows = read.by_key(asked)
    expected = {row["pk"]: row for row in contacts_per_customer("Ann").filter(pk__in=asked)}
    assert rows == expected
    assert rows[customers[3].pk]["contact_count"] == 3  # the parameter ("Ann") is kept: Bob is not counted


def test_no_keys_no_query(django_assert_num_queries):
    read = Precompiled(contacts_per_customer("Ann"))
    with django_assert_num_queries(0):
        assert read.by_key([]) == {} and read.rows([]) == []


def test_a_key_is_a_parameter_never_sql():
    customer, _ = CustomerFactory(), CustomerFactory()
    read = Precompiled(contacts_per_customer("Ann"))
    try:
        with transaction.atomic():
            rows = read.by_key([f"{customer.pk}) OR (1=1"])
    except DatabaseError:  # PostgreSQL refuses text for an integer
        rows = {}
    assert rows == {}  # SQLite compares it as text: no row; never every row
    assert set(read.by_key([customer.pk])) == {customer.pk}


def test_the_primary_key_comes_first():
    with pytest.raises(ValueError, match="primary key first"):
        Precompiled(Customer.objects.values("name", "pk"))
    with pytest.raises(ValueError, match="a values"):
        Precompiled(Customer.objects.all())


def test_rows_picked_by_another_column_with_the_fields_converters():
    first, second = CustomerFactory(), CustomerFactory()
    ContactFactory.create_batch(2, customer=first)
    ContactFactory(customer=second)
    contacts = Contact.objects.values("pk", "customer_id", "name", "customer__created_at", "customer__credit_limit")
    read = Precompiled(contacts, key="customer_id")
    rows = read.rows([first.pk])
    assert sorted(row["pk"] for row in rows) == sorted(first.contacts.values_list("pk", flat=True))
    # The same values as the ORM's rows: datetimes and decimals converted on SQLite too.
    assert sorted(rows, key=lambda row: row["pk"]) == list(contacts.filter(customer=first).order_by("pk"))
    assert len(read.rows(None)) == Contact.objects.count()
    with pytest.raises(ValueError, match="not one of the selected columns"):
        Precompiled(contacts, key="email")
