"""Password-reset mail is limited per address and per client, without revealing either."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings):
    settings.PASSWORD_RESET_LIMIT_PER_EMAIL = 5
    settings.PASSWORD_RESET_LIMIT_PER_CLIENT = 20
    settings.TRUSTED_PROXY_COUNT = 0


def ask(client, email, *, ip="203.0.113.10", capture):
    with capture(execute=True):
        response = client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    return response


def test_an_address_gets_five_mails_an_hour_and_then_none(client, rep, django_capture_on_commit_callbacks):
    for _ in range(5):
        ask(client, rep.email, capture=django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 5
    ask(client, rep.email, capture=django_capture_on_commit_callbacks)  # same page as ever...
    assert len(mail.outbox) == 5  # ...but no sixth mail


def test_the_address_limit_holds_across_clients_and_spellings(client, rep, django_capture_on_commit_callbacks):
    for number in range(5):
        ask(client, rep.email, ip=f"198.51.100.{number}", capture=django_capture_on_commit_callbacks)
    ask(client, f"  {rep.email.upper()} ", ip="192.0.2.99", capture=django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 5


def test_one_address_at_its_limit_does_not_stop_mail_to_another(
    client, rep, other_rep, django_capture_on_commit_callbacks
):
    for _ in range(6):
        ask(client, rep.email, capture=django_capture_on_commit_callbacks)
    ask(client, other_rep.email, capture=django_capture_on_commit_callbacks)
    assert [message.to for message in mail.outbox][-1] == [other_rep.email]
    assert len(mail.outbox) == 6


def test_a_client_gets_twenty_requests_an_hour_over_any_addresses(client, django_capture_on_commit_callbacks):
    users = UserFactory.create_batch(21)
    for user in users[:20]:
        ask(client, user.email, capture=django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 20
    ask(client, users[20].email, capture=django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 20
    # Another client is not affected.
    ask(client, users[20].email, ip="192.0.2.7", capture=django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 21


def test_requests_for_unknown_addresses_count_towards_the_client_limit(client, rep, django_capture_on_commit_callbacks):
    for number in range(20):
        ask(client, f"nobody{number}@example.com", capture=django_capture_on_commit_callbacks)
    ask(client, rep.email, capture=django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(
    client, settings, django_capture_on_commit_callbacks
):
    settings.TRUSTED_PROXY_COUNT = 1
    users = UserFactory.create_batch(21)
    for user in users[:20]:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("password_reset"),
                {"email": user.email},
                REMOTE_ADDR="10.0.0.1",
                HTTP_X_FORWARDED_FOR="203.0.113.5",
            )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("password_reset"),
            {"email": users[20].email},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.6",
        )
    assert len(mail.outbox) == 21  # the proxy's address is not one shared client
