"""Authentication backend: Django's ModelBackend with each user's access cached.

Every signed-in page asks "may this user …?" (the navigation, the views' permission
checks, the API's model permissions), shows the user's roles, and places the API links
by whether the user holds an API token (User.is_integrator). Without a cache that
is three queries per request (the user's own permissions, their groups' permissions,
their groups) for facts that change a few times a year. Here they are read once and
kept in Django's cache (Redis in production) under one key per user; the key is
deleted whenever what it holds may have changed (accounts.signals): the user's groups
or own permissions, a group's permissions, a deleted group or permission, the user
row itself (is_active, is_superuser), or one of the user's API tokens.
"""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.cache import cache

# Bump when the cached value's shape changes: old entries are then simply never read.
VERSION = 2
TIMEOUT = 60 * 60 * 24  # a day: invalidation is explicit; the timeout only bounds a missed signal


def access_key(user_id) -> str:
    return f"accounts:access:v{VERSION}:{user_id}"


class CachedModelBackend(ModelBackend):
    """ModelBackend whose `get_all_permissions` and the user's groups come from the cache
    on a warm request. Answers are the same as ModelBackend's: the cache holds exactly
    what ModelBackend computed."""

    def get_user(self, user_id):
        user = super().get_user(user_id)
        if user is not None:
            load_access(user)
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            load_access(user_obj)
        return user_obj._perm_cache


def load_access(user) -> None:
    """Give `user` its permissions (`_perm_cache`, as ModelBackend keeps them), its
    groups (as if prefetched, so `user.groups.all()` and `user.role_names` need no
    query) and whether it holds an active API token (`_holds_api_token`, read by
    User.is_integrator), from the cache, or computed and cached."""
    if not user.is_active:
        return
    key = access_key(user.pk)
    access = cache.get(key)
    if access is None:
        permissions = ModelBackend().get_all_permissions(user)
        groups = list(user.groups.values_list("id", "name"))
        holds_api_token = user.api_tokens.active().exists()
        access = {"permissions": sorted(permissions), "groups": groups, "holds_api_token": holds_api_token}
        cache.set(key, access, TIMEOUT)
    user._perm_cache = set(access["permissions"])
    user._holds_api_token = access["holds_api_token"]
    groups = [Group.from_db(user._state.db or "default", ["id", "name"], row) for row in access["groups"]]
    # The related manager serves .all() from this, exactly as after prefetch_related("groups");
    # groups.add()/remove() on this object drop it again.
    queryset = user.groups.all()
    queryset._result_cache = groups
    queryset._prefetch_done = True
    user._prefetched_objects_cache = {**getattr(user, "_prefetched_objects_cache", {}), "groups": queryset}


def forget_access(user_ids) -> None:
    """Drop the cached access of these users (the next request recomputes it)."""
    keys = [access_key(user_id) for user_id in set(user_ids)]
    if keys:
        cache.delete_many(keys)
