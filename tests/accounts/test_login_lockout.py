"""Sign-in lockouts (django-axes) key on the real client behind our proxy, and end on time."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from core.client_ip import client_ip

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's password
PROXY = "10.0.0.1"


def sign_in(client, password, *, forwarded_for=None, remote=PROXY):
    extra = {"REMOTE_ADDR": remote}
    if forwarded_for:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(reverse("login"), {"username": "rep", "password": password}, **extra)


def lock_out(client, settings, **where):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong", **where)
    assert sign_in(client, PASSWORD, **where).status_code == 429


class TestBehindOneProxy:
    @pytest.fixture(autouse=True)
    def one_proxy(self, settings):
        settings.TRUSTED_PROXY_COUNT = 1

    def test_two_clients_behind_the_proxy_are_locked_out_separately(self, rep, settings):
        lock_out(Client(), settings, forwarded_for="203.0.113.5")
        other = Client()
        response = sign_in(other, PASSWORD, forwarded_for="198.51.100.7")
        assert response.status_code == 302
        assert other.session.get(SESSION_KEY) == str(rep.pk)
        assert AccessAttempt.objects.get().ip_address == "203.0.113.5"

    def test_the_client_is_the_address_our_proxy_appended_not_what_the_client_wrote(self, rep, settings):
        # A client that writes its own X-Forwarded-For cannot pick another address:
        # the proxy appends the real one, and only that one is trusted.
        lock_out(Client(), settings, forwarded_for="1.2.3.4, 203.0.113.5")
        response = sign_in(Client(), PASSWORD, forwarded_for="9.9.9.9, 203.0.113.5")
        assert response.status_code == 429


class TestWithoutATrustedProxy:
    def test_the_forwarded_header_is_ignored_so_it_cannot_be_spoofed(self, rep, settings):
        settings.TRUSTED_PROXY_COUNT = 0
        lock_out(Client(), settings, forwarded_for="203.0.113.5", remote="192.0.2.1")
        response = sign_in(Client(), PASSWORD, forwarded_for="198.51.100.7", remote="192.0.2.1")
        assert response.status_code == 429
        assert AccessAttempt.objects.get().ip_address == "192.0.2.1"


def test_failing_again_during_a_lockout_does_not_extend_it(client, rep, settings):
    lock_out(client, settings, remote="192.0.2.1")
    # The lockout began 14 minutes ago; one more minute and it is over.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=14))
    began = AccessAttempt.objects.get().attempt_time
    assert sign_in(client, "wrong", remote="192.0.2.1").status_code == 429
    assert AccessAttempt.objects.get().attempt_time == began
    # Two minutes later the original 15 minutes are over, despite the attempt above.
    AccessAttempt.objects.update(attempt_time=began - timedelta(minutes=2))
    assert sign_in(client, PASSWORD, remote="192.0.2.1").status_code == 302


class TestClientIp:
    @pytest.mark.parametrize(
        ("count", "forwarded", "expected"),
        [
            (0, "203.0.113.5", PROXY),
            (1, "203.0.113.5", "203.0.113.5"),
            (1, "1.2.3.4, 203.0.113.5", "203.0.113.5"),
            (2, "1.2.3.4, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
            (2, "203.0.113.5", PROXY),  # fewer hops than our proxies add: not trusted
            (1, "", PROXY),
            (1, "not-an-address", PROXY),
            (1, "2001:db8::1", "2001:db8::1"),
        ],
    )
    def test_reads_the_nth_address_from_the_right(self, rf, settings, count, forwarded, expected):
        settings.TRUSTED_PROXY_COUNT = count
        request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
        assert client_ip(request) == expected


def test_a_username_longer_than_any_is_a_failed_attempt_like_any_other(client, db):
    response = client.post(reverse("login"), {"username": "x" * 10_000, "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert AccessAttempt.objects.get().username == "x" * 255
