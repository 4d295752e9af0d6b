"""API tokens at work: scopes, both header keywords, unknown and revoked keys."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import create_api_token, revoke_api_token

from .helpers import customer_url, error_of

pytestmark = pytest.mark.django_db


def client_with(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


class TestScopes:
    def test_a_read_token_reads(self, as_actor, customer):
        client = as_actor("finance_manager", scope="read")
        assert client.get(customer_url()).status_code == 200
        assert client.get(customer_url(customer)).status_code == 200

    @pytest.mark.parametrize(
        ("method", "detail", "data"),
        [
            ("post", False, {"name": "Initech"}),
            ("patch", True, {"phone": "1"}),
            ("put", True, {"name": "X"}),
            ("delete", True, None),
        ],
    )
    def test_a_read_token_cannot_write(self, as_actor, customer, method, detail, data):
        client = as_actor("admin", scope="read")  # even an admin's read token
        url = customer_url(customer) if detail else customer_url()

        response = getattr(client, method)(url, data)

        assert response.status_code == 403
        error = error_of(response)
        assert error["code"] == "permission_denied"
        assert "read-only" in error["message"]
        customer.refresh_from_db()
        assert customer.phone != "1"

    def test_a_write_token_writes(self, as_actor, customer):
        client = as_actor("rep", scope="write")
        assert client.patch(customer_url(customer), {"phone": "+49 1"}).status_code == 200
        assert client.post(customer_url(), {"name": "Initech"}).status_code == 201

    def test_a_token_acts_with_its_owners_permissions(self, as_actor, customer):
        """A write token does not lift its user's limits."""
        assert as_actor("clerk", scope="write").patch(customer_url(customer), {"name": "X"}).status_code == 403


class TestHeaders:
    def test_bearer_works_like_token(self, rep, customer):
        _, key = create_api_token(user=rep, name="sync")
        assert client_with(f"Bearer {key}").get(customer_url()).status_code == 200
        assert client_with(f"Token {key}").get(customer_url()).status_code == 200

    @pytest.mark.parametrize("header", ["Token cnc_not-a-real-key", "Bearer nope", "Token a b", "Token"])
    def test_an_unknown_or_malformed_token_is_a_401(self, header, customer):
        response = client_with(header).get(customer_url())
        assert response.status_code == 401
        assert error_of(response)["code"] == "authentication_failed"

    def test_a_revoked_token_is_a_401(self, rep, customer):
        token, key = create_api_token(user=rep, name="sync")
        client = client_with(f"Token {key}")
        assert client.get(customer_url()).status_code == 200

        revoke_api_token(token=token)

        response = client.get(customer_url())
        assert response.status_code == 401
        assert error_of(response) == {"code": "authentication_failed", "message": "Invalid or revoked token."}

    def test_a_token_of_an_inactive_user_is_a_401(self, rep, customer):
        _, key = create_api_token(user=rep, name="sync")
        rep.is_active = False
        rep.save()
        assert client_with(f"Token {key}").get(customer_url()).status_code == 401


class TestLastUsed:
    def test_using_a_token_records_when(self, rep, customer):
        token, key = create_api_token(user=rep, name="sync")
        assert token.last_used_at is None

        client_with(f"Token {key}").get(customer_url())

        token.refresh_from_db()
        assert timezone.now() - token.last_used_at < timedelta(seconds=30)

    def test_a_stale_last_used_is_brought_up_to_date(self, rep, customer):
        token, key = create_api_token(user=rep, name="sync")
        long_ago = timezone.now() - timedelta(days=3)
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)

        client_with(f"Token {key}").get(customer_url())

        token.refresh_from_db()
        assert token.last_used_at > long_ago + timedelta(days=2)
