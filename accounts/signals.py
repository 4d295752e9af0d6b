"""Keeping the cached access of accounts.backends true: whenever a user's groups or
permissions, a group's permissions, a group or permission itself or a user row changes,
or an API token is deleted, the cached access of every user it concerns is dropped.

Cache invalidation, not business rules: nothing here decides anything. Each key is
dropped at once and again after the transaction commits, so a request that read the
old rows while the change was being written cannot leave them cached.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from .backends import forget_access
from .models import ApiToken

CHANGES = {"post_add", "post_remove", "post_clear", "pre_clear"}


def forget(user_ids) -> None:
    user_ids = set(user_ids)
    forget_access(user_ids)
    transaction.on_commit(lambda: forget_access(user_ids))


def users_in_groups(group_ids):
    return get_user_model().objects.filter(groups__in=group_ids).values_list("pk", flat=True)


def user_groups_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """user.groups.add(…) / group.user_set.add(…), and the same for user.user_permissions."""
    if action not in CHANGES:
        return
    if not reverse:  # instance is the user
        forget([instance.pk])
    elif action == "pre_clear":  # group.user_set.clear(): its members, before they are gone
        forget(instance.user_set.values_list("pk", flat=True))
    elif pk_set:
        forget(pk_set)


def group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """group.permissions.add(…) / permission.group_set.add(…): every member of those groups."""
    if action not in CHANGES:
        return
    if not reverse:  # instance is the group
        forget(users_in_groups([instance.pk]))
    elif action == "pre_clear":
        forget(users_in_groups(instance.group_set.values_list("pk", flat=True)))
    elif pk_set:
        forget(users_in_groups(pk_set))


def group_deleted(sender, instance, **kwargs):
    forget(users_in_groups([instance.pk]))


def permission_deleted(sender, instance, **kwargs):
    holders = get_user_model().objects.filter(Q(user_permissions=instance) | Q(groups__permissions=instance))
    forget(holders.values_list("pk", flat=True))


def user_saved(sender, instance, created, update_fields, **kwargs):
    # is_active and is_superuser change what ModelBackend answers; signing in
    # (which saves last_login only) changes nothing cached.
    if not created and set(update_fields or ()) != {"last_login"}:
        forget([instance.pk])


def api_token_deleted(sender, instance, **kwargs):
    # Tokens are created and revoked by accounts.services, which forget for themselves;
    # deleting one (the admin) may take the user's last active token.
    forget([instance.user_id])


def connect() -> None:
    User = get_user_model()
    m2m_changed.connect(user_groups_changed, sender=User.groups.through, dispatch_uid="access_user_groups")
    m2m_changed.connect(user_groups_changed, sender=User.user_permissions.through, dispatch_uid="access_user_perms")
    m2m_changed.connect(group_permissions_changed, sender=Group.permissions.through, dispatch_uid="access_group_perms")
    pre_delete.connect(group_deleted, sender=Group, dispatch_uid="access_group_deleted")
    pre_delete.connect(permission_deleted, sender=Permission, dispatch_uid="access_permission_deleted")
    post_save.connect(user_saved, sender=User, dispatch_uid="access_user_saved")
    post_delete.connect(api_token_deleted, sender=ApiToken, dispatch_uid="access_api_token_deleted")
