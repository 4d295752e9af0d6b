"""Dunning: reminding customers of what they owe, by policy, one notice per customer,
and never while the relationship says "wait".

- A policy (DunningPolicy) is a ladder of levels by days after the due date; each level
  has a channel (email, a letter PDF by email, or a task for the account owner), subject
  and body templates over a fixed set of fields (TEMPLATE_FIELDS), and may charge a fee or
  interest — open items of their own (DunningFee), never added to an invoice.
- `holds_for(customers, as_of)` reads, for many customers at once and live from the
  records, why they must not be reminded: a late-stage deal, an open dispute or serious
  service case, an active promise to pay, a manual dunning hold.
- `plan_dunning(as_of)` chooses, per customer, each overdue invoice at its own level and
  says who is skipped and why. The preview and the run both call it.
- `run_dunning(as_of, by)` records a run and hands the customers to Celery in batches
  (`make_notices`), each notice then sent once by `send_notice`. Safe under retries and
  crashes: a notice per (run, customer) and a level per invoice are unique in the
  database, sending is claimed with a conditional UPDATE, and each email goes once per
  notice (core.mail.send_once).
- Disputes, promises, manual holds and the owner's collection tasks are changed only here,
  and each change is told on the customer's feed.
"""

import logging
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from string import Formatter

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, Sum
from django.utils import timezone

import collaboration
from billing.models import CreditNote, Invoice
from core import documents, mail
from core.money import format_amount, round_money
from crm.models import Customer, Opportunity, ServiceCase

from . import aging
from .models import (
    ZERO,
    CollectionTask,
    Dispute,
    DunningFee,
    DunningHold,
    DunningLevel,
    DunningNotice,
    DunningNoticeLine,
    DunningPolicy,
    DunningRun,
    PaymentPromise,
    Standing,
)
from .permissions import (
    can_complete_task,
    can_edit_dunning_policies,
    can_open_dispute,
    can_resolve_disputes,
    can_run_dunning,
    can_set_dunning_holds,
    can_take_promises,
)

logger = logging.getLogger(__name__)

__all__ = [
    "LETTER_DOCUMENT",
    "TEMPLATE_FIELDS",
    "CustomerPlan",
    "DunningConflict",
    "DunningPlan",
    "Holds",
    "check_levels",
    "check_template",
    "complete_task",
    "evaluate_promises",
    "get_default_policy",
    "holds_for",
    "make_notices",
    "open_dispute",
    "plan_dunning",
    "release_dunning_hold",
    "resolve_dispute",
    "resume_run",
    "run_dunning",
    "save_policy",
    "send_notice",
    "set_customer_policy",
    "set_dunning_hold",
    "take_promise",
    "cancel_promise",
]

CENT = Decimal("0.01")
LETTER_DOCUMENT = "receivables.dunning_letter"
BATCH_SIZE = 100  # customers per Celery task: ≈100 items a task, never one task per row
MAX_ATTEMPTS = 5  # a notice that fails this often is marked failed (the run's summary says so)
# A claim older than this is taken over: the worker that held it died (past the task's hard limit).
STALE_CLAIM = timedelta(seconds=getattr(settings, "CELERY_TASK_TIME_LIMIT", 300) + 60)
# The 48-hour rule, in days of the runs' as-of dates: a notice as of D blocks D and D+1.
MESSAGE_GAP_DAYS = 2


class DunningConflict(ValidationError):
    """Dunning cannot do this now (a run is in progress, the dispute is resolved…):
    a message on pages, a 409 in the API."""


# --- templates ------------------------------------------------------------------------------

# The fields a subject or body may use, as {name}. Anything else is refused when the policy
# is saved, so a notice never fails for a typo, and no template reaches an object's attributes.
TEMPLATE_FIELDS = {
    "customer.name": "the customer's name",
    "customer.number": "the customer's number",
    "invoices": "the invoices of the notice, one a line: number, due date, days overdue, balance",
    "total_due": "what the notice asks for, per currency",
    "oldest_due_date": "the due date of the oldest invoice in the notice",
    "days_overdue": "how many days the oldest invoice is overdue",
    "level": "the level's name",
    "fee": "the fees and interest charged with the notice (empty when none)",
    "as_of": "the day of the run",
    "company.name": "our company's name",
}


class _FlatFormatter(Formatter):
    """str.format over a flat dict whose keys may contain dots: {customer.name} is the
    key "customer.name", never an attribute lookup."""

    def get_field(self, field_name, args, kwargs):
        return kwargs[field_name], field_name


def check_template(text: str, *, field_name: str = "template") -> str:
    """`text` if it uses only TEMPLATE_FIELDS (no format specs); else a ValidationError
    naming the field it does not know."""
    try:
        parsed = list(Formatter().parse(text or ""))
    except ValueError as error:
        raise ValidationError(
            {field_name: f"The template cannot be read ({error}). Write a literal brace as {{{{ or }}}}."}
        ) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in TEMPLATE_FIELDS:
            known = ", ".join(f"{{{known}}}" for known in TEMPLATE_FIELDS)
            raise ValidationError({field_name: f"Unknown field {{{name}}} in the template. Use one of: {known}."})
        if spec or conversion:
            raise ValidationError({field_name: f"Write the field {{{name}}} without a format (no “:” or “!”)."})
    return text or ""


def render_template(text: str, values: dict[str, str]) -> str:
    return _FlatFormatter().vformat(text, (), values)


# --- policies -------------------------------------------------------------------------------

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


def _decimal(value, field_name: str, *, low: Decimal, high: Decimal | None = None) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({field_name: "Enter a number such as 12.50."}) from None
    if not number.is_finite() or number < low or (high is not None and number > high):
        limit = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValidationError({field_name: f"Enter an amount {limit}."})
    return number.quantize(CENT)


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
                "fee": _decimal(level.get("fee"), "fee", low=ZERO, high=Decimal("100000")),
                "interest_rate": _decimal(level.get("interest_rate"), "interest_rate", low=ZERO, high=Decimal("100")),
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
    *, by, name: str, levels: list[dict], policy: DunningPolicy | None = None, is_default: bool = False, active=True
) -> DunningPolicy:
    """Create or change a policy and its levels (finance managers). Levels are matched by
    position: level n of `levels` becomes the policy's level n; a level that was sent
    already cannot be removed (its notices point to it)."""
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
        policy.name = name[:100]
    if is_default:
        # Locked in id order, like every service that changes several policies.
        for other in DunningPolicy.objects.select_for_update().filter(is_default=True).exclude(pk=policy.pk):
            other.is_default = False
            other.save(update_fields=["is_default", "updated_at"])
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


def _policies() -> tuple[dict[int, list[DunningLevel]], int]:
    """The levels of each active policy in order of days after due, and the default's id. Two queries."""
    default = get_default_policy()
    ladders: dict[int, list[DunningLevel]] = defaultdict(list)
    active = DunningLevel.objects.filter(Q(policy__active=True) | Q(policy=default)).order_by("days_after_due")
    for level in active.select_related("policy"):
        ladders[level.policy_id].append(level)
    return dict(ladders), default.pk


# --- holds ----------------------------------------------------------------------------------


@dataclass
class Holds:
    """Why a customer, or some of its invoices, must not be reminded now: (kind, text)
    pairs; kind is one of deal, service_case, dispute, promise, manual_hold."""

    customer: list[tuple[str, str]] = field(default_factory=list)
    invoices: dict[int, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))

    def for_invoice(self, invoice_id: int) -> list[tuple[str, str]]:
        return self.customer + self.invoices.get(invoice_id, [])


def _ids(customers) -> list[int] | None:
    if customers is None:
        return None
    return [c if isinstance(c, int) else c.pk for c in customers]


def _where(queryset, ids: list[int] | None, path: str = "customer_id"):
    return queryset if ids is None else queryset.filter(**{f"{path}__in": ids})


def hold_thresholds() -> tuple[int, Decimal]:
    conf = settings.RECEIVABLES
    return int(conf.get("DUNNING_HOLD_PROBABILITY", 75)), Decimal(str(conf.get("DUNNING_HOLD_AMOUNT", "50000")))


def holds_for(customers: Iterable | None, as_of: date) -> dict[int, Holds]:
    """Per customer id (only those held), the reasons to hold back its reminders on
    `as_of`, read live from the records (no nightly sync): five queries for any number
    of customers (None: all)."""
    ids = _ids(customers)
    held: dict[int, Holds] = defaultdict(Holds)
    probability, amount = hold_thresholds()
    deals = _where(Opportunity.objects.open(), ids).filter(
        Q(stage__probability__gte=probability) | Q(amount__gte=amount)
    )
    for deal in deals.values("customer_id", "name", "stage__name", "stage__probability", "amount", "currency"):
        held[deal["customer_id"]].customer.append(
            (
                "deal",
                f"the deal “{deal['name']}” is in {deal['stage__name']} ({deal['stage__probability']}%, "
                f"{format_amount(deal['amount'])} {deal['currency']})",
            )
        )
    for case in _where(ServiceCase.objects.serious(), ids).values(
        "customer_id", "subject", "severity", "invoice_number"
    ):
        about = f" about invoice {case['invoice_number']}" if case["invoice_number"] else ""
        held[case["customer_id"]].customer.append(
            ("service_case", f"a {case['severity']} service case is open{about}: “{case['subject']}”")
        )
    disputes = _where(Dispute.objects.open(), ids, "invoice__customer_id")
    for dispute in disputes.values("invoice_id", "invoice__customer_id", "invoice__number", "amount", "reason"):
        held[dispute["invoice__customer_id"]].invoices[dispute["invoice_id"]].append(
            (
                "dispute",
                f"invoice {dispute['invoice__number']} is disputed ({format_amount(dispute['amount'])}): "
                f"{dispute['reason']}",
            )
        )
    promises = _where(PaymentPromise.objects.active().filter(promised_for__gte=as_of), ids)
    for promise in promises.values(
        "customer_id", "invoice_id", "invoice__number", "amount", "currency", "promised_for"
    ):
        on = f" on invoice {promise['invoice__number']}" if promise["invoice_id"] else ""
        reason = (
            "promise",
            f"{format_amount(promise['amount'])} {promise['currency']} promised{on} by {promise['promised_for']:%Y-%m-%d}",
        )
        _place(held[promise["customer_id"]], promise["invoice_id"], reason)
    manual = _where(DunningHold.objects.active(as_of), ids)
    for hold in manual.values("customer_id", "invoice_id", "invoice__number", "reason", "until"):
        on = f" invoice {hold['invoice__number']}" if hold["invoice_id"] else ""
        until = f" until {hold['until']:%Y-%m-%d}" if hold["until"] else ""
        _place(held[hold["customer_id"]], hold["invoice_id"], ("manual_hold", f"held{on}{until}: {hold['reason']}"))
    return dict(held)


def _place(holds: Holds, invoice_id: int | None, reason: tuple[str, str]) -> None:
    if invoice_id is None:
        holds.customer.append(reason)
    else:
        holds.invoices[invoice_id].append(reason)


# --- selection ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedLine:
    """An invoice to remind, at its level, on what it still owes."""

    invoice_id: int
    number: str
    due_date: date
    days_overdue: int
    balance: Decimal
    currency: str
    level: DunningLevel


@dataclass(frozen=True)
class Skip:
    """Why something is not reminded: the whole customer (invoice_id None) or one invoice."""

    reason: str  # deal, service_case, dispute, promise, manual_hold, recent_notice, waiting_for_task
    text: str
    invoice_id: int | None = None
    number: str = ""


@dataclass
class CustomerPlan:
    customer_id: int
    name: str
    owner_id: int | None
    policy_id: int
    lines: list[PlannedLine] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)

    @property
    def level(self) -> DunningLevel | None:
        """The notice's level: the highest among its lines (it chooses the channel)."""
        return max((line.level for line in self.lines), key=lambda level: level.days_after_due, default=None)

    @property
    def channel(self) -> str:
        return self.level.channel if self.level else ""

    @property
    def skip_text(self) -> str:
        return "; ".join(skip.text for skip in self.skipped if skip.invoice_id is None)


@dataclass
class DunningPlan:
    """Who gets what at which level as of a day, and who is skipped and why."""

    as_of: date
    customers: list[CustomerPlan]

    @property
    def to_send(self) -> list[CustomerPlan]:
        return [plan for plan in self.customers if plan.lines]

    @property
    def skipped(self) -> list[CustomerPlan]:
        return [plan for plan in self.customers if plan.skipped]

    def skipped_by_reason(self) -> dict[str, int]:
        """A customer held as a whole counts once per reason; an invoice held counts once."""
        counts = Counter(skip.reason for plan in self.customers for skip in plan.skipped)
        return dict(sorted(counts.items()))

    def for_customer(self, customer_id: int) -> CustomerPlan | None:
        return next((plan for plan in self.customers if plan.customer_id == customer_id), None)


def _level_for(ladder: list[DunningLevel], days_overdue: int) -> DunningLevel | None:
    """The highest level whose day has come."""
    position = bisect_right([level.days_after_due for level in ladder], days_overdue)
    return ladder[position - 1] if position else None


def plan_dunning(as_of: date, customers: Iterable | None = None) -> DunningPlan:
    """Per customer (all, or those given), the open invoices to remind as of `as_of`, each
    at the highest level of its policy whose day has come and that is above every level
    sent for it already (a level jumped over is not sent later), on its remaining balance;
    and what is skipped, with the reason: holds (holds_for), a notice to the customer in
    the last 48 hours (across channels), an owner's call not yet due. Paid, zero-balance,
    draft and void invoices never appear. A read (it may create the default policy): the
    preview and the run's batches both call it. About ten queries, whatever the size."""
    ladders, default_id = _policies()
    earliest = min((level.days_after_due for ladder in ladders.values() for level in ladder), default=None)
    if earliest is None:
        return DunningPlan(as_of=as_of, customers=[])
    ids = _ids(customers)
    invoices = _where(
        Invoice.objects.open().filter(
            balance_due__gte=CENT, issue_date__lte=as_of, due_date__lte=as_of - timedelta(days=earliest)
        ),
        ids,
    )
    rows = list(
        invoices.order_by("customer_id", "due_date", "pk").values(
            "pk",
            "number",
            "customer_id",
            "customer__name",
            "customer__owner_id",
            "customer__standing__dunning_policy_id",
            "due_date",
            "balance_due",
            "currency",
        )
    )
    if not rows:
        return DunningPlan(as_of=as_of, customers=[])
    customer_ids = sorted({row["customer_id"] for row in rows})
    candidate_ids = invoices.values("pk")
    sent_up_to = dict(
        DunningNoticeLine.objects.filter(invoice__in=candidate_ids)
        .order_by()
        .values("invoice_id")
        .annotate(days=Max("level__days_after_due"))
        .values_list("invoice_id", "days")
    )
    last_notice = dict(
        DunningNotice.objects.filter(customer_id__in=customer_ids)
        .exclude(status__in=(DunningNotice.Status.FAILED, DunningNotice.Status.SKIPPED))
        .order_by()
        .values("customer_id")
        .annotate(last=Max("run__as_of"))
        .values_list("customer_id", "last")
    )
    waiting = dict(
        CollectionTask.objects.filter(
            customer_id__in=customer_ids, status=CollectionTask.Status.OPEN, due__gt=as_of
        ).values_list("notice__lines__invoice_id", "due")
    )
    holds = holds_for(customer_ids, as_of)

    plans: list[CustomerPlan] = []
    by_customer: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_customer[row["customer_id"]].append(row)
    for customer_id, invoice_rows in by_customer.items():
        first = invoice_rows[0]
        policy_id = first["customer__standing__dunning_policy_id"]
        if policy_id not in ladders:
            policy_id = default_id  # none chosen, or an inactive one
        plan = CustomerPlan(
            customer_id=customer_id,
            name=first["customer__name"],
            owner_id=first["customer__owner_id"],
            policy_id=policy_id,
        )
        held = holds.get(customer_id, Holds())
        for row in invoice_rows:
            days = (as_of - row["due_date"]).days
            level = _level_for(ladders[policy_id], days)
            if level is None:
                continue
            sent = sent_up_to.get(row["pk"])
            if sent is not None and level.days_after_due <= sent:
                continue  # nothing new for this invoice
            reasons = held.invoices.get(row["pk"], [])
            if reasons:
                plan.skipped.extend(Skip(kind, text, row["pk"], row["number"]) for kind, text in reasons)
            elif row["pk"] in waiting:
                plan.skipped.append(
                    Skip(
                        "waiting_for_task",
                        f"invoice {row['number']} waits for the owner's call (due {waiting[row['pk']]:%Y-%m-%d})",
                        row["pk"],
                        row["number"],
                    )
                )
            else:
                plan.lines.append(
                    PlannedLine(
                        invoice_id=row["pk"],
                        number=row["number"],
                        due_date=row["due_date"],
                        days_overdue=days,
                        balance=row["balance_due"],
                        currency=row["currency"],
                        level=level,
                    )
                )
        if plan.lines:
            last = last_notice.get(customer_id)
            if held.customer:
                plan.skipped[:0] = [Skip(kind, text) for kind, text in held.customer]
                plan.lines = []
            elif last is not None and last > as_of - timedelta(days=MESSAGE_GAP_DAYS):
                plan.skipped.insert(
                    0,
                    Skip("recent_notice", f"a notice went to the customer less than 48 hours before ({last:%Y-%m-%d})"),
                )
                plan.lines = []
        if plan.lines or plan.skipped:
            plans.append(plan)
    return DunningPlan(as_of=as_of, customers=plans)


# --- the run --------------------------------------------------------------------------------


def check_run_date(value) -> date:
    """The run's as-of day: today when empty; never in the future."""
    today = timezone.localdate()
    if value in (None, ""):
        return today
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError({"as_of": "Enter a date such as 2026-03-31."}) from None
    if value > today:
        raise ValidationError({"as_of": "Dunning runs as of today or a past day, never a future one."})
    return value


def _running_conflict() -> DunningConflict:
    running = DunningRun.objects.filter(status=DunningRun.Status.RUNNING).select_related("started_by").first()
    who = f", started by {running.started_by}" if running and running.started_by else ""
    day = f" as of {running.as_of:%Y-%m-%d}" if running else ""
    return DunningConflict(f"A dunning run{day} is in progress{who}: wait for it to finish.", code="running")


def run_dunning(*, as_of, by) -> DunningRun:
    """Start a dunning run as of `as_of` (clerks): records the run and its plan's summary,
    then, once committed, hands the customers to Celery in batches (make_notices), whose
    notices are sent by send_notice. Refuses a future day and a second run while one runs."""
    if not can_run_dunning(by):
        raise PermissionDenied("Only finance runs dunning.")
    return start_run(as_of=check_run_date(as_of), by=by)


def start_run(*, as_of: date, by=None) -> DunningRun:
    """run_dunning without the permission check: the beat's daily run (by=None)."""
    as_of = check_run_date(as_of)
    if DunningRun.objects.filter(status=DunningRun.Status.RUNNING).exists():
        raise _running_conflict()
    plan = plan_dunning(as_of)
    customer_ids = [customer.customer_id for customer in plan.to_send]
    try:
        with transaction.atomic():
            # The partial unique index on status="running" makes "one at a time" hold under a race.
            run = DunningRun.objects.create(
                as_of=as_of,
                status=DunningRun.Status.RUNNING,
                started_by=by if getattr(by, "pk", None) else None,
                totals={"planned": len(customer_ids), "skipped": plan.skipped_by_reason()},
                progress_total=len(customer_ids),
            )
            if not customer_ids:
                _finish_if_done(run.pk)
            else:
                run_id = run.pk
                transaction.on_commit(lambda: _dispatch(run_id, customer_ids), robust=True)
    except IntegrityError:
        raise _running_conflict() from None
    run.refresh_from_db()
    return run


def _dispatch(run_id: int, customer_ids: list[int]) -> None:
    from .tasks import dunning_batch  # the task module imports this one

    for start in range(0, len(customer_ids), BATCH_SIZE):
        dunning_batch.delay(run_id, customer_ids[start : start + BATCH_SIZE])


def resume_run(*, run: DunningRun, by) -> DunningRun:
    """Hand a running run's customers to Celery again (after a worker crashed): batches
    skip customers that have their notice already and queue again those not yet sent."""
    if not can_run_dunning(by):
        raise PermissionDenied("Only finance runs dunning.")
    run = DunningRun.objects.get(pk=run.pk)
    if run.status != DunningRun.Status.RUNNING:
        raise DunningConflict("This run is not in progress: there is nothing to resume.", code="not_running")
    unsent = DunningNotice.objects.filter(
        run=run, status__in=(DunningNotice.Status.PENDING, DunningNotice.Status.SENDING)
    ).values_list("customer_id", flat=True)
    planned = [customer.customer_id for customer in plan_dunning(run.as_of).to_send]
    _dispatch(run.pk, sorted(set(planned) | set(unsent)))
    return run


def _advance(run_id: int, *, sent: int = 0, failed: int = 0, skipped: int = 0) -> None:
    DunningRun.objects.filter(pk=run_id).update(
        progress_done=F("progress_done") + sent + failed + skipped,
        notices_sent=F("notices_sent") + sent,
        notices_failed=F("notices_failed") + failed,
        notices_skipped=F("notices_skipped") + skipped,
    )
    _finish_if_done(run_id)


def _finish_if_done(run_id: int) -> None:
    DunningRun.objects.filter(
        pk=run_id, status=DunningRun.Status.RUNNING, progress_done__gte=F("progress_total")
    ).update(status=DunningRun.Status.DONE, finished_at=timezone.now())


def _recipient(customer: Customer) -> str:
    if customer.email:
        return customer.email
    return getattr(customer, "primary_contact_email", None) or ""


def _amounts(totals: dict[str, Decimal]) -> str:
    return "; ".join(f"{format_amount(amount)} {currency}" for currency, amount in sorted(totals.items()))


def _charges(plan: CustomerPlan, currency: str) -> list[tuple[str, Decimal, str]]:
    """(kind, amount, currency) of the fee and interest the notice charges: the notice
    level's fee in the customer's currency; interest per line whose level has a rate,
    on its balance for its days overdue, summed per currency, rounded half-up."""
    charges = []
    level = plan.level
    if level is not None and level.fee and level.fee > 0:
        charges.append((DunningFee.Kind.FEE, round_money(level.fee), currency))
    interest: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in plan.lines:
        if line.level.interest_rate and line.days_overdue > 0:
            interest[line.currency] += line.balance * line.level.interest_rate / 100 * line.days_overdue / 365
    for line_currency, amount in sorted(interest.items()):
        if round_money(amount) > 0:
            charges.append((DunningFee.Kind.INTEREST, round_money(amount), line_currency))
    return charges


def _render(plan: CustomerPlan, customer: Customer, as_of: date, charges) -> tuple[str, str]:
    level = plan.level
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in plan.lines:
        totals[line.currency] += line.balance
    oldest = min(plan.lines, key=lambda line: line.due_date)
    invoices = "\n".join(
        f"- {line.number}, due {line.due_date:%Y-%m-%d}"
        + (f", {line.days_overdue} days overdue" if line.days_overdue > 0 else "")
        + f": {format_amount(line.balance)} {line.currency}"
        for line in plan.lines
    )
    fee = "\n".join(
        f"{'A dunning fee' if kind == DunningFee.Kind.FEE else 'Interest'} of {format_amount(amount)} {currency} "
        "is charged separately."
        for kind, amount, currency in charges
    )
    values = {
        "customer.name": customer.name,
        "customer.number": str(customer.pk),
        "invoices": invoices,
        "total_due": _amounts(totals),
        "oldest_due_date": f"{oldest.due_date:%Y-%m-%d}",
        "days_overdue": str(max(oldest.days_overdue, 0)),
        "level": level.name,
        "fee": fee,
        "as_of": f"{as_of:%Y-%m-%d}",
        "company.name": settings.COMPANY.get("name", ""),
    }
    return render_template(level.subject_template, values)[:300], render_template(level.body_template, values)


def make_notices(*, run_id: int, customer_ids: list[int]) -> list[int]:
    """A batch of a run: for each customer, its notice and lines as planned now, in one
    transaction per customer; the ids of the notices to send. Safe to run twice: a customer
    with a notice in this run already is not planned again (a pending one is queued again),
    and (invoice, level) is unique, so a line made by another run meanwhile rolls the
    customer's notice back and it is recorded as skipped."""
    run = DunningRun.objects.get(pk=run_id)
    if run.status != DunningRun.Status.RUNNING:
        return []
    existing = dict(
        DunningNotice.objects.filter(run=run, customer_id__in=customer_ids).values_list("customer_id", "status")
    )
    to_send = list(
        DunningNotice.objects.filter(
            run=run, customer_id__in=customer_ids, status=DunningNotice.Status.PENDING
        ).values_list("pk", flat=True)
    )
    todo = [customer_id for customer_id in customer_ids if customer_id not in existing]
    plan = {customer.customer_id: customer for customer in plan_dunning(run.as_of, todo).customers} if todo else {}
    customers = Customer.objects.with_primary_contact().in_bulk(todo)
    for customer_id in todo:
        customer = customers.get(customer_id)
        if customer is None:
            continue
        planned = plan.get(customer_id)
        if planned is None or not planned.lines:
            why = planned.skip_text if planned else "nothing is due any more"
            _skip(run, customer, why or "nothing is due any more")
            continue
        try:
            with transaction.atomic():
                notice = _create_notice(run, customer, planned)
        except IntegrityError:
            _skip(run, customer, "another run reminded these invoices meanwhile")
            continue
        to_send.append(notice.pk)
    for notice_id in to_send:
        _queue_send(notice_id)
    return to_send


def _skip(run: DunningRun, customer: Customer, why: str) -> None:
    with transaction.atomic():
        _, created = DunningNotice.objects.get_or_create(
            run=run,
            customer=customer,
            defaults={"status": DunningNotice.Status.SKIPPED, "skip_reason": why[:300], "channel": "email"},
        )
        if created:
            _advance(run.pk, skipped=1)


def _create_notice(run: DunningRun, customer: Customer, planned: CustomerPlan) -> DunningNotice:
    charges = _charges(planned, customer.currency)
    subject, body = _render(planned, customer, run.as_of, charges)
    notice = DunningNotice.objects.create(
        run=run,
        customer=customer,
        channel=planned.channel,
        level=planned.level,
        sent_to="" if planned.channel == DunningLevel.Channel.TASK else _recipient(customer)[:254],
        subject=subject,
        body=body,
    )
    DunningNoticeLine.objects.bulk_create(
        DunningNoticeLine(
            notice=notice,
            invoice_id=line.invoice_id,
            level=line.level,
            balance=line.balance,
            days_overdue=line.days_overdue,
        )
        for line in planned.lines
    )
    DunningFee.objects.bulk_create(
        DunningFee(customer=customer, notice=notice, kind=kind, amount=amount, currency=currency)
        for kind, amount, currency in charges
    )
    return notice


def _queue_send(notice_id: int) -> None:
    from .tasks import send_dunning_notice

    transaction.on_commit(lambda: send_dunning_notice.delay(notice_id), robust=True)


def send_notice(*, notice_id: int) -> bool:
    """Send one notice, once: claimed with a conditional UPDATE (pending → sending, or a
    claim gone stale), emailed under the key of the notice (core.mail.send_once), or for a
    task level made into the owner's CollectionTask. True if it was sent now. A failure
    puts it back to pending and raises (the task retries) until MAX_ATTEMPTS, then it is
    failed; a notice without an address fails at once."""
    now = timezone.now()
    claimed = (
        DunningNotice.objects.filter(pk=notice_id)
        .filter(
            Q(status=DunningNotice.Status.PENDING)
            | Q(status=DunningNotice.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
        )
        .update(status=DunningNotice.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    notice = DunningNotice.objects.select_related("customer", "run", "level").get(pk=notice_id)
    try:
        if notice.channel == DunningLevel.Channel.TASK:
            _make_task(notice)
        elif not notice.sent_to:
            _done(notice, DunningNotice.Status.FAILED, error="The customer has no email address for invoices.")
            return False
        elif notice.channel == DunningLevel.Channel.LETTER:
            documents.email_document(
                notice,
                LETTER_DOCUMENT,
                key=_mail_key(notice),
                to=notice.sent_to,
                subject=notice.subject,
                template="receivables/email/dunning_notice.txt",
                context={"notice": notice},
                reply_to=settings.COMPANY.get("email", ""),
            )
        else:
            _email(notice)
    except Exception as error:
        if notice.attempts >= MAX_ATTEMPTS:
            _done(notice, DunningNotice.Status.FAILED, error=str(error) or error.__class__.__name__)
            return False
        DunningNotice.objects.filter(pk=notice.pk, status=DunningNotice.Status.SENDING).update(
            status=DunningNotice.Status.PENDING, error=(str(error) or error.__class__.__name__)[:2000]
        )
        raise
    return _done(notice, DunningNotice.Status.SENT)


def _mail_key(notice: DunningNotice) -> str:
    return f"receivables.dunning_notice:{notice.pk}"


def _email(notice: DunningNotice) -> bool:
    from django.core.mail import EmailMessage

    reply_to = settings.COMPANY.get("email", "")
    message = EmailMessage(
        subject=notice.subject, body=notice.body, to=[notice.sent_to], reply_to=[reply_to] if reply_to else None
    )
    return mail.send_once(key=_mail_key(notice), message=message)


def _make_task(notice: DunningNotice) -> CollectionTask:
    days = notice.level.task_days if notice.level and notice.level.task_days else 5
    task, created = CollectionTask.objects.get_or_create(
        notice=notice,
        defaults={
            "owner_id": notice.customer.owner_id,
            "customer": notice.customer,
            "due": notice.run.as_of + timedelta(days=days),
        },
    )
    if created:
        collaboration.publish(
            task,
            "dunning.task_created",
            data={"due": task.due.isoformat(), "level": notice.level.name if notice.level else ""},
            mentioned=[task.owner] if task.owner_id else (),
        )
    return task


@transaction.atomic
def _done(notice: DunningNotice, status: str, *, error: str = "") -> bool:
    """Record a claimed notice's outcome, once; move the run's counters; tell the feed."""
    changed = DunningNotice.objects.filter(pk=notice.pk, status=DunningNotice.Status.SENDING).update(
        status=status, error=error[:2000], sent_at=timezone.now() if status == DunningNotice.Status.SENT else None
    )
    if not changed:
        return False
    if status == DunningNotice.Status.SENT:
        _advance(notice.run_id, sent=1)
        invoices = list(notice.lines.values_list("invoice_id", "invoice__number"))
        collaboration.publish(
            notice.customer,
            "dunning.notice_sent",
            data={
                "level": notice.level.name if notice.level else "",
                "channel": notice.get_channel_display().lower(),
                "invoices": ", ".join(number for _, number in invoices),
            },
            also_on=[(Invoice, invoice_id) for invoice_id, _ in invoices],
        )
        return True
    _advance(notice.run_id, failed=1)
    return False


def document_context(notice: DunningNotice) -> dict:
    """What templates/receivables/documents/dunning_letter.html reads (core.documents kind)."""
    notice = DunningNotice.objects.select_related("customer", "level", "run").get(pk=notice.pk)
    return {
        "notice": notice,
        "customer": notice.customer,
        "lines": list(notice.lines.select_related("invoice", "level")),
        "fees": list(notice.fees.all()),
    }


def document_filename(notice: DunningNotice) -> str:
    return f"dunning-notice-{notice.pk}-{notice.run.as_of:%Y-%m-%d}.pdf"


# --- disputes -------------------------------------------------------------------------------


def _amount(value, field_name: str = "amount") -> Decimal:
    amount = _decimal(value, field_name, low=ZERO)
    if amount is None or amount <= 0:
        raise ValidationError({field_name: "The amount must be more than zero."})
    if amount >= Decimal("1e12"):
        raise ValidationError({field_name: "The amount is too large."})
    return amount


@transaction.atomic
def open_dispute(*, invoice: Invoice, by, amount, reason: str) -> Dispute:
    """The customer contests `amount` of an open invoice (a rep on their own customer's, or
    finance): the invoice is not dunned until the dispute is resolved."""
    invoice = Invoice.objects.select_for_update(of=("self",)).select_related("customer").get(pk=invoice.pk)
    if not can_open_dispute(by, invoice.customer):
        raise PermissionDenied("You may not open a dispute on this customer's invoice.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say what the customer disputes."})
    amount = _amount(amount)
    if invoice.status not in (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID):
        raise DunningConflict(f"Invoice {invoice.number or 'draft'} has nothing left to dispute.", code="not_open")
    if amount > invoice.balance_due:
        raise ValidationError(
            {
                "amount": f"Invoice {invoice.number} has {format_amount(invoice.balance_due)} {invoice.currency} "
                f"left to pay: a dispute cannot be larger than that."
            }
        )
    dispute = Dispute(invoice=invoice, amount=amount, reason=reason[:300], opened_by=by)
    try:
        with transaction.atomic():
            dispute.save()
    except IntegrityError:
        raise DunningConflict(f"Invoice {invoice.number} has an open dispute already.", code="disputed") from None
    collaboration.publish(
        dispute,
        "dispute.opened",
        actor=by,
        data={"number": invoice.number, "amount": amount, "currency": invoice.currency, "reason": dispute.reason},
    )
    return dispute


RESOLUTIONS = {
    "credit": Dispute.Status.RESOLVED_CREDIT,
    "partial": Dispute.Status.RESOLVED_PARTIAL,
    "rejected": Dispute.Status.REJECTED,
}


@transaction.atomic
def resolve_dispute(
    *, dispute: Dispute, by, outcome: str, note: str = "", credit_note: CreditNote | None = None
) -> Dispute:
    """End a dispute (finance): by a credit note in full or in part (made through billing,
    on the same invoice), or rejected with a note. Dunning of the invoice resumes."""
    if not can_resolve_disputes(by):
        raise PermissionDenied("Only finance resolves disputes.")
    if outcome not in RESOLUTIONS:
        raise ValidationError({"outcome": "Choose credit, partial or rejected."})
    dispute = Dispute.objects.select_for_update().select_related("invoice").get(pk=dispute.pk)
    if dispute.status != Dispute.Status.OPEN:
        raise DunningConflict("This dispute was resolved already.", code="resolved")
    note = (note or "").strip()
    if outcome == "rejected":
        if not note:
            raise ValidationError({"note": "Say why the dispute is rejected."})
        credit_note = None
    else:
        if credit_note is None:
            raise ValidationError({"credit_note": "Choose the credit note that resolves the dispute."})
        if credit_note.invoice_id != dispute.invoice_id:
            raise ValidationError({"credit_note": f"That credit note is not on invoice {dispute.invoice.number}."})
    dispute.status = RESOLUTIONS[outcome]
    dispute.resolution_note = note[:300]
    dispute.credit_note = credit_note
    dispute.resolved_by = by
    dispute.resolved_at = timezone.now()
    dispute.save(update_fields=["status", "resolution_note", "credit_note", "resolved_by", "resolved_at"])
    collaboration.publish(
        dispute,
        "dispute.resolved",
        actor=by,
        data={
            "number": dispute.invoice.number,
            "outcome": dispute.get_status_display().lower(),
            "credit_note": credit_note.number if credit_note else "",
            "note": dispute.resolution_note,
        },
    )
    return dispute


# --- promises to pay ------------------------------------------------------------------------


def _owed(customer: Customer, invoice: Invoice | None, currency: str) -> Decimal:
    if invoice is not None:
        return invoice.balance_due
    total = Invoice.objects.open().filter(customer=customer, currency=currency).aggregate(s=Sum("balance_due"))["s"]
    return round_money(Decimal(total or 0))


@transaction.atomic
def take_promise(
    *, customer: Customer, by, amount, promised_for: date, invoice: Invoice | None = None, on: date | None = None
) -> PaymentPromise:
    """Record the customer's promise to pay `amount` by `promised_for` (today or later;
    never more than is owed on the invoice, or on the account in the customer's
    currency). Dunning waits until that day (holds_for)."""
    if not can_take_promises(by):
        raise PermissionDenied("Only finance takes promises to pay.")
    on = on or timezone.localdate()
    if not isinstance(promised_for, date):
        raise ValidationError({"promised_for": "Enter the day the customer promised to pay by."})
    if promised_for < on:
        raise ValidationError({"promised_for": "A promise is for today or a later day, not the past."})
    amount = _amount(amount)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if invoice is not None:
        invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=invoice.pk)
        if invoice.customer_id != customer.pk:
            raise ValidationError({"invoice": f"Invoice {invoice.number} is another customer's."})
    currency = invoice.currency if invoice is not None else customer.currency
    owed = _owed(customer, invoice, currency)
    if amount > owed:
        what = f"invoice {invoice.number}" if invoice is not None else "the account"
        raise ValidationError(
            {"amount": f"Only {format_amount(owed)} {currency} is owed on {what}: the promise cannot be larger."}
        )
    promise = PaymentPromise.objects.create(
        customer=customer,
        invoice=invoice,
        amount=amount,
        currency=currency,
        promised_for=promised_for,
        balance_when_taken=owed,
        taken_by=by,
    )
    collaboration.publish(
        promise,
        "promise.taken",
        actor=by,
        data={"amount": amount, "currency": currency, "by": promised_for.isoformat(), "invoice": _number(invoice)},
        also_on=[invoice] if invoice is not None else (),
    )
    return promise


def _number(invoice) -> str:
    return f" on invoice {invoice.number}" if invoice is not None else ""


@transaction.atomic
def cancel_promise(*, promise: PaymentPromise, by) -> PaymentPromise:
    """Withdraw an active promise (taken in error): dunning resumes."""
    if not can_take_promises(by):
        raise PermissionDenied("Only finance changes promises to pay.")
    promise = PaymentPromise.objects.select_for_update().get(pk=promise.pk)
    if promise.status != PaymentPromise.Status.ACTIVE:
        raise DunningConflict("This promise is not active.", code="not_active")
    promise.status = PaymentPromise.Status.CANCELLED
    promise.save(update_fields=["status"])
    collaboration.publish(promise, "promise.cancelled", actor=by, data={"amount": promise.amount})
    return promise


def _owed_at(day: date | None, customer_ids: set[int]) -> tuple[dict, dict]:
    """What the customers owed per (customer, currency) and per invoice: now (day None,
    the balances due) or at the end of `day` (from the ledger, receivables.aging). One query."""
    invoices = Invoice.objects.filter(customer_id__in=customer_ids)
    if day is None:
        rows = invoices.open().annotate(owed=F("balance_due"))
    else:
        rows = aging.invoices_as_of(day, invoices).annotate(owed=F("open_amount"))
    per_account: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    per_invoice: dict[int, Decimal] = {}
    for row in rows.order_by().values("pk", "customer_id", "currency", "owed"):
        owed = round_money(Decimal(row["owed"] or 0))  # SQLite computes the ledger in floats
        per_invoice[row["pk"]] = owed
        per_account[(row["customer_id"], row["currency"])] += owed
    return per_account, per_invoice


def evaluate_promises(*, as_of: date) -> dict[str, int]:
    """The daily check of active promises: kept once what is owed (on the invoice, or on
    the account in the promise's currency) is down by the promised amount from what was
    owed when it was taken; broken when its day has passed and what was owed at the end
    of that day (read from the ledger, so a late evaluation or a payment after the day does
    not count) was not down by that much. The feed says either; a broken promise says
    dunning resumes. One read for today's balances and one per promised day passed."""
    promises = list(PaymentPromise.objects.active().select_related("invoice"))
    if not promises:
        return {"kept": 0, "broken": 0}
    customer_ids = {promise.customer_id for promise in promises}
    owed_on = {None: _owed_at(None, customer_ids)}
    for day in {promise.promised_for for promise in promises if promise.promised_for < as_of}:
        owed_on[day] = _owed_at(day, customer_ids)
    counts = {"kept": 0, "broken": 0}
    for promise in promises:
        day = promise.promised_for if promise.promised_for < as_of else None
        per_account, per_invoice = owed_on[day]
        if promise.invoice_id is not None:
            owed = per_invoice.get(promise.invoice_id, ZERO)
        else:
            owed = per_account.get((promise.customer_id, promise.currency), ZERO)
        if owed <= promise.balance_when_taken - promise.amount:
            outcome = PaymentPromise.Status.KEPT
        elif day is not None:
            outcome = PaymentPromise.Status.BROKEN
        else:
            continue  # its day has not passed yet
        with transaction.atomic():
            if not PaymentPromise.objects.filter(pk=promise.pk, status=PaymentPromise.Status.ACTIVE).update(
                status=outcome, evaluated_on=as_of
            ):
                continue  # evaluated or cancelled meanwhile
            verb = "promise.kept" if outcome == PaymentPromise.Status.KEPT else "promise.broken"
            collaboration.publish(
                promise,
                verb,
                data={
                    "amount": promise.amount,
                    "currency": promise.currency,
                    "by": promise.promised_for.isoformat(),
                    "invoice": _number(promise.invoice),
                },
            )
        counts[outcome] += 1
    return counts


# --- manual holds ---------------------------------------------------------------------------


@transaction.atomic
def set_dunning_hold(
    *, customer: Customer, by, reason: str, until: date | None = None, invoice: Invoice | None = None, on=None
) -> DunningHold:
    """Stop reminders to `customer` (or about one of its invoices), with a reason, until
    `until` (inclusive) or until released. Clerks; takes effect at once."""
    if not can_set_dunning_holds(by):
        raise PermissionDenied("Only finance sets dunning holds.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why reminders are held."})
    on = on or timezone.localdate()
    if until is not None and until < on:
        raise ValidationError({"until": "The hold would be over already: choose today or a later day."})
    if invoice is not None and invoice.customer_id != customer.pk:
        raise ValidationError({"invoice": f"Invoice {invoice.number} is another customer's."})
    hold = DunningHold.objects.create(customer=customer, invoice=invoice, reason=reason[:200], until=until, set_by=by)
    collaboration.publish(
        hold,
        "dunning_hold.set",
        actor=by,
        data={"reason": hold.reason, "until": until.isoformat() if until else "released", "invoice": _number(invoice)},
        also_on=[invoice] if invoice is not None else (),
    )
    return hold


@transaction.atomic
def release_dunning_hold(*, hold: DunningHold, by) -> DunningHold:
    """Lift a dunning hold; reminders resume with the next run. The record stays."""
    if not can_set_dunning_holds(by):
        raise PermissionDenied("Only finance releases dunning holds.")
    hold = DunningHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        raise DunningConflict("This dunning hold was released already.", code="released")
    hold.released_at = timezone.now()
    hold.released_by = by
    hold.save(update_fields=["released_at", "released_by"])
    collaboration.publish(hold, "dunning_hold.released", actor=by, data={"reason": hold.reason})
    return hold


# --- the owner's collection tasks -----------------------------------------------------------


@transaction.atomic
def complete_task(*, task: CollectionTask, by, outcome: str, note: str = "") -> CollectionTask:
    """The owner (or a clerk) logs the call: called, promised or disputed. The next level
    of the task's invoices may go from the next run."""
    task = CollectionTask.objects.select_for_update().get(pk=task.pk)
    if not can_complete_task(by, task):
        raise PermissionDenied("Only the account owner or finance logs this call.")
    if outcome not in CollectionTask.Outcome.values:
        raise ValidationError({"outcome": "Choose called, promised or disputed."})
    if task.status == CollectionTask.Status.DONE:
        raise DunningConflict("This call was logged already.", code="done")
    task.status = CollectionTask.Status.DONE
    task.outcome = outcome
    task.note = (note or "").strip()[:300]
    task.done_at = timezone.now()
    task.done_by = by
    task.save(update_fields=["status", "outcome", "note", "done_at", "done_by"])
    collaboration.publish(
        task, "dunning.task_done", actor=by, data={"outcome": task.get_outcome_display().lower(), "note": task.note}
    )
    return task
