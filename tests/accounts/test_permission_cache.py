"""Each user's permissions and roles are cached, and the cache never outlives a change.

A warm request reads neither the session nor the permissions from the database; a
change of a user's groups or permissions, of a group's permissions, or a deleted
group or permission, shows on the very next request.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.roles import FINANCE_MANAGER, ROLES, SALES_MANAGER, SALES_REP
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("crm:customer_list")
ACCESS_TABLES = ("django_session", "auth_permission", "auth_group")


def fresh(user) -> User:
    """The user as the next request loads it (no per-object caches)."""
    return User.objects.get(pk=user.pk)


def access_queries(queries) -> list[str]:
    """Queries reading sessions, permissions or groups (not e.g. users filtered by group)."""
    return [q["sql"] for q in queries if any(f'FROM "{table}"' in q["sql"] for table in ACCESS_TABLES)]


@pytest.fixture
def signed_in_outsider(client):
    user = UserFactory(username="newcomer")
    client.force_login(user)
    return client, user


class TestWarmRequests:
    # Warm: the user row, the owner choices of the filter bar, the page of customers.
    WARM_LIST_QUERIES = 3

    def test_a_warm_request_reads_no_session_permission_or_role(self, client, rep):
        CustomerFactory.create_batch(3, owner=rep)
        client.force_login(rep)
        client.get(LIST_URL)  # cold: fills the caches
        with CaptureQueriesContext(connection) as warm:
            response = client.get(LIST_URL)
        assert response.status_code == 200
        assert SALES_REP in response.text  # the role shown in the user menu, without a query
        assert access_queries(warm.captured_queries) == []

    def test_the_warm_list_page_costs_a_pinned_number_of_queries(self, client, rep, django_assert_num_queries):
        CustomerFactory.create_batch(3, owner=rep)
        client.force_login(rep)
        client.get(LIST_URL)
        with django_assert_num_queries(self.WARM_LIST_QUERIES):
            assert client.get(LIST_URL).status_code == 200

    def test_a_cold_request_reads_permissions_and_roles_once(self, client, rep):
        client.force_login(rep)
        with CaptureQueriesContext(connection) as cold:
            client.get(LIST_URL)
        # the user's own permissions, its groups' permissions, its groups: once each
        assert len(access_queries(cold.captured_queries)) == 3

    def test_the_cached_answers_are_modelbackends(self, rep, finance_manager, admin_user):
        from django.contrib.auth.backends import ModelBackend

        for user in (rep, finance_manager, admin_user):
            fresh(user).get_all_permissions()  # fills the cache
            cached = fresh(user)
            assert cached.get_all_permissions() == ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
            held = set(Group.objects.filter(user=user).values_list("name", flat=True))
            assert cached.role_names == [role for role in ROLES if role in held]


class TestInvalidation:
    def test_granting_a_role_shows_on_the_next_request(self, signed_in_outsider):
        client, user = signed_in_outsider
        assert client.get(LIST_URL).status_code == 403
        user.groups.add(Group.objects.get(name=SALES_REP))
        response = client.get(LIST_URL)
        assert response.status_code == 200
        assert SALES_REP in response.text

    def test_a_role_granted_from_the_group_side_shows_on_the_next_request(self, signed_in_outsider):
        client, user = signed_in_outsider
        assert client.get(LIST_URL).status_code == 403
        Group.objects.get(name=SALES_REP).user_set.add(user)
        assert client.get(LIST_URL).status_code == 200

    def test_removing_a_role_shows_on_the_next_request(self, client, rep):
        client.force_login(rep)
        assert client.get(LIST_URL).status_code == 200
        rep.groups.remove(Group.objects.get(name=SALES_REP))
        assert client.get(LIST_URL).status_code == 403

    def test_clearing_a_groups_members_shows_on_the_next_request(self, client, rep):
        client.force_login(rep)
        assert client.get(LIST_URL).status_code == 200
        Group.objects.get(name=SALES_REP).user_set.clear()
        assert client.get(LIST_URL).status_code == 403

    def test_a_permission_given_to_a_role_reaches_its_members(self, rep):
        assert not fresh(rep).has_perm("crm.change_customer_credit_limit")
        permission = Permission.objects.get(codename="change_customer_credit_limit")
        Group.objects.get(name=SALES_REP).permissions.add(permission)
        assert fresh(rep).has_perm("crm.change_customer_credit_limit")

    def test_a_permission_given_from_the_permission_side_reaches_the_roles_members(self, rep):
        permission = Permission.objects.get(codename="change_customer_credit_limit")
        assert not fresh(rep).has_perm("crm.change_customer_credit_limit")
        permission.group_set.add(Group.objects.get(name=SALES_REP))
        assert fresh(rep).has_perm("crm.change_customer_credit_limit")

    def test_a_permission_taken_from_a_role_leaves_its_members(self, finance_manager):
        assert fresh(finance_manager).has_perm("crm.change_customer_credit_limit")
        permission = Permission.objects.get(codename="change_customer_credit_limit")
        Group.objects.get(name=FINANCE_MANAGER).permissions.remove(permission)
        assert not fresh(finance_manager).has_perm("crm.change_customer_credit_limit")

    def test_a_users_own_permission_shows_at_once(self, rep):
        assert not fresh(rep).has_perm("crm.change_customer_credit_limit")
        rep.user_permissions.add(Permission.objects.get(codename="change_customer_credit_limit"))
        assert fresh(rep).has_perm("crm.change_customer_credit_limit")

    def test_a_deleted_role_leaves_its_members(self, sales_manager):
        assert fresh(sales_manager).has_perm("crm.view_customer")
        assert fresh(sales_manager).role_names == [SALES_MANAGER]
        Group.objects.get(name=SALES_MANAGER).delete()
        assert not fresh(sales_manager).has_perm("crm.view_customer")
        assert fresh(sales_manager).role_names == []

    def test_a_deleted_permission_leaves_everyone_holding_it(self, rep):
        assert fresh(rep).has_perm("crm.view_customer")
        Permission.objects.get(codename="view_customer").delete()
        assert not fresh(rep).has_perm("crm.view_customer")

    def test_deactivating_a_user_takes_their_permissions(self, rep):
        assert fresh(rep).get_all_permissions()
        rep.is_active = False
        rep.save()
        assert fresh(rep).get_all_permissions() == set()

    def test_making_a_user_superuser_gives_every_permission(self, rep):
        assert not fresh(rep).has_perm("crm.delete_customer")
        rep.is_superuser = True
        rep.save()
        assert "crm.delete_customer" in fresh(rep).get_all_permissions()


def test_api_tokens_use_the_cache_too(rep, token_client):
    client = token_client(rep, scope="read")
    client.get("/api/v1/customers/")
    with CaptureQueriesContext(connection) as warm:
        assert client.get("/api/v1/customers/").status_code == 200
    assert access_queries(warm.captured_queries) == []
