"""The feed on every record: what people post, what the system reports, who follows
what, who was told what, and the approvals people ask each other for.

A feed item is about one record (its target: a customer, an invoice, a user), and
shows on that record's feed and on the feeds of the records above it (an invoice's
event shows on its customer too). Where an item shows is a row of FeedPlacement, so
reading any record's feed is one indexed range of one table. Who sees an item in
"My feed" is a row of InboxEntry, written when the item is published (to the
followers of every record it shows on, and to the people it mentions), so My feed is
one indexed range too, however many records a person follows.

Collaboration knows no business model: targets are generic (content type + id), and
the apps above register how visibility is decided for their models
(collaboration.registry).
"""

import secrets
from pathlib import PurePath

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property


class FeedItem(models.Model):
    """One entry of a record's feed: a post someone wrote, a system event
    (`invoice.issued` with its number and amount), or tracked changes
    (Stage: Proposal → Won)."""

    class Kind(models.TextChoices):
        POST = "post", "Post"
        EVENT = "event", "Event"
        CHANGE = "change", "Change"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    # What happened, for code and filters: "post", "changed", "invoice.issued".
    verb = models.CharField(max_length=64)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    # The record's name when the item was published: My feed names the record of each
    # item without loading it ("Acme GmbH", "INV-2026-000142").
    target_label = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="feed_items"
    )
    # A post's text, plain (rendered escaped, with links and mentions made clickable).
    body = models.TextField(blank=True)
    # An event's facts ({"number": "INV-2026-000142", "amount": "4200.00", "currency": "EUR"})
    # or a change's fields ({"changes": [{"field", "label", "old", "new", "type"}]}).
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)
    # Kept by the services in the same transaction as the comment or reaction.
    comment_count = models.PositiveIntegerField(default=0)
    like_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["target_type", "target_id", "-id"], name="collab_item_target_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.target_label}"

    @cached_property
    def target_url(self) -> str:
        from .registry import record_url

        return record_url(self.target_type_id, self.target_id)


class FeedPlacement(models.Model):
    """A feed an item shows on: its own record's, and each record above it (the
    customer of an invoice). Reading a record's feed reads its placements."""

    item = models.ForeignKey(FeedItem, on_delete=models.CASCADE, related_name="placements")
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    target_id = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target_type", "target_id", "item"], name="collab_placement_unique")
        ]
        # The unique index also serves the feed: one range per record, newest item first.

    def __str__(self):
        return f"Item {self.item_id} on {self.target_type_id}:{self.target_id}"


class InboxEntry(models.Model):
    """An item in someone's My feed: written when it is published, for the followers
    of the records it shows on and for the people it mentions."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(FeedItem, on_delete=models.CASCADE, related_name="inbox_entries")
    kind = models.CharField(max_length=10, choices=FeedItem.Kind.choices)  # the item's, for the filters
    mentioned = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "item"], name="collab_inbox_unique")]
        indexes = [
            models.Index(fields=["user", "kind", "-item"], name="collab_inbox_kind_idx"),
            models.Index(fields=["user", "-item"], condition=Q(mentioned=True), name="collab_inbox_mention_idx"),
        ]

    def __str__(self):
        return f"Item {self.item_id} for user {self.user_id}"


class Follow(models.Model):
    """Someone follows a record (or a person): what is published on it reaches their
    My feed. Only users follow: customers and their contacts never do, and the feed
    is never emailed outside the company."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "target_type", "target_id"], name="collab_follow_unique")
        ]
        indexes = [models.Index(fields=["target_type", "target_id"], name="collab_follow_target_idx")]

    def __str__(self):
        return f"{self.user} follows {self.target_type.model} {self.target_id}"


class Comment(models.Model):
    """An answer under a feed item."""

    item = models.ForeignKey(FeedItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["item", "-id"], name="collab_comment_item_idx")]

    def __str__(self):
        return f"Comment by {self.author} on item {self.item_id}"


class Reaction(models.Model):
    """Someone likes a feed item; once each."""

    item = models.ForeignKey(FeedItem, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="collab_reaction_unique")]

    def __str__(self):
        return f"User {self.user_id} likes item {self.item_id}"


def attachment_path(attachment: "Attachment", filename: str) -> str:
    # A random folder: the stored name reveals nothing and never collides; the file is
    # served only through the download view, which checks who may see its item.
    suffix = PurePath(filename).suffix.lower()
    return f"feed/{timezone.now():%Y/%m}/{secrets.token_urlsafe(16)}{suffix}"


class Attachment(models.Model):
    """A file attached to a post (limits: FEED_ATTACHMENT_MAX_BYTES, FEED_ATTACHMENT_TYPES)."""

    item = models.ForeignKey(FeedItem, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    name = models.CharField(max_length=200)  # as uploaded, for people
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name


class Mention(models.Model):
    """Someone @mentioned in a post or in a comment."""

    item = models.ForeignKey(FeedItem, on_delete=models.CASCADE, related_name="mentions")
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["user", "-item"], name="collab_mention_user_idx")]

    def __str__(self):
        return f"User {self.user_id} mentioned in item {self.item_id}"


class ApprovalRequest(models.Model):
    """Someone asks for a decision on a record ("discount over 20%"): the kind,
    registered by the app that owns the record, names who may decide and what
    happens once decided."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    kind = models.CharField(max_length=64)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("target_type", "target_id")
    target_label = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Asking twice while a request is pending is refused by the database too.
            models.UniqueConstraint(
                fields=["kind", "target_type", "target_id"],
                condition=Q(status="pending"),
                name="collab_one_pending_approval",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False, decided_by__isnull=False)),
                name="collab_approval_decided_consistently",
            ),
        ]
        indexes = [models.Index(fields=["status", "kind", "-id"], name="collab_approval_status_idx")]

    def __str__(self):
        return f"{self.kind_label} on {self.target_label}"

    @property
    def kind_label(self) -> str:
        from .registry import approval_kind

        kind = approval_kind(self.kind)
        return kind.label if kind else self.kind

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def target_url(self) -> str:
        from .registry import record_url

        return record_url(self.target_type_id, self.target_id)


class Notification(models.Model):
    """Something a person is told: a mention, an approval to decide, a decision on
    their request. Shown under the bell; emailed unless they turned email off."""

    class Kind(models.TextChoices):
        MENTION = "mention", "Mention"
        APPROVAL_REQUESTED = "approval_requested", "Approval requested"
        APPROVAL_DECIDED = "approval_decided", "Approval decided"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    item = models.ForeignKey(FeedItem, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    approval = models.ForeignKey(ApprovalRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when the email task claims it: the task is safe to run twice.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user", "-id"], name="collab_notification_user_idx"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="collab_notification_unread_idx"),
        ]

    def __str__(self):
        return self.text

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
