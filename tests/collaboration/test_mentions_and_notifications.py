"""Posts, comments and likes; @mentions tell the people named, and only them."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from collaboration import live, services
from collaboration.models import Comment, FeedItem, Follow, InboxEntry, Mention, Notification
from collaboration.selectors import FeedFilter, my_feed, record_feed

pytestmark = pytest.mark.django_db


def test_a_post_is_on_the_record_and_its_author_follows_the_record(rep, customer):
    item = services.post(target=customer, by=rep, body="Customer asked for a call back")
    assert item.kind == FeedItem.Kind.POST
    assert item.actor == rep
    assert Follow.objects.filter(user=rep, target_id=customer.pk).exists()
    assert item in my_feed(rep)


def test_an_empty_post_is_refused_and_nothing_is_written(rep, customer):
    with pytest.raises(ValidationError, match="Write something to post"):
        services.post(target=customer, by=rep, body="   \n ")
    assert not FeedItem.objects.filter(kind=FeedItem.Kind.POST).exists()


def test_a_post_over_the_length_limit_is_refused(rep, customer, settings):
    settings.FEED_TEXT_MAX_CHARS = 10
    with pytest.raises(ValidationError, match="under 10 characters"):
        services.post(target=customer, by=rep, body="x" * 11)


def test_a_mention_tells_the_person_and_they_follow_the_record(
    rep, clerk, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        item = services.post(target=customer, by=rep, body="@clerk please check the terms")
    notification = Notification.objects.get(user=clerk)
    assert notification.kind == Notification.Kind.MENTION
    assert notification.text == f"{rep} mentioned you in {customer.name}"
    assert notification.url == f"/customers/{customer.pk}/#item-{item.pk}"
    assert Follow.objects.filter(user=clerk, target_id=customer.pk).exists()
    assert list(my_feed(clerk, feed_filter=FeedFilter.MENTIONS)) == [item]
    assert live.unread_count(clerk.pk) == 1


def test_a_mention_of_someone_already_following_marks_their_entry_a_mention(rep, clerk, customer):
    services.follow(clerk, customer)
    item = services.post(target=customer, by=rep, body="FYI @clerk")
    assert InboxEntry.objects.get(user=clerk, item=item).mentioned


def test_unknown_names_emails_and_self_mentions_tell_nobody(rep, clerk, customer):
    services.post(target=customer, by=rep, body="ask @nobody, mail clerk@example.com, note to @rep")
    assert not Notification.objects.exists()
    assert not Mention.objects.exists()


def test_people_without_a_role_are_never_mentioned(rep, outsider, customer):
    services.post(target=customer, by=rep, body=f"@{outsider.username} look")
    assert not Notification.objects.filter(user=outsider).exists()


def test_a_mention_in_a_comment_tells_the_person(rep, clerk, customer):
    item = services.post(target=customer, by=rep, body="Terms look odd")
    services.comment(item=item, by=rep, body="@clerk can you confirm?")
    notification = Notification.objects.get(user=clerk)
    assert "a comment on" in notification.text
    item.refresh_from_db()
    assert item.comment_count == 1
    assert InboxEntry.objects.get(user=clerk, item=item).mentioned


def test_someone_who_cannot_see_the_record_cannot_comment_or_like(rep, outsider, customer):
    item = services.post(target=customer, by=rep, body="Hello")
    with pytest.raises(PermissionDenied):
        services.comment(item=item, by=outsider, body="hi")
    with pytest.raises(PermissionDenied):
        services.like(item=item, by=outsider)
    assert not Comment.objects.exists()


def test_liking_twice_counts_once_and_unliking_takes_it_back(rep, clerk, customer):
    item = services.post(target=customer, by=rep, body="Signed!")
    assert services.like(item=item, by=clerk) is True
    assert services.like(item=item, by=clerk) is False
    item.refresh_from_db()
    assert item.like_count == 1
    assert record_feed(clerk, customer).get(pk=item.pk).liked
    assert services.unlike(item=item, by=clerk) is True
    assert services.unlike(item=item, by=clerk) is False
    item.refresh_from_db()
    assert item.like_count == 0


def test_attachments_are_stored_and_limited_by_settings(rep, customer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.FEED_ATTACHMENT_MAX_BYTES = 1024
    pdf = SimpleUploadedFile("terms.pdf", b"%PDF-1.4 terms", content_type="application/pdf")
    item = services.post(target=customer, by=rep, body="Signed terms", files=[pdf])
    (attachment,) = item.attachments.all()
    assert (attachment.name, attachment.size) == ("terms.pdf", 14)
    assert attachment.file.read() == b"%PDF-1.4 terms"
    assert "terms" not in attachment.file.name  # stored under a random name

    too_big = SimpleUploadedFile("big.pdf", b"x" * 2048, content_type="application/pdf")
    with pytest.raises(ValidationError, match="big.pdf"):
        services.post(target=customer, by=rep, body="Too big", files=[too_big])
    script = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(ValidationError, match="not a file type"):
        services.post(target=customer, by=rep, body="Run this", files=[script])
    assert FeedItem.objects.filter(kind=FeedItem.Kind.POST).count() == 1


def test_marking_read_touches_only_the_persons_own_notifications(rep, clerk, finance_manager, customer):
    services.post(target=customer, by=rep, body="@clerk and @financemanager please look")
    theirs = Notification.objects.get(user=finance_manager)
    mine = Notification.objects.get(user=clerk)
    assert services.mark_read(user=clerk, notification_ids=[theirs.pk, mine.pk]) == 1
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert live.unread_count(clerk.pk) == 0
    assert services.mark_all_read(user=finance_manager) == 1
    assert live.unread_count(finance_manager.pk) == 0
