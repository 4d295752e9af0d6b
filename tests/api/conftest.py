"""Fixtures for the REST API tests: clients acting as each actor through a token."""

import pytest

from tests.factories import ContactFactory, CustomerFactory


@pytest.fixture
def as_actor(actors, token_client):
    """as_actor("clerk") → an APIClient sending a write token of that actor."""

    def make(name, scope="write"):
        return token_client(actors[name], scope=scope)

    return make


@pytest.fixture
def others_customer(other_rep):
    """A customer owned by `other_rep`, not by `rep`."""
    return CustomerFactory(owner=other_rep, name="Globex Corporation")


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="Jane Doe", is_primary=True)
