"""Caching a query's result until the rows of its model change.

Each tracked model has a generation counter in Django's cache (Redis in production),
bumped whenever one of its rows is saved or deleted. A cached result is keyed on that
generation and on the query's SQL and parameters, so the same filters share one
entry, different filters (or a user who sees other rows) never do, and any change to
the model makes every older entry unreachable at once: nothing has to find and delete
them; they expire.

    track_changes(Customer)  # once, in the app's ready()
    summary = cached_result(queryset, "summary", lambda: {...})

Only for results that read the queryset's own model: a change to another table does
not bump the counter. Writes that bypass model signals (`QuerySet.update()`,
`bulk_create`, raw SQL, COPY) must call `bump_generation(Model)` themselves.
"""

import contextlib
import hashlib
import time
from collections.abc import Callable

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import transaction
from django.db.models import Model, QuerySet
from django.db.models.signals import post_delete, post_save

TIMEOUT = 60 * 60  # an hour; entries of older generations simply expire


def _generation_key(model: type[Model]) -> str:
    return f"core:generation:{model._meta.label_lower}"


def generation(model: type[Model]) -> int:
    key = _generation_key(model)
    value = cache.get(key)
    if value is None:
        # A start that cannot collide with a generation cached before a restart.
        cache.add(key, time.time_ns(), timeout=None)
        value = cache.get(key)
    return value


def bump_generation(model: type[Model]) -> None:
    """Make every cached result over `model` stale: now, and again once the current
    transaction commits (a request reading between the write and the commit would
    otherwise cache the old rows under the new generation)."""

    def bump():
        with contextlib.suppress(ValueError):  # no counter yet: the first read starts one
            cache.incr(_generation_key(model))

    bump()
    transaction.on_commit(bump)


def track_changes(model: type[Model]) -> None:
    """Bump `model`'s generation on every save and delete of one of its rows."""

    def changed(sender, **kwargs):
        bump_generation(model)

    uid = f"core.cache:{model._meta.label_lower}"
    post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid + ":save")
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid + ":delete")


def _result_key(queryset: QuerySet, name: str) -> str | None:
    """The cache key of `name` over this queryset; None when the queryset reads nothing."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # .none(): nothing to read, nothing worth caching
        return None
    digest = hashlib.sha256(repr((queryset.db, sql, params)).encode()).hexdigest()
    return f"core:result:{queryset.model._meta.label_lower}:{name}:{generation(queryset.model)}:{digest}"


def cached_result(queryset: QuerySet, name: str, compute: Callable[[], object], timeout: int = TIMEOUT):
    """`compute()`'s result for this queryset, cached until its model changes."""
    key = _result_key(queryset, name)
    if key is None:
        return compute()
    result = cache.get(key)
    if result is None:
        result = compute()
        cache.set(key, result, timeout)
    return result


def peek_result(queryset: QuerySet, name: str):
    """What `cached_result(queryset, name, …)` holds now, or None: a page shows a
    cached figure at once and asks for it later only when it is not there."""
    key = _result_key(queryset, name)
    return None if key is None else cache.get(key)
