"""A customer's fields are declared once (crm.fields.CUSTOMER_FIELD_ORDER); the API, the CSV
export, the admin and the form list exactly those."""

import csv
import io

import pytest
from django.contrib.admin.sites import site
from django.urls import reverse

from crm.api.customers import CustomerSerializer
from crm.fields import CUSTOMER_FIELD_ORDER
from crm.forms import CustomerForm
from crm.models import Customer
from tests.factories import CustomerFactory


def test_every_field_people_enter_is_declared_once():
    # Not the id, timestamps or version: nobody types those.
    model_fields = {f.name for f in Customer._meta.concrete_fields if f.editable and not f.primary_key}
    assert set(CUSTOMER_FIELD_ORDER) == model_fields
    assert len(CUSTOMER_FIELD_ORDER) == len(set(CUSTOMER_FIELD_ORDER))


def test_the_api_lists_the_declared_fields_in_order():
    fields = [name for name in CustomerSerializer.Meta.fields if name in set(CUSTOMER_FIELD_ORDER)]
    assert fields == list(CUSTOMER_FIELD_ORDER)


def test_the_form_offers_the_declared_fields():
    assert set(CustomerForm._meta.fields) == set(CUSTOMER_FIELD_ORDER)


def test_the_admin_shows_the_declared_fields(rf, admin_user):
    request = rf.get("/admin/crm/customer/add/")
    request.user = admin_user
    admin = site._registry[Customer]
    shown = set()
    for _, options in admin.get_fieldsets(request):
        for entry in options["fields"]:
            shown.update(entry if isinstance(entry, tuple | list) else [entry])
    assert shown >= set(CUSTOMER_FIELD_ORDER)


@pytest.mark.django_db
def test_the_csv_export_has_a_column_per_declared_field_in_order(client, rep):
    customer = CustomerFactory(owner=rep, legal_name="Acme Legal GmbH")
    client.force_login(rep)
    response = client.get(reverse("crm:customer_list"), {"_export": "csv"})
    header, row = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))[:2]
    assert len(header) == len(CUSTOMER_FIELD_ORDER) + 1  # + Updated
    assert header[-1] == "Updated"
    values = dict(zip(header, row, strict=True))
    assert values["Legal name"] == "Acme Legal GmbH"
    assert values["Owner"] == rep.username
    assert values["Tax ID"] == customer.tax_id
