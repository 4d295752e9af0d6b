"""Reading feeds: a record's, My feed, a person's; each a constant number of queries
whatever the page holds (items, their latest comments, attachments, mentions, who
liked what)."""

from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q

from .models import Comment, FeedItem, Mention, Reaction
from .registry import content_type_of, record_types

# Comments shown under each item; "Show all n comments" loads the rest.
LATEST_COMMENTS = 3


class FeedFilter(models.TextChoices):
    ALL = "", "Everything"
    POSTS = "posts", "Posts"
    EVENTS = "events", "Events and changes"
    MENTIONS = "mentions", "Mentions of me"


def visibility_condition(user) -> Q:
    """Items whose record `user` may see, as the apps owning the records decide
    (collaboration.registry). A model whose every record the user sees costs no
    subquery; one they see none of is left out; one they see some of is a correlated
    EXISTS, probed only for the items of its type on the page. (`target_id IN (…)`
    would be a hashed subplan that reads every visible record first: a rep's 30,000
    payments made PostgreSQL scan all 1M items for a record feed of 20: 125 ms, not 0.5.)"""
    condition = Q(pk__in=[])
    for registered in record_types():
        visible = registered.visible(user) if user.is_authenticated else registered.model._default_manager.none()
        if visible.query.is_empty():
            continue
        type_id = content_type_of(registered.model).pk
        if not visible.query.where:
            condition |= Q(target_type_id=type_id)
        else:
            condition |= Q(target_type_id=type_id) & Q(Exists(visible.filter(pk=OuterRef("target_id"))))
    return condition


def items_visible_to(user, queryset: models.QuerySet) -> models.QuerySet:
    return queryset.filter(visibility_condition(user))


def _reaction_of(user) -> models.QuerySet:
    """`user`'s reaction to the outer query's item.

    The redundant `item_id <= item.id` is deliberate: with only equalities PostgreSQL
    may run EXISTS as a hashed subplan that reads *all* of the user's reactions
    (16,000 rows for an active user: ~7–14 ms per page at 1M items); a correlated
    condition that is not an equality leaves it one probe of the (item, user) unique
    index per item on the page (~0.005 ms each)."""
    return Reaction.objects.filter(item=OuterRef("pk"), item_id__lte=OuterRef("pk"), user_id=user.pk)


def with_details(queryset: models.QuerySet, user) -> models.QuerySet:
    """Everything an item's card shows, fetched for a whole page at once."""
    return (
        queryset.select_related("actor")
        .prefetch_related(
            Prefetch(
                "comments",
                queryset=Comment.objects.select_related("author").order_by("-id")[:LATEST_COMMENTS],
                to_attr="latest_comments",
            ),
            "attachments",
            Prefetch("mentions", queryset=Mention.objects.select_related("user"), to_attr="all_mentions"),
        )
        .annotate(liked=Exists(_reaction_of(user)))
    )


def _kind_filter(queryset: models.QuerySet, feed_filter: str, user, prefix: str = "") -> models.QuerySet:
    if feed_filter == FeedFilter.POSTS:
        return queryset.filter(**{f"{prefix}kind": FeedItem.Kind.POST})
    if feed_filter == FeedFilter.EVENTS:
        return queryset.filter(**{f"{prefix}kind__in": [FeedItem.Kind.EVENT, FeedItem.Kind.CHANGE]})
    if feed_filter == FeedFilter.MENTIONS:
        return queryset.filter(pk__in=Mention.objects.filter(user_id=user.pk).values("item_id"))
    return queryset


def record_feed(user, record: models.Model, *, feed_filter: str = "", before: int | None = None) -> models.QuerySet:
    """Items on `record`'s feed (its own and those rolled up from records below it),
    newest first: one range of the placement index. The caller has checked that
    `user` may see `record`."""
    type_id = content_type_of(record).pk
    # A join, not IN (…): the database walks the placement index newest first and stops at the page's end.
    items = FeedItem.objects.filter(placements__target_type_id=type_id, placements__target_id=record.pk)
    if before is not None:
        items = items.filter(pk__lt=before)
    items = _kind_filter(items_visible_to(user, items), feed_filter, user)
    return with_details(items.order_by("-id"), user)


def my_feed(user, *, feed_filter: str = "", before: int | None = None) -> models.QuerySet:
    """Items on what `user` follows and those that mention them, newest first: one
    range of their inbox."""
    # A join on the inbox's (user, item) index, newest first, stopping at the page's end.
    entry = {"inbox_entries__user_id": user.pk}  # one filter() call: one join
    if feed_filter == FeedFilter.POSTS:
        entry["inbox_entries__kind"] = FeedItem.Kind.POST
    elif feed_filter == FeedFilter.EVENTS:
        entry["inbox_entries__kind__in"] = [FeedItem.Kind.EVENT, FeedItem.Kind.CHANGE]
    elif feed_filter == FeedFilter.MENTIONS:
        entry["inbox_entries__mentioned"] = True
    items = FeedItem.objects.filter(**entry)
    if before is not None:
        items = items.filter(pk__lt=before)
    return with_details(items_visible_to(user, items).order_by("-id"), user)


def newer_than(queryset: models.QuerySet, after: int) -> models.QuerySet:
    return queryset.filter(pk__gt=after)


def all_comments(item: FeedItem) -> models.QuerySet:
    return item.comments.select_related("author").order_by("id")
