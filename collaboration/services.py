"""Everything that changes the feed: publishing, posting, comments, likes, follows,
notifications and approvals. Pages, the API, the admin, the other apps' services,
tasks and tests all call these.

The other apps use the public few (re-exported by the `collaboration` package):
`publish`, `follow`, `unfollow`, `tracked_values` / `publish_changes` (or the
`tracking` context manager). Each runs inside the caller's transaction, so an event
is published with the operation that caused it, or not at all.
"""

import json
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.roles import ADMIN, ROLES

from . import live
from .models import (
    ApprovalRequest,
    Attachment,
    Comment,
    FeedItem,
    FeedPlacement,
    Follow,
    InboxEntry,
    Mention,
    Notification,
    Reaction,
)
from .permissions import can_comment, can_decide, can_follow, can_post, can_request_approval
from .registry import ApprovalKind, approval_kind, content_type_of, feed_parents, record_url
from .text import mentioned_usernames

User = get_user_model()

EMPTY_POST = "Write something to post."
# How many of a record's latest items join someone's My feed when they start following it.
FOLLOW_BACKFILL = 50


class FeedError(Exception):
    """A feed operation that cannot be done in the record's current state (409)."""


class ApprovalError(FeedError):
    """An approval that cannot be requested or decided now: one is already pending,
    or it was decided already."""


# --- Publishing ------------------------------------------------------------------


def _label(record: models.Model) -> str:
    return str(record)[:200]


def _key(record_or_pair) -> tuple[int, int]:
    """(content type id, object id) of a record, or of a (model, id) pair."""
    if isinstance(record_or_pair, tuple):
        model, object_id = record_or_pair
        return content_type_of(model).pk, int(object_id)
    return content_type_of(record_or_pair).pk, int(record_or_pair.pk)


def _placements(target: models.Model, actor, also_on: Iterable) -> list[tuple[int, int]]:
    """Every feed the item shows on, its own record's first, each once."""
    keys = [_key(target), *(_key(parent) for parent in feed_parents(target)), *(_key(other) for other in also_on)]
    if actor is not None:
        keys.append(_key(actor))  # the person's own feed: following someone follows what they do
    return list(dict.fromkeys(keys))


def _deliver_to_followers(item: FeedItem, keys: Sequence[tuple[int, int]]) -> set[int]:
    """Write the item into the My feed of everyone following one of `keys`; their ids.

    One statement (INSERT … SELECT … RETURNING) rather than reading the followers and
    writing their entries: publishing is on the path of every operation that publishes."""
    if not keys:
        return set()
    quote = connection.ops.quote_name
    condition = " OR ".join(["(target_type_id = %s AND target_id = %s)"] * len(keys))
    # Only table names (from the models) are formatted in; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(InboxEntry._meta.db_table)} (user_id, item_id, kind, mentioned) "  # noqa: S608
        f"SELECT DISTINCT user_id, %s, %s, %s FROM {quote(Follow._meta.db_table)} WHERE {condition} "
        "ON CONFLICT (user_id, item_id) DO NOTHING RETURNING user_id"
    )
    params = [item.pk, item.kind, False, *(value for key in keys for value in key)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _deliver(item: FeedItem, keys: Sequence[tuple[int, int]], mentioned: set[int] = frozenset()) -> None:
    """Write the item into the My feed of the followers of its records and of the
    people it mentions, and tell live pages once committed."""
    readers = _deliver_to_followers(item, keys)
    if mentioned:
        InboxEntry.objects.bulk_create(
            [InboxEntry(user_id=uid, item=item, kind=item.kind, mentioned=True) for uid in mentioned],
            ignore_conflicts=True,
        )
        # Someone who also follows the record has an entry already: mark it a mention too.
        InboxEntry.objects.filter(item=item, user_id__in=mentioned, mentioned=False).update(mentioned=True)
    live.announce(item.pk, keys, readers | set(mentioned))


def publish(
    target: models.Model,
    verb: str,
    *,
    actor=None,
    data: dict | None = None,
    also_on: Iterable = (),
    kind: str = FeedItem.Kind.EVENT,
    body: str = "",
    mentioned: Iterable = (),
) -> FeedItem:
    """Put an event on `target`'s feed, on the feeds of the records above it (its
    `feed_parents`) and of the records in `also_on`, and in its followers' My feed.

    `data` holds the event's facts as JSON-able values (Decimal and dates are
    written as strings). Call it inside the operation's transaction. (`kind`, `body`
    and `mentioned` are for this module's posts and changes.)"""
    type_id, object_id = _key(target)
    item = FeedItem.objects.create(
        kind=kind,
        verb=verb,
        target_type_id=type_id,
        target_id=object_id,
        target_label=_label(target),
        actor=actor if getattr(actor, "pk", None) else None,
        body=body,
        # As it will read back: Decimals and dates as strings, now rather than after a reload.
        data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
    )
    keys = _placements(target, item.actor, also_on)
    FeedPlacement.objects.bulk_create(
        [FeedPlacement(item=item, target_type_id=type_id_, target_id=object_id_) for type_id_, object_id_ in keys]
    )
    _deliver(item, keys, {person.pk for person in mentioned})
    return item


def forget_record(record: models.Model) -> None:
    """A record is being deleted: its feed, follows and approvals go with it (items
    rolled up from it stay on the records above only if they are about another
    record). Call it in the deleting transaction."""
    type_id, object_id = _key(record)
    FeedItem.objects.filter(target_type_id=type_id, target_id=object_id).delete()
    FeedPlacement.objects.filter(target_type_id=type_id, target_id=object_id).delete()
    Follow.objects.filter(target_type_id=type_id, target_id=object_id).delete()
    ApprovalRequest.objects.filter(target_type_id=type_id, target_id=object_id).delete()


# --- Tracked fields ------------------------------------------------------------------


def _display(field: models.Field, value, record: models.Model) -> tuple[str, str]:
    """A field's value as people read it, and how to format it ("text", "date",
    "decimal", "money"). Stored in the change item: renaming an owner later does not
    rewrite history."""
    if value is None or value == "":
        return "", "text"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value)), "text"
    if field.is_relation:
        related = field.related_model._default_manager.filter(pk=value).first()
        return (str(related) if related is not None else f"#{value}"), "text"
    if isinstance(value, bool):
        return ("Yes" if value else "No"), "text"
    if isinstance(field, models.DecimalField):
        value = Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places))  # as stored: 5000 → 5000.00
        return str(value), "money" if hasattr(record, "currency") else "decimal"
    if isinstance(value, datetime):
        return value.isoformat(), "datetime"
    if isinstance(value, date):
        return value.isoformat(), "date"
    return str(value), "text"


def tracked_values(record: models.Model) -> dict:
    """The stored values of the record's `tracked_fields` now (no query); pass them
    to publish_changes after the change."""
    return {
        name: getattr(record, record._meta.get_field(name).attname)
        for name in getattr(type(record), "tracked_fields", ())
    }


def publish_changes(record: models.Model, before: dict, *, by) -> FeedItem | None:
    """One change item listing the tracked fields that changed since `before`
    (Stage: Proposal → Won); nothing when none did."""
    changes = []
    for name, old in before.items():
        field = record._meta.get_field(name)
        new = getattr(record, field.attname)
        if old == new:
            continue
        old_text, old_kind = _display(field, old, record)
        new_text, new_kind = _display(field, new, record)
        kind = new_kind if new_text else old_kind
        change = {
            "field": name,
            "label": str(field.verbose_name).capitalize(),
            "old": old_text,
            "new": new_text,
            "type": kind,
        }
        if kind == "money":
            change["currency"] = record.currency
        changes.append(change)
    if not changes:
        return None
    return publish(record, "changed", actor=by, data={"changes": changes}, kind=FeedItem.Kind.CHANGE)


@contextmanager
def tracking(record: models.Model, *, by):
    """Publish the tracked fields that the block changes on `record`:

    with tracking(opportunity, by=user):
        opportunity.stage = won
        opportunity.save()
    """
    before = tracked_values(record)
    yield
    publish_changes(record, before, by=by)


# --- Follows -------------------------------------------------------------------------


def follow(user, target: models.Model) -> bool:
    """`user` follows `target` (a record or a person); True if newly. The record's
    latest items join their My feed. Quietly does nothing for inactive users."""
    if user is None or not user.is_active:
        return False
    type_id, object_id = _key(target)
    created = Follow.objects.get_or_create(user=user, target_type_id=type_id, target_id=object_id)[1]
    if created:
        latest = (
            FeedPlacement.objects.filter(target_type_id=type_id, target_id=object_id)
            .order_by("-item_id")
            .values_list("item_id", "item__kind")[:FOLLOW_BACKFILL]
        )
        InboxEntry.objects.bulk_create(
            [InboxEntry(user=user, item_id=item_id, kind=kind) for item_id, kind in latest], ignore_conflicts=True
        )
        live.announce_inbox([user.pk])
    return created


def unfollow(user, target: models.Model) -> bool:
    """`user` stops following `target`; True if they did. Its items leave their My
    feed, except those that mention them or show on another record they follow."""
    type_id, object_id = _key(target)
    deleted, _ = Follow.objects.filter(user=user, target_type_id=type_id, target_id=object_id).delete()
    if deleted:
        still_followed = FeedPlacement.objects.filter(
            models.Exists(
                Follow.objects.filter(
                    user=user, target_type_id=models.OuterRef("target_type_id"), target_id=models.OuterRef("target_id")
                )
            )
        ).values("item_id")
        on_record = FeedPlacement.objects.filter(target_type_id=type_id, target_id=object_id).values("item_id")
        InboxEntry.objects.filter(user=user, mentioned=False, item_id__in=on_record).exclude(
            item_id__in=still_followed
        ).delete()
    return bool(deleted)


def follow_checked(*, by, target: models.Model) -> bool:
    """The follow button: `by` follows a record they may see."""
    if not can_follow(by, target):
        raise PermissionDenied("You may not follow this record.")
    return follow(by, target)


def is_following(user, target: models.Model) -> bool:
    type_id, object_id = _key(target)
    return Follow.objects.filter(user=user, target_type_id=type_id, target_id=object_id).exists()


# --- Posts, comments, likes ------------------------------------------------------


def mentionable_users():
    """Who may be @mentioned: active people with a Concord role (never a customer's contact)."""
    return User.objects.in_roles(*ROLES)


def _mentioned(text: str, target: models.Model, author) -> list:
    """The people `text` mentions who may see `target` (others are not told about it)."""
    from .registry import may_see

    names = mentioned_usernames(text)
    if not names:
        return []
    people = mentionable_users().filter(username__in=names).exclude(pk=author.pk)
    return [person for person in people if may_see(person, target)]


def _clean_text(body: str, *, what: str = "post") -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": EMPTY_POST if what == "post" else "Write a comment first."})
    limit = settings.FEED_TEXT_MAX_CHARS
    if len(body) > limit:
        raise ValidationError({"body": f"Keep it under {limit:,} characters (this has {len(body):,})."})
    if "\x00" in body:
        raise ValidationError({"body": "The text holds a character that cannot be stored."})
    return body


def check_attachment(upload: UploadedFile) -> None:
    """Refuse a file over FEED_ATTACHMENT_MAX_BYTES or of a type not in FEED_ATTACHMENT_TYPES."""
    limit = settings.FEED_ATTACHMENT_MAX_BYTES
    name = PurePath(upload.name or "").name
    extension = PurePath(name).suffix.lower().lstrip(".")
    allowed = settings.FEED_ATTACHMENT_TYPES
    if extension not in allowed:
        kinds = ", ".join(sorted(allowed))
        raise ValidationError({"files": f"“{name}” is not a file type you can attach here ({kinds})."})
    if upload.size > limit:
        raise ValidationError(
            {
                "files": f"“{name}” is {upload.size / 1_048_576:.1f} MB; attachments may be up to {limit / 1_048_576:.0f} MB."
            }
        )
    if upload.size == 0:
        raise ValidationError({"files": f"“{name}” is empty."})


@transaction.atomic
def post(*, target: models.Model, by, body: str, files: Sequence[UploadedFile] = ()) -> FeedItem:
    """`by` posts on `target`'s feed, with attachments. The author follows the record;
    the people mentioned are told (and follow it too)."""
    if not can_post(by, target):
        raise PermissionDenied("You may not post on this record.")
    body = _clean_text(body)
    if len(files) > settings.FEED_ATTACHMENTS_PER_POST:
        raise ValidationError({"files": f"Attach up to {settings.FEED_ATTACHMENTS_PER_POST} files to one post."})
    for upload in files:
        check_attachment(upload)
    mentioned = _mentioned(body, target, by)
    # The author and the people mentioned follow the record first, so the post
    # reaches their My feed with everyone else's.
    follow(by, target)
    for person in mentioned:
        follow(person, target)
    item = publish(target, "post", actor=by, kind=FeedItem.Kind.POST, body=body, mentioned=mentioned)
    for upload in files:
        Attachment.objects.create(
            item=item,
            file=upload,
            name=PurePath(upload.name).name[:200],
            size=upload.size,
            content_type=(getattr(upload, "content_type", "") or "application/octet-stream")[:100],
        )
    Mention.objects.bulk_create([Mention(item=item, user=person) for person in mentioned])
    _notify_mentions(item, mentioned, by, comment=None)
    return item


def visible_item(user, item_id) -> FeedItem:
    """The item if `user` may see its record, else FeedItem.DoesNotExist."""
    from .selectors import items_visible_to

    return items_visible_to(user, FeedItem.objects.all()).get(pk=item_id)


@transaction.atomic
def comment(*, item: FeedItem, by, body: str) -> Comment:
    """`by` answers under `item`; the people mentioned are told."""
    if not can_comment(by, item):
        raise PermissionDenied("You may not comment on this item.")
    body = _clean_text(body, what="comment")
    item = FeedItem.objects.select_for_update().get(pk=item.pk)
    new = Comment.objects.create(item=item, author=by, body=body)
    FeedItem.objects.filter(pk=item.pk).update(comment_count=F("comment_count") + 1)
    target = item.target
    follow(by, target)
    mentioned = _mentioned(body, target, by) if target is not None else []
    Mention.objects.bulk_create([Mention(item=item, comment=new, user=person) for person in mentioned])
    for person in mentioned:
        follow(person, target)
    if mentioned:
        _deliver(item, [], {p.pk for p in mentioned})
    _notify_mentions(item, mentioned, by, comment=new)
    return new


@transaction.atomic
def like(*, item: FeedItem, by) -> bool:
    """`by` likes `item`; True if newly (liking twice changes nothing)."""
    if not can_comment(by, item):
        raise PermissionDenied("You may not react to this item.")
    try:
        with transaction.atomic():
            Reaction.objects.create(item=item, user=by)
    except IntegrityError:
        return False
    FeedItem.objects.filter(pk=item.pk).update(like_count=F("like_count") + 1)
    return True


@transaction.atomic
def unlike(*, item: FeedItem, by) -> bool:
    if not can_comment(by, item):
        raise PermissionDenied("You may not react to this item.")
    deleted, _ = Reaction.objects.filter(item=item, user=by).delete()
    if deleted:
        FeedItem.objects.filter(pk=item.pk).update(like_count=F("like_count") - 1)
    return bool(deleted)


# --- Notifications -------------------------------------------------------------------


def _notify(users: Iterable, *, kind: str, text: str, url: str, actor=None, item=None, approval=None, email: bool):
    """Tell each of `users`; email them once committed unless they turned email off."""
    from .tasks import send_notification_emails

    notifications = Notification.objects.bulk_create(
        [
            Notification(user=user, kind=kind, text=text[:300], url=url, actor=actor, item=item, approval=approval)
            for user in users
        ]
    )
    live.forget_unread([n.user_id for n in notifications])
    if email:
        # bulk_create sets ids on PostgreSQL and SQLite alike.
        ids = [n.pk for n in notifications if n.user.email_notifications and n.user.email]
        if ids:
            transaction.on_commit(lambda: send_notification_emails.delay(ids))
    return notifications


def _notify_mentions(item: FeedItem, mentioned: list, by, *, comment: Comment | None) -> None:
    if not mentioned:
        return
    where = "a comment on " if comment else ""
    _notify(
        mentioned,
        kind=Notification.Kind.MENTION,
        text=f"{by} mentioned you in {where}{item.target_label}",
        url=f"{item.target_url}#item-{item.pk}",
        actor=by,
        item=item,
        email=True,
    )


def mark_read(*, user, notification_ids: Iterable[int]) -> int:
    """Mark some of `user`'s notifications read; others' are never touched."""
    count = Notification.objects.filter(user=user, pk__in=list(notification_ids), read_at__isnull=True).update(
        read_at=timezone.now()
    )
    live.forget_unread([user.pk])
    return count


def mark_all_read(*, user) -> int:
    count = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    live.forget_unread([user.pk])
    return count


# --- Approvals ---------------------------------------------------------------------


def _kind(key: str) -> ApprovalKind:
    kind = approval_kind(key)
    if kind is None:
        raise ValidationError({"kind": "Choose one of the approvals this record offers."})
    return kind


def approvers(kind: ApprovalKind):
    """Active people who may decide requests of `kind`."""
    condition = Q(is_superuser=True) | Q(groups__name__in=[ADMIN, *kind.approver_groups])
    if kind.approver_permission:
        app_label, codename = kind.approver_permission.split(".", 1)
        condition |= Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
        condition |= Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
    return User.objects.filter(condition, is_active=True).distinct()


@transaction.atomic
def request_approval(*, target: models.Model, kind: str, by, reason: str = "") -> ApprovalRequest:
    """`by` asks for a decision of `kind` on `target`. Refused while one is pending."""
    approval_kind_ = _kind(kind)
    if type(target)._meta.label_lower != approval_kind_.model._meta.label_lower:
        raise ValidationError({"kind": f"“{approval_kind_.label}” cannot be asked on this record."})
    if not can_request_approval(by, target):
        raise PermissionDenied("You may not ask for approvals on this record.")
    reason = (reason or "").strip()
    if len(reason) > settings.FEED_TEXT_MAX_CHARS:
        raise ValidationError({"reason": f"Keep the reason under {settings.FEED_TEXT_MAX_CHARS:,} characters."})
    type_id, object_id = _key(target)
    try:
        with transaction.atomic():
            approval = ApprovalRequest.objects.create(
                kind=approval_kind_.key,
                target_type_id=type_id,
                target_id=object_id,
                target_label=_label(target),
                requested_by=by,
                reason=reason,
            )
    except IntegrityError:
        raise ApprovalError(f"“{approval_kind_.label}” is already waiting for a decision on this record.") from None
    publish(
        target,
        "approval.requested",
        actor=by,
        data={"approval": approval.pk, "kind": approval_kind_.key, "label": approval_kind_.label, "reason": reason},
    )
    follow(by, target)
    _notify(
        approvers(approval_kind_).exclude(pk=by.pk),
        kind=Notification.Kind.APPROVAL_REQUESTED,
        text=f"{by} asks you to approve: {approval_kind_.label} on {approval.target_label}",
        url=approval.target_url,
        actor=by,
        approval=approval,
        email=True,
    )
    return approval


@transaction.atomic
def decide_approval(*, approval: ApprovalRequest, by, approve: bool, comment: str = "") -> ApprovalRequest:
    """`by` approves or rejects a pending request. The decision goes on the record's
    feed, the requester is told, and the registering app's `on_decided` runs in the
    same transaction (if it refuses, nothing is decided)."""
    approval = ApprovalRequest.objects.select_for_update().get(pk=approval.pk)
    if not approval.is_pending:
        raise ApprovalError(f"This request was already {approval.get_status_display().lower()}.")
    if approval.requested_by_id == by.pk:
        raise PermissionDenied("You cannot decide your own request; another approver must.")
    if not can_decide(by, approval):
        raise PermissionDenied("You may not decide this request.")
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": "Say why you reject it, so the requester knows what to change."})
    if len(comment) > settings.FEED_TEXT_MAX_CHARS:
        raise ValidationError({"comment": f"Keep the comment under {settings.FEED_TEXT_MAX_CHARS:,} characters."})
    approval.status = ApprovalRequest.Status.APPROVED if approve else ApprovalRequest.Status.REJECTED
    approval.decided_by = by
    approval.decided_at = timezone.now()
    approval.decision_comment = comment
    approval.save(update_fields=["status", "decided_by", "decided_at", "decision_comment"])
    kind = approval_kind(approval.kind)
    target = approval.target
    if kind is not None and kind.on_decided is not None:
        kind.on_decided(approval, by=by)
    verb = "approval.approved" if approve else "approval.rejected"
    publish(
        target,
        verb,
        actor=by,
        data={"approval": approval.pk, "kind": approval.kind, "label": approval.kind_label, "comment": comment},
    )
    decided = "approved" if approve else "rejected"
    _notify(
        [approval.requested_by],
        kind=Notification.Kind.APPROVAL_DECIDED,
        text=f"{by} {decided} your request: {approval.kind_label} on {approval.target_label}",
        url=approval.target_url,
        actor=by,
        approval=approval,
        email=False,
    )
    # The other approvers' reminders are done with.
    pending = Notification.objects.filter(approval=approval, kind=Notification.Kind.APPROVAL_REQUESTED, read_at=None)
    users = list(pending.values_list("user_id", flat=True))
    pending.update(read_at=timezone.now())
    live.forget_unread(users)
    return approval


def target_url(approval_or_item) -> str:
    return record_url(approval_or_item.target_type_id, approval_or_item.target_id)
