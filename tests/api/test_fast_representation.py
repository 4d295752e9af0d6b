"""The fast serializing path must give exactly what DRF's own path gives."""

from decimal import Decimal

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from crm.api.customers import ContactSerializer, CustomerDetailSerializer, CustomerSerializer
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("credit_limit", [Decimal("1234.50"), None])
def test_customers_serialize_as_drf_would(credit_limit):
    customer = CustomerFactory(credit_limit=credit_limit)
    ContactFactory(customer=customer, is_primary=True)
    context = {"request": APIRequestFactory().get("/api/v1/customers/")}
    for serializer_class in (CustomerSerializer, CustomerDetailSerializer):
        serializer = serializer_class(customer, context=context)
        assert serializer.data == serializers.ModelSerializer.to_representation(serializer, customer)


def test_contacts_serialize_as_drf_would():
    contact = ContactFactory()
    serializer = ContactSerializer(contact, context={"request": APIRequestFactory().get("/api/v1/contacts/")})
    assert serializer.data == serializers.ModelSerializer.to_representation(serializer, contact)


def test_each_row_gets_its_own_url_in_a_list():
    customers = CustomerFactory.create_batch(3)
    request = APIRequestFactory().get("/api/v1/customers/")
    data = CustomerSerializer(customers, many=True, context={"request": request}).data
    assert [row["url"] for row in data] == [f"http://testserver/api/v1/customers/{c.pk}/" for c in customers]
