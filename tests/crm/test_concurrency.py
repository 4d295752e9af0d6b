"""Two people saving the same tax id at the same moment: one wins, the other is told why."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from crm.models import Customer
from crm.services import create_customer

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
