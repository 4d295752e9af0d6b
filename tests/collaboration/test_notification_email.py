"""Mentions and approval requests are emailed to the person, through a real SMTP
server on loopback (tests/smtp.py), once their transaction commits; never twice,
never to someone who turned it off, and a failed send is tried again later."""

import socket

import pytest
from celery.exceptions import Retry

from accounts.roles import SALES_MANAGER
from collaboration import registry
from collaboration.models import Notification
from collaboration.services import post, request_approval
from collaboration.tasks import send_notification_emails
from crm.models import Customer

pytestmark = pytest.mark.django_db

KIND = "test.discount"


@pytest.fixture(autouse=True)
def discount_kind():
    registry.register_approval_kind(
        registry.ApprovalKind(key=KIND, label="Discount over 20%", model=Customer, approver_groups=(SALES_MANAGER,))
    )
    yield
    registry.unregister_approval_kind(KIND)


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://concord.example.com"
    return settings.SITE_URL


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_mention_is_emailed_after_commit_with_the_link_to_the_record(
    rep, clerk, customer, site, smtp_inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        item = post(target=customer, by=rep, body="@clerk please check the terms")
    assert smtp_inbox.messages == []  # nothing leaves before the post is committed
    for callback in callbacks:
        callback()
    (message,) = smtp_inbox.wait_for(1)
    assert message["To"] == clerk.email and message["X-Envelope-To"] == clerk.email
    assert message["Subject"] == f"[Concord] Rita Rep mentioned you in {customer.name}"
    text = body(message)
    assert f"{site}{customer.get_absolute_url()}#item-{item.pk}" in text
    assert "please check the terms" in text
    assert Notification.objects.get(user=clerk).emailed_at is not None


def test_an_approval_request_is_emailed_to_the_approvers(
    rep, sales_manager, customer, site, smtp_inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request_approval(target=customer, kind=KIND, by=rep, reason="Strategic account")
    (message,) = smtp_inbox.wait_for(1)
    assert message["X-Envelope-To"] == sales_manager.email
    assert message["Subject"] == f"[Concord] Rita Rep asks you to approve: Discount over 20% on {customer.name}"
    assert f"{site}{customer.get_absolute_url()}" in body(message)


def test_nobody_is_emailed_who_turned_email_off(rep, clerk, customer, smtp_inbox, django_capture_on_commit_callbacks):
    clerk.email_notifications = False
    clerk.save(update_fields=["email_notifications"])
    with django_capture_on_commit_callbacks(execute=True):
        post(target=customer, by=rep, body="@clerk please check the terms")
    assert Notification.objects.filter(user=clerk).exists()  # still under the bell
    assert smtp_inbox.messages == []


def test_turning_email_off_before_the_task_runs_still_counts(
    rep, clerk, customer, smtp_inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(target=customer, by=rep, body="@clerk please check the terms")
    type(clerk).objects.filter(pk=clerk.pk).update(email_notifications=False)
    for callback in callbacks:
        callback()
    assert smtp_inbox.messages == []


def test_running_the_task_twice_sends_once(rep, clerk, customer, smtp_inbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(target=customer, by=rep, body="@clerk please check the terms")
    smtp_inbox.wait_for(1)
    ids = list(Notification.objects.filter(user=clerk).values_list("pk", flat=True))
    send_notification_emails.delay(ids)
    send_notification_emails.delay(ids)
    assert len(smtp_inbox.messages) == 1


def test_a_failed_send_is_released_and_sent_by_the_retry(
    rep, clerk, customer, settings, smtp_server, smtp_inbox, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_PORT = closed_port
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(target=customer, by=rep, body="@clerk please check the terms")
    with pytest.raises(Retry):  # the task asks to be run again, with backoff
        for callback in callbacks:
            callback()
    notification = Notification.objects.get(user=clerk)
    assert notification.emailed_at is None  # released, not lost
    assert smtp_inbox.messages == []

    settings.EMAIL_PORT = smtp_server.port
    send_notification_emails.delay([notification.pk])
    (message,) = smtp_inbox.wait_for(1)
    assert message["X-Envelope-To"] == clerk.email
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_each_person_gets_their_own_email_at_their_own_address(
    rep, clerk, other_rep, customer, smtp_inbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post(target=customer, by=rep, body="@clerk and @rep2 please check")
    messages = smtp_inbox.wait_for(2)
    assert sorted(m["X-Envelope-To"] for m in messages) == sorted([clerk.email, other_rep.email])
    assert all(m["Cc"] is None and m["Bcc"] is None for m in messages)
