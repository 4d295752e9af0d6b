"""Two people saving at the same moment (the same tax id, or over the same version):
one wins, the other is told why."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from core.concurrency import StaleVersion
from crm.models import Customer
from crm.services import create_customer, update_customer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL (CI runs it there)")


def test_racing_duplicate_tax_ids_give_one_customer_and_one_field_error(rep, other_rep):
    barrier = threading.Barrier(2)
    outcomes = []

    def create(user, name):
        try:
            barrier.wait()
            create_customer(by=user, data={"name": name, "tax_id": "DE999888777"})
            outcomes.append("created")
        except ValidationError as error:
            outcomes.append(error.message_dict)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=create, args=(user, name)) for user, name in [(rep, "First"), (other_rep, "Second")]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes, key=str) == sorted(
        ["created", {"tax_id": ["A customer with this tax ID already exists."]}], key=str
    )
    assert Customer.objects.filter(tax_id="DE999888777").count() == 1


def test_two_saves_from_the_same_version_give_one_change_and_one_stale_version(rep, sales_manager, customer):
    """The version is checked and bumped under the row lock: of two people who
    opened version 1, exactly one saves; the other is told, and overwrites nothing."""
    barrier = threading.Barrier(2)
    outcomes = []

    def save(user, phone):
        try:
            barrier.wait()
            update_customer(customer=customer, by=user, data={"phone": phone}, expected_version=1)
            outcomes.append(phone)
        except StaleVersion:
            outcomes.append("stale")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=args) for args in [(rep, "+1 111"), (sales_manager, "+2 222")]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes)[-1] == "stale" and len(outcomes) == 2 and outcomes.count("stale") == 1
    customer.refresh_from_db()
    assert customer.version == 2
    assert customer.phone == next(outcome for outcome in outcomes if outcome != "stale")
