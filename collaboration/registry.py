"""What the apps above tell collaboration, since it never imports them.

- `register_record(Model, visible=…)`: the model's records have a feed; `visible(user)`
  is the queryset of records the user may see (the app's own `visible_to`). The
  model may name `feed_parents = ("customer",)` (foreign keys whose records show
  its items too) and `tracked_fields = ("stage", "amount")` (changes that become
  feed items).
- `register_event(verb, message)`: how an event reads, e.g.
  `register_event("invoice.issued", "Invoice {number} issued for {amount}")`.
- `register_approval_kind(ApprovalKind(...))`: what people may ask approval for,
  who decides, and which service to call back with the decision.

Each app registers in its AppConfig.ready().
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from accounts.roles import ADMIN


@dataclass(frozen=True)
class RecordType:
    model: type[models.Model]
    visible: Callable[[Any], models.QuerySet]  # visible(user) -> records the user may see
    noun: str  # "customer", for sentences
    url: Callable[[int], str] | None = None  # the record's page by id, when not get_absolute_url


_records: dict[str, RecordType] = {}
_events: dict[str, str] = {}
_approval_kinds: dict[str, "ApprovalKind"] = {}


def register_record(
    model: type[models.Model],
    *,
    visible: Callable[[Any], models.QuerySet],
    noun: str = "",
    url: Callable[[int], str] | None = None,
) -> None:
    _records[model._meta.label_lower] = RecordType(model, visible, noun or str(model._meta.verbose_name), url)


def record_type(model_or_label) -> RecordType | None:
    label = model_or_label if isinstance(model_or_label, str) else model_or_label._meta.label_lower
    return _records.get(label)


def record_types() -> list[RecordType]:
    return list(_records.values())


def content_type_of(model_or_instance) -> ContentType:
    # ContentType's own cache answers after the first call of a process: no query.
    return ContentType.objects.get_for_model(model_or_instance, for_concrete_model=True)


def record_url(content_type_id: int, object_id: int) -> str:
    """The record's page, built without loading the record (`get_absolute_url` of a
    bare instance carrying only its id); empty when the model has no page."""
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    registered = record_type(model) if model is not None else None
    if registered is not None and registered.url is not None:
        return registered.url(object_id)
    if model is None or not hasattr(model, "get_absolute_url"):
        return ""
    return model(pk=object_id).get_absolute_url()


def visible_records(user, model: type[models.Model]) -> models.QuerySet:
    """Records of `model` that `user` may see; none of an unregistered model."""
    registered = record_type(model)
    if registered is None or not getattr(user, "is_authenticated", False):
        return model._default_manager.none()
    return registered.visible(user)


def may_see(user, record: models.Model) -> bool:
    return visible_records(user, type(record)).filter(pk=record.pk).exists()


def find_record(user, label: str, object_id) -> models.Model | None:
    """The record `"<app>.<model>"`/`id` if it has a feed and `user` may see it, else None."""
    registered = record_type(label)
    if registered is None:
        return None
    try:
        return visible_records(user, registered.model).get(pk=object_id)
    except (registered.model.DoesNotExist, ValueError, TypeError, OverflowError):
        return None


def feed_parents(record: models.Model) -> list[tuple[type[models.Model], int]]:
    """The records above `record` whose feeds show its items, read from the foreign
    keys named in `feed_parents` (without loading them)."""
    parents = []
    for name in getattr(type(record), "feed_parents", ()):
        field_ = record._meta.get_field(name)
        parent_id = getattr(record, field_.attname)
        if parent_id is not None:
            parents.append((field_.related_model, parent_id))
    return parents


def register_event(verb: str, message: str) -> None:
    """How an event reads: a format string over its data ("Invoice {number} issued")."""
    _events[verb] = message


def event_message(verb: str) -> str | None:
    return _events.get(verb)


@dataclass(frozen=True)
class ApprovalKind:
    """Something that needs a decision on a record of `model`.

    Decided by members of `approver_groups`, holders of `approver_permission`, and
    administrators (never by the person who asked). Once decided, `on_decided(approval, by=user)`
    is called in the same transaction: the owning app's service acts on it."""

    key: str  # "crm.discount_over_20"
    label: str  # "Discount over 20%"
    model: type[models.Model]
    approver_groups: tuple[str, ...] = ()
    approver_permission: str = ""
    on_decided: Callable[..., None] | None = field(default=None, compare=False)
    description: str = ""

    def may_approve(self, user) -> bool:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return False
        if user.is_superuser or user.has_role(ADMIN):
            return True
        if self.approver_permission and user.has_perm(self.approver_permission):
            return True
        return bool(self.approver_groups) and user.has_role(*self.approver_groups)


def register_approval_kind(kind: ApprovalKind) -> None:
    _approval_kinds[kind.key] = kind


def unregister_approval_kind(key: str) -> None:
    _approval_kinds.pop(key, None)


def approval_kind(key: str) -> ApprovalKind | None:
    return _approval_kinds.get(key)


def approval_kinds_for(model: type[models.Model]) -> list[ApprovalKind]:
    label = model._meta.label_lower
    return [kind for kind in _approval_kinds.values() if kind.model._meta.label_lower == label]


def approval_kinds() -> list[ApprovalKind]:
    return list(_approval_kinds.values())
