"""Dunning policies and their levels: the default ladder, validation, per-customer choice."""

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from core.concurrency import check_version
from crm.models import Customer

from ..models import ZERO, DunningLevel, DunningNotice, DunningNoticeLine, DunningPolicy, Standing
from ..permissions import can_edit_dunning_policies
from .base import parse_decimal
from .templates import check_template

DEFAULT_SUBJECT = "{level}: invoices of {customer.name}"
DEFAULT_BODY = (
    "Dear {customer.name},\n\n%s\n\n{invoices}\n\nTotal: {total_due}\n{fee}\n\n"
    "If you have paid in the meantime, please ignore this message.\n\nKind regards,\n{company.name}"
)
DEFAULT_LEVELS = [
    # (days after due, name, channel, the sentence before the invoices, days for the owner's call)
    (-3, "Due soon", DunningLevel.Channel.EMAIL, "A friendly note that these invoices fall due shortly:", None),
    (3, "Friendly reminder", DunningLevel.Channel.EMAIL, "We have not yet received payment of:", None),
    (14, "Second notice", DunningLevel.Channel.EMAIL, "These invoices are still unpaid; please pay them now:", None),
    (21, "Call the customer", DunningLevel.Channel.TASK, "Please call the customer about:", 5),
    (30, "Final notice", DunningLevel.Channel.LETTER, "This is our final notice before further steps:", None),
]


def _default_body(intro: str) -> str:
    # printf-style on purpose: the braces of the template's fields stay as they are.
    return DEFAULT_BODY % intro


def get_default_policy() -> DunningPolicy:
    """The default policy, made on first use: −3 due soon, +3 friendly reminder, +14
    second notice (emails), +21 a call by the account owner (5 days), +30 final notice
    (a letter PDF), no fee."""
    policy = DunningPolicy.objects.filter(is_default=True).first()
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            name = "Standard" if not DunningPolicy.objects.filter(name="Standard").exists() else "Standard (default)"
            policy = DunningPolicy.objects.create(name=name, is_default=True)
            DunningLevel.objects.bulk_create(
                DunningLevel(
                    policy=policy,
                    order=n,
                    days_after_due=days,
                    name=name,
                    channel=channel,
                    subject_template=DEFAULT_SUBJECT,
                    body_template=_default_body(intro),
                    fee=ZERO if channel == DunningLevel.Channel.LETTER else None,
                    task_days=task_days,
                )
                for n, (days, name, channel, intro, task_days) in enumerate(DEFAULT_LEVELS, start=1)
            )
    except IntegrityError:  # made by someone else meanwhile
        return DunningPolicy.objects.get(is_default=True)
    return policy


def check_levels(levels: list[dict]) -> list[dict]:
    """The levels of a policy, checked and cleaned: each with a name, a channel, known
    template fields; in strictly increasing days after due (two levels on the same day,
    or out of order, are refused with the levels named)."""
    if not levels:
        raise ValidationError({"levels": "A policy needs at least one level."})
    cleaned = []
    for n, level in enumerate(levels, start=1):
        name = str(level.get("name") or "").strip()
        if not name:
            raise ValidationError({"levels": f"Level {n} needs a name."})
        try:
            days = int(level.get("days_after_due"))
        except (TypeError, ValueError):
            raise ValidationError(
                {"levels": f"Level {n} (“{name}”) needs its days after due, e.g. 14 or −3."}
            ) from None
        if not -365 <= days <= 3650:
            raise ValidationError({"levels": f"Level {n} (“{name}”): days after due must be between −365 and 3650."})
        channel = level.get("channel") or DunningLevel.Channel.EMAIL
        if channel not in DunningLevel.Channel.values:
            raise ValidationError({"levels": f"Level {n} (“{name}”): choose email, letter or task as its channel."})
        task_days = level.get("task_days")
        if channel == DunningLevel.Channel.TASK:
            try:
                task_days = int(task_days if task_days not in (None, "") else 5)
            except (TypeError, ValueError):
                raise ValidationError({"levels": f"Level {n} (“{name}”): the task's days must be a number."}) from None
            if not 1 <= task_days <= 90:
                raise ValidationError({"levels": f"Level {n} (“{name}”): give the owner 1 to 90 days for the call."})
        else:
            task_days = None
        cleaned.append(
            {
                "name": name[:100],
                "days_after_due": days,
                "channel": channel,
                "subject_template": check_template(
                    str(level.get("subject_template") or DEFAULT_SUBJECT), field_name="subject_template"
                )[:200],
                "body_template": check_template(
                    str(level.get("body_template") or _default_body("please pay these invoices:")),
                    field_name="body_template",
                ),
                "fee": parse_decimal(level.get("fee"), "fee", low=ZERO, high=Decimal("100000")),
                "interest_rate": parse_decimal(
                    level.get("interest_rate"), "interest_rate", low=ZERO, high=Decimal("100")
                ),
                "task_days": task_days,
            }
        )
    for before, after in zip(cleaned, cleaned[1:], strict=False):
        if after["days_after_due"] == before["days_after_due"]:
            raise ValidationError(
                {
                    "levels": f"“{before['name']}” and “{after['name']}” both start {before['days_after_due']} days "
                    "after due: the levels overlap. Give each level its own day."
                }
            )
        if after["days_after_due"] < before["days_after_due"]:
            raise ValidationError(
                {
                    "levels": f"Levels go in order of days after due: “{after['name']}” ({after['days_after_due']}) "
                    f"comes before “{before['name']}” ({before['days_after_due']})."
                }
            )
    return cleaned


@transaction.atomic
def save_policy(
    *,
    by,
    name: str,
    levels: list[dict],
    policy: DunningPolicy | None = None,
    is_default: bool = False,
    active=True,
    expected_version: int | None = None,
) -> DunningPolicy:
    """Create or change a policy and its levels (finance managers). Levels are matched by
    position: level n of `levels` becomes the policy's level n; a level that was sent
    already cannot be removed (its notices point to it). `expected_version`: the version
    the editor read; StaleVersion when the policy changed since (core.concurrency)."""
    if not can_edit_dunning_policies(by):
        raise PermissionDenied("Only finance managers edit dunning policies.")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the policy a name."})
    cleaned = check_levels(levels)
    if policy is None:
        policy = DunningPolicy(name=name[:100])
    else:
        policy = DunningPolicy.objects.select_for_update().get(pk=policy.pk)
        check_version(policy, expected_version)
        policy.name = name[:100]
        policy.version += 1
    if is_default:
        # Locked in id order, like every service that changes several policies.
        for other in DunningPolicy.objects.select_for_update().filter(is_default=True).exclude(pk=policy.pk):
            other.is_default = False
            other.version += 1
            other.save(update_fields=["is_default", "version", "updated_at"])
    elif policy.is_default:
        raise ValidationError({"is_default": "Make another policy the default first."})
    policy.is_default = is_default
    policy.active = bool(active) or is_default
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        raise ValidationError({"name": "Another policy has this name."}) from None
    existing = list(DunningLevel.objects.select_for_update().filter(policy=policy).order_by("order"))
    # Park the days first: (policy, days_after_due) is unique, and levels may swap days.
    for n, level in enumerate(existing):
        DunningLevel.objects.filter(pk=level.pk).update(days_after_due=-30000 + n)
    for n, values in enumerate(cleaned, start=1):
        level = existing[n - 1] if n <= len(existing) else DunningLevel(policy=policy, order=n)
        for key, value in values.items():
            setattr(level, key, value)
        level.save()
    for level in existing[len(cleaned) :]:
        if DunningNoticeLine.objects.filter(level=level).exists() or DunningNotice.objects.filter(level=level).exists():
            raise ValidationError({"levels": f"“{level.name}” was sent already: keep it (it may be renamed)."})
        level.delete()
    return policy


@transaction.atomic
def set_customer_policy(*, customer: Customer, by, policy: DunningPolicy | None) -> Standing:
    """Which policy reminds `customer` (None: the default). Finance managers."""
    if not can_edit_dunning_policies(by):
        raise PermissionDenied("Only finance managers choose a customer's dunning policy.")
    if policy is not None and not policy.active:
        raise ValidationError({"policy": f"The policy “{policy}” is not active."})
    Standing.objects.get_or_create(customer=customer)
    standing = Standing.objects.select_for_update().get(customer=customer)
    standing.dunning_policy = policy
    standing.save(update_fields=["dunning_policy"])
    return standing


def policy_ladders() -> tuple[dict[int, list[DunningLevel]], int]:
    """The levels of each active policy in order of days after due, and the default's id. Two queries."""
    default = get_default_policy()
    ladders: dict[int, list[DunningLevel]] = defaultdict(list)
    active = DunningLevel.objects.filter(Q(policy__active=True) | Q(policy=default)).order_by("days_after_due")
    for level in active.select_related("policy"):
        ladders[level.policy_id].append(level)
    return dict(ladders), default.pk
