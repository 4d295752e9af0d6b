"""Contacts: who may keep them, and the one primary contact per customer."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from crm.models import Contact
from crm.services import create_contact, delete_contact, update_contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_the_first_contact_is_the_primary_one(rep, customer):
    contact = create_contact(customer=customer, by=rep, data={"name": "Jane Doe", "email": "jane@acme.example"})
    assert contact.is_primary


def test_naming_a_new_primary_contact_demotes_the_old_one(rep, customer):
    first = create_contact(customer=customer, by=rep, data={"name": "Jane", "phone": "+49 1"})
    second = create_contact(customer=customer, by=rep, data={"name": "John", "phone": "+49 2", "is_primary": True})
    first.refresh_from_db()
    assert second.is_primary and not first.is_primary
    update_contact(contact=first, by=rep, data={"is_primary": True})
    assert list(customer.contacts.filter(is_primary=True)) == [first]


def test_the_database_allows_only_one_primary_contact(customer):
    ContactFactory(customer=customer, is_primary=True)
    with pytest.raises(IntegrityError):
        ContactFactory(customer=customer, is_primary=True)


def test_a_contact_needs_a_name_and_a_valid_email(rep, customer):
    with pytest.raises(ValidationError) as caught:
        create_contact(customer=customer, by=rep, data={"name": "", "email": "nope"})
    assert set(caught.value.message_dict) == {"name", "email"}
    assert not Contact.objects.exists()


@pytest.mark.parametrize("actor", ["rep", "sales_manager", "clerk", "finance_manager"])
def test_those_who_may_edit_the_customer_keep_its_contacts(actors, customer, actor):
    contact = create_contact(customer=customer, by=actors[actor], data={"name": "Jane", "phone": "+49 1"})
    update_contact(contact=contact, by=actors[actor], data={"job_title": "CFO"})
    delete_contact(contact=contact, by=actors[actor])
    assert not customer.contacts.exists()


@pytest.mark.parametrize("actor", ["other_rep", "outsider"])
def test_others_may_not_touch_the_contacts(actors, customer, actor):
    contact = ContactFactory(customer=customer)
    with pytest.raises(PermissionDenied):
        create_contact(customer=customer, by=actors[actor], data={"name": "Intruder"})
    with pytest.raises(PermissionDenied):
        update_contact(contact=contact, by=actors[actor], data={"name": "Changed"})
    with pytest.raises(PermissionDenied):
        delete_contact(contact=contact, by=actors[actor])
    contact.refresh_from_db()
    assert contact.name != "Changed"
