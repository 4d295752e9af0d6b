"""Who may change which fields of a record, declared once per model.

An app lists its field groups in its own `permissions.py`:

    CUSTOMER_FIELDS = FieldPolicy(
        FieldGroup("billing", "billing details", ("tax_id", ...), reason="Kept by finance.",
                   rule=lambda user, customer: user.has_perm("crm.change_customer_billing")),
        ...
    )

and its service, form, record page, admin and API all read that one object:
the service refuses a change to a field outside `editable(user, obj)`, the form
disables those fields with the group's `reason` as help text, the record page says
which groups the user may change (`split`), the admin shows them read-only.
`obj` is None when the record is being created.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

Rule = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class FieldGroup:
    """Fields one rule lets a user change, and why they are read-only to the others."""

    name: str  # for code: "billing"
    label: str  # for people: "billing details"
    fields: tuple[str, ...]
    reason: str  # shown on a read-only field: "Kept by finance."
    rule: Rule  # rule(user, obj) -> may this user change these fields of obj (None: a new record)?
    kept_by: str = ""  # who changes them, for a sentence: "finance managers"
    plural: bool = False  # is the label plural ("billing details are kept by …")?


class FieldPolicy:
    """The field groups of one model; every field belongs to exactly one group."""

    def __init__(self, *groups: FieldGroup):
        self.groups = groups
        self._group_of: dict[str, FieldGroup] = {}
        for group in groups:
            for field in group.fields:
                if field in self._group_of:
                    raise ValueError(f"{field!r} is in both {self._group_of[field].name!r} and {group.name!r}")
                self._group_of[field] = group

    @property
    def fields(self) -> tuple[str, ...]:
        """Every guarded field, group by group."""
        return tuple(self._group_of)

    def group_of(self, field: str) -> FieldGroup:
        return self._group_of[field]

    def reason(self, field: str) -> str:
        return self._group_of[field].reason

    def allowed_groups(self, user, obj=None) -> list[FieldGroup]:
        if user is None or not user.is_authenticated:
            return []
        return [group for group in self.groups if group.rule(user, obj)]

    def editable(self, user, obj=None) -> frozenset[str]:
        """The fields `user` may set on `obj` (on a new record when None)."""
        return frozenset(field for group in self.allowed_groups(user, obj) for field in group.fields)

    def forbidden(self, user, obj, fields: Iterable[str]) -> list[str]:
        """Of `fields`, those `user` may not change, sorted; unknown names are forbidden too."""
        return sorted(set(fields) - self.editable(user, obj))

    def describe(self, user, obj=None) -> str:
        """Who may change what, as a sentence for `user`: "You may change the general
        details and billing details; the credit limit is kept by finance managers."
        Empty when they may change nothing."""
        allowed, others = self.split(user, obj)
        if not allowed:
            return ""
        sentence = "You may change the " + join_words([group.label for group in allowed])
        for group in others:
            verb = "are" if group.plural else "is"
            if group.kept_by:
                sentence += f"; the {group.label} {verb} kept by {group.kept_by}"
            else:
                sentence += f"; not the {group.label} ({group.reason.rstrip('.')})"
        return sentence + "."

    def split(self, user, obj=None) -> tuple[list[FieldGroup], list[FieldGroup]]:
        """(groups the user may change, groups they may not), in declaration order."""
        allowed = self.allowed_groups(user, obj)
        return allowed, [group for group in self.groups if group not in allowed]


def join_words(words: list[str]) -> str:
    """["a"] → "a"; ["a", "b", "c"] → "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
