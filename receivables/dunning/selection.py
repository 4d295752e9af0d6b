"""What to remind at which level as of a day, and who is skipped and why (the preview and the run)."""

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Max

from billing.models import Invoice

from ..models import CollectionTask, DunningLevel, DunningNotice, DunningNoticeLine
from .base import CENT, MESSAGE_GAP_DAYS, customer_ids_of, for_customers
from .holds import Holds, holds_for
from .policies import policy_ladders


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
    ladders, default_id = policy_ladders()
    earliest = min((level.days_after_due for ladder in ladders.values() for level in ladder), default=None)
    if earliest is None:
        return DunningPlan(as_of=as_of, customers=[])
    ids = customer_ids_of(customers)
    invoices = for_customers(
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
    candidate_ids = invoices.values("pk")
    sent_up_to = dict(
        DunningNoticeLine.objects.filter(invoice__in=candidate_ids)
        .order_by()
        .values("invoice_id")
        .annotate(days=Max("level__days_after_due"))
        .values_list("invoice_id", "days")
    )
    # Set-based at any size: for all customers (ids None) no list of ids goes to the
    # database; the 48-hour rule needs only the notices of the last days, the wait for
    # an owner's call only open tasks not yet due, holds only what is live.
    last_notice = dict(
        for_customers(DunningNotice.objects.filter(run__as_of__gt=as_of - timedelta(days=MESSAGE_GAP_DAYS)), ids)
        .exclude(status__in=(DunningNotice.Status.FAILED, DunningNotice.Status.SKIPPED))
        .order_by()
        .values("customer_id")
        .annotate(last=Max("run__as_of"))
        .values_list("customer_id", "last")
    )
    waiting = dict(
        for_customers(CollectionTask.objects.filter(status=CollectionTask.Status.OPEN, due__gt=as_of), ids).values_list(
            "notice__lines__invoice_id", "due"
        )
    )
    holds = holds_for(ids, as_of)

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
