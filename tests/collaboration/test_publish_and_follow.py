"""publish, roll-up, tracked changes and follows: the services other apps call."""

from decimal import Decimal

import pytest

import collaboration
from collaboration import registry
from collaboration.models import FeedItem, Follow, InboxEntry
from collaboration.selectors import my_feed, record_feed
from collaboration.services import unfollow
from crm import services as crm
from crm.models import Contact
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_an_event_shows_on_its_record_and_in_its_followers_feed(rep, clerk, customer):
    collaboration.follow(clerk, customer)
    item = collaboration.publish(customer, "customer.checked", actor=rep, data={"amount": Decimal("4200.00")})
    assert item.kind == FeedItem.Kind.EVENT
    assert item.data == {"amount": "4200.00"}
    assert list(record_feed(clerk, customer)) == [item]
    assert item in my_feed(clerk)


def test_an_item_on_a_child_record_rolls_up_to_the_records_named_in_also_on(rep, customer):
    other = CustomerFactory(owner=rep)
    item = collaboration.publish(other, "invoice.issued", actor=rep, also_on=[customer])
    assert item in record_feed(rep, customer)
    assert item in record_feed(rep, other)


def test_feed_parents_roll_items_up_without_being_named(rep, customer, monkeypatch):
    contact = ContactFactory(customer=customer)
    monkeypatch.setattr(type(contact), "feed_parents", ("customer",), raising=False)
    monkeypatch.setitem(
        registry._records, "crm.contact", registry.RecordType(Contact, Contact.objects.visible_to, "contact")
    )
    item = collaboration.publish(contact, "contact.called", actor=rep)
    assert item in record_feed(rep, customer)


def test_a_change_through_the_service_becomes_a_readable_change_item(rep, finance_manager, customer):
    crm.update_customer(customer=customer, by=finance_manager, data={"credit_limit": Decimal("5000"), "phone": "+1"})
    item = record_feed(rep, customer).first()
    assert item.kind == FeedItem.Kind.CHANGE
    (change,) = item.data["changes"]
    assert change["field"] == "credit_limit"
    assert change["new"] == "5000.00"
    assert change["type"] == "money"


def test_reassigning_a_customer_names_both_owners_and_the_new_owner_follows(rep, other_rep, sales_manager, customer):
    crm.update_customer(customer=customer, by=sales_manager, data={"owner": other_rep})
    change = record_feed(rep, customer).first().data["changes"][0]
    assert (change["old"], change["new"]) == (str(rep), str(other_rep))
    assert Follow.objects.filter(user=other_rep, target_id=customer.pk).exists()


def test_following_brings_the_records_latest_items_and_unfollowing_takes_them_away(rep, clerk, customer):
    item = collaboration.publish(customer, "customer.checked", actor=rep)
    assert collaboration.follow(clerk, customer) is True
    assert collaboration.follow(clerk, customer) is False
    assert item in my_feed(clerk)
    assert unfollow(clerk, customer) is True
    assert item not in my_feed(clerk)
    assert not InboxEntry.objects.filter(user=clerk).exists()


def test_unfollowing_one_record_keeps_items_that_show_on_another_followed_one(rep, clerk, customer):
    other = CustomerFactory(owner=rep)
    collaboration.follow(clerk, customer)
    collaboration.follow(clerk, other)
    item = collaboration.publish(other, "invoice.issued", actor=rep, also_on=[customer])
    unfollow(clerk, customer)
    assert item in my_feed(clerk)


def test_following_a_person_follows_what_they_do(rep, clerk, customer):
    collaboration.follow(clerk, rep)
    item = collaboration.publish(customer, "customer.checked", actor=rep)
    assert item in my_feed(clerk)


def test_whoever_creates_or_owns_a_customer_follows_it(rep, clerk):
    customer = crm.create_customer(by=rep, data={"name": "Acme", "currency": "EUR"})
    assert Follow.objects.filter(user=rep, target_id=customer.pk).count() == 1
    assert record_feed(rep, customer).first().verb == "customer.created"


def test_deleting_a_customer_takes_its_feed_and_follows_with_it(rep, admin_user, clerk):
    customer = crm.create_customer(by=rep, data={"name": "Typo Ltd", "currency": "EUR"})
    collaboration.follow(clerk, customer)
    crm.delete_customer(customer=customer, by=admin_user)
    assert not FeedItem.objects.exists()
    assert not Follow.objects.exists()
    assert not my_feed(clerk).exists()
