""" "Anything new since X?" for pages that stay open.

A record page and My feed ask every couple of seconds. The answer must cost next to
nothing while nothing happens, so it comes from the cache (Redis in production):
the id of the newest item on each record, of the newest item in each person's My
feed, and each person's unread count. Publishing writes them once its transaction
commits; a page that sees a newer id than the one it shows asks for the new items.
A cache that lost a key answers from the database once and keeps the answer.
"""

from collections.abc import Callable, Iterable, Sequence

from django.core.cache import cache
from django.db import transaction

TIMEOUT = 60 * 60 * 24


def _record_key(type_id: int, object_id: int) -> str:
    return f"collab:last:{type_id}:{object_id}"


def _inbox_key(user_id: int) -> str:
    return f"collab:inbox:{user_id}"


def _unread_key(user_id: int) -> str:
    return f"collab:unread:{user_id}"


def announce(item_id: int, keys: Sequence[tuple[int, int]], user_ids: Iterable[int]) -> None:
    """Once committed: item `item_id` is the newest on these records and in these
    people's My feeds."""
    values = {_record_key(*key): item_id for key in keys}
    values.update({_inbox_key(uid): item_id for uid in user_ids})
    transaction.on_commit(lambda: cache.set_many(values, TIMEOUT))


def announce_inbox(user_ids: Iterable[int]) -> None:
    """These people's My feed changed in another way (a new follow): look again."""
    keys = [_inbox_key(uid) for uid in user_ids]
    transaction.on_commit(lambda: cache.delete_many(keys))


def _remembered(key: str, compute: Callable[[], int]) -> int:
    """The cached value, or `compute()`'s once (kept for the next asker)."""
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.add(key, value, TIMEOUT)
    return value


def newest_on_record(type_id: int, object_id: int) -> int:
    def newest():
        from .models import FeedPlacement

        placements = FeedPlacement.objects.filter(target_type_id=type_id, target_id=object_id)
        return placements.order_by("-item_id").values_list("item_id", flat=True).first() or 0

    return _remembered(_record_key(type_id, object_id), newest)


def newest_in_inbox(user_id: int) -> int:
    def newest():
        from .models import InboxEntry

        entries = InboxEntry.objects.filter(user_id=user_id)
        return entries.order_by("-item_id").values_list("item_id", flat=True).first() or 0

    return _remembered(_inbox_key(user_id), newest)


def unread_count(user_id: int) -> int:
    """The number on the bell."""
    from .models import Notification

    return _remembered(
        _unread_key(user_id), lambda: Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()
    )


def forget_unread(user_ids: Iterable[int]) -> None:
    """These people's unread count changed: count again next time (now and after commit)."""
    keys = [_unread_key(uid) for uid in set(user_ids)]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))
