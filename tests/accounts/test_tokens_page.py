"""A person's own API tokens: created on a page (key shown once), revoked there, or made by command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import ApiToken
from accounts.services import create_api_token
from tests.html import parse


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def create(client, name="Accounting sync", scope="read"):
    return client.post(reverse("token_create"), {"name": name, "scope": scope})


def key_on(page: str) -> str:
    return parse(page).by_id("api-key").attrs["value"]


class TestTokenList:
    def test_lists_my_tokens_only_with_their_status(self, rep_client, rep, other_rep):
        create_api_token(user=rep, name="Accounting sync", scope="write")
        old, _ = create_api_token(user=rep, name="Old export")
        old.revoked_at = old.created_at
        old.save()
        create_api_token(user=other_rep, name="Someone else's key")

        page = rep_client.get(reverse("token_list")).content.decode()

        assert "Accounting sync" in page and "Read and write" in page
        assert "Old export" in page and "Revoked" in page
        assert "Someone else&#x27;s key" not in page and "Someone else's key" not in page
        assert page.count(">Revoke<") == 1  # only the active token can be revoked

    def test_says_so_when_there_are_none(self, rep_client):
        assert "You have no API tokens yet" in rep_client.get(reverse("token_list")).content.decode()


class TestCreateToken:
    def test_shows_the_key_once_and_the_key_authenticates_as_me(self, rep_client, rep):
        response = create(rep_client, scope="write")

        assert response.status_code == 200
        assert response["Cache-Control"].startswith("max-age=0")
        key = key_on(response.content.decode())
        token = ApiToken.objects.for_key(key).get()
        assert (token.user, token.name, token.scope) == (rep, "Accounting sync", "write")
        # Never again: the list shows only the prefix.
        list_page = rep_client.get(reverse("token_list")).content.decode()
        assert key not in list_page and f"{token.prefix}…" in list_page

    def test_an_empty_name_is_a_field_error_and_nothing_is_created(self, rep_client):
        response = create(rep_client, name="   ")
        assert response.status_code == 400
        assert "Give the key a name" in response.content.decode()
        assert not ApiToken.objects.exists()

    def test_an_unknown_scope_is_a_field_error(self, rep_client):
        response = create(rep_client, scope="admin")
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
        assert not ApiToken.objects.exists()

    def test_needs_a_post(self, rep_client):
        assert rep_client.get(reverse("token_create")).status_code == 405


class TestRevokeToken:
    def test_revoking_my_token_stops_its_key_working(self, rep_client, rep):
        token, key = create_api_token(user=rep, name="Accounting sync")
        response = rep_client.post(reverse("token_revoke", args=[token.pk]), follow=True)
        assert response.redirect_chain[-1][0] == reverse("token_list")
        assert "Revoked “Accounting sync”" in response.content.decode()
        assert not ApiToken.objects.for_key(key).exists()

    def test_revoking_twice_is_harmless(self, rep_client, rep):
        token, _ = create_api_token(user=rep, name="Accounting sync")
        rep_client.post(reverse("token_revoke", args=[token.pk]))
        response = rep_client.post(reverse("token_revoke", args=[token.pk]), follow=True)
        assert "was already revoked" in response.content.decode()

    def test_someone_elses_token_is_not_found_and_stays_active(self, rep_client, other_rep):
        token, key = create_api_token(user=other_rep, name="Theirs")
        assert rep_client.post(reverse("token_revoke", args=[token.pk])).status_code == 404
        assert ApiToken.objects.for_key(key).exists()

    def test_needs_a_post(self, rep_client, rep):
        token, _ = create_api_token(user=rep, name="Accounting sync")
        assert rep_client.get(reverse("token_revoke", args=[token.pk])).status_code == 405


class TestCreateApiTokenCommand:
    def test_prints_the_key_once_and_the_key_authenticates(self, rep):
        out, err = StringIO(), StringIO()
        call_command("create_api_token", "rep", "--name", "Nightly export", "--scope", "write", stdout=out, stderr=err)

        key = out.getvalue().strip()
        assert key.count("\n") == 0 and key not in err.getvalue()
        token = ApiToken.objects.for_key(key).get()
        assert (token.user, token.name, token.scope) == (rep, "Nightly export", "write")

    def test_tokens_are_read_only_unless_asked(self, rep):
        out = StringIO()
        call_command("create_api_token", "rep", "--name", "Reporting", stdout=out, stderr=StringIO())
        assert ApiToken.objects.for_key(out.getvalue().strip()).get().scope == "read"

    def test_an_unknown_user_is_a_clear_error(self, db):
        with pytest.raises(CommandError, match="No user named 'ghost'"):
            call_command("create_api_token", "ghost", "--name", "x", stdout=StringIO(), stderr=StringIO())
