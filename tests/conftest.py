"""Actors and shared fixtures. Each actor is a user holding one Concord role."""

import pytest
from rest_framework.test import APIClient

from accounts.roles import ADMIN, FINANCE_CLERK, FINANCE_MANAGER, SALES_MANAGER, SALES_REP
from accounts.services import create_api_token
from tests.factories import CustomerFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def rep(db):
    return UserFactory(username="rep", first_name="Rita", last_name="Rep", role=SALES_REP)


@pytest.fixture
def other_rep(db):
    return UserFactory(username="rep2", first_name="Otto", last_name="Other", role=SALES_REP)


@pytest.fixture
def sales_manager(db):
    return UserFactory(username="salesmanager", first_name="Sam", last_name="Manager", role=SALES_MANAGER)


@pytest.fixture
def clerk(db):
    return UserFactory(username="clerk", first_name="Clara", last_name="Clerk", role=FINANCE_CLERK)


@pytest.fixture
def finance_manager(db):
    return UserFactory(username="financemanager", first_name="Fiona", last_name="Finance", role=FINANCE_MANAGER)


@pytest.fixture
def admin_user(db):
    user = UserFactory(username="admin", first_name="Ada", last_name="Admin", role=ADMIN)
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def outsider(db):
    """Signed in, but holding no role."""
    return UserFactory(username="outsider")


@pytest.fixture
def actors(rep, other_rep, sales_manager, clerk, finance_manager, admin_user, outsider):
    return {
        "rep": rep, "other_rep": other_rep, "sales_manager": sales_manager, "clerk": clerk,
        "finance_manager": finance_manager, "admin": admin_user, "outsider": outsider,
    }


@pytest.fixture
def customer(rep):
    """A customer owned by `rep`."""
    return CustomerFactory(owner=rep, name="Acme Industries GmbH")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def token_client():
    """APIClient authenticated with a fresh token: token_client(user, scope="write")."""

    def make(user, scope="write"):
        _, key = create_api_token(user=user, name="test", scope=scope)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make
