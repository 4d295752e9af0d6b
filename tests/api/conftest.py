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


@pytest.fixture(autouse=True)
def _no_request_rates(request, settings):
    """No throttling in API tests, which make hundreds of requests as the same few
    users; tests/api/test_throttling.py sets its own rates."""
    if request.module.__name__.endswith("test_throttling"):
        return
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": None, "anon": None}}
