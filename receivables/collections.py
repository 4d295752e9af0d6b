"""The collections worklist's reads (issue 11, item 6): overdue customers ordered by
amount × days overdue, each with its last notice and last call, next level and its day, promise,
dispute, hold, owner and the risk card's verdict — read for a whole page at once, in a
fixed number of queries whatever the number of rows."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import DateField, DecimalField, ExpressionWrapper, F, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.utils.dateparse import parse_date

from billing.models import Invoice
from crm.models import Customer

from . import credit
from .behaviour import DaysBetween
from .dunning.holds import Holds, holds_for
from .dunning.policies import policy_ladders
from .models import CollectionTask, Dispute, DunningNotice, DunningNoticeLine, Standing

MONEY = DecimalField(max_digits=20, decimal_places=2)
# Open invoices a row's "Open a dispute" offers (oldest due first); a key account with a
# thousand open invoices would make the page a megabyte of <option>s.
DISPUTE_CHOICES = 20


def overdue_by_customer(invoices, as_of: date):
    """Per customer of `invoices` (open ones overdue on `as_of`): what is overdue, the
    oldest due day, and the weight amount × days overdue the worklist is ordered by."""
    days = DaysBetween(Value(as_of, output_field=DateField()), F("due_date"))
    return (
        invoices.owed()
        .filter(due_date__lt=as_of)
        .order_by()
        .values("customer_id")
        .annotate(
            overdue=Sum("balance_due"),
            weight=Sum(ExpressionWrapper(F("balance_due") * days, output_field=MONEY)),
            oldest_due=Min("due_date"),
        )
        .order_by("-weight", "customer_id")
    )


@dataclass
class WorklistRow:
    customer: Customer
    overdue: Decimal
    days_overdue: int
    verdict: str = ""
    last_notice: dict | None = None
    next_level: str = ""
    next_on: date | None = None
    holds: Holds = field(default_factory=Holds)
    open_task: CollectionTask | None = None
    # Its open invoices, oldest due first: read for one row only (its actions' dispute form).
    invoices: list[dict] = field(default_factory=list)
    disputes: list[dict] = field(default_factory=list)  # open disputes on its invoices, for links
    # The last call logged with the customer (asked for by dunning or not): when, and how it went.
    last_call_at: object = None
    last_call_outcome: str = ""

    @property
    def last_call_label(self) -> str:
        return dict(CollectionTask.Outcome.choices).get(self.last_call_outcome, "")

    @property
    def dispute_choices(self) -> list[dict]:
        return self.invoices[:DISPUTE_CHOICES]

    @property
    def more_invoices(self) -> bool:
        return len(self.invoices) > DISPUTE_CHOICES

    @property
    def hold_texts(self) -> list[tuple[str, str]]:
        return self.holds.customer + [reason for reasons in self.holds.invoices.values() for reason in reasons]


def _sent_groups(ids: list[int]):
    """Per customer of `ids`: each highest level sent among its owed invoices (None: never
    reminded), with the oldest due day of those invoices — (customer id, days after due
    of the level, oldest due) rows.

    Two reads the ORM builds — the owed invoices (from billing_inv_owed alone) and, per
    invoice, the highest level sent on these customers' notices — joined and grouped in
    one statement: a hash join of the two, where a subquery per invoice cost ~30 ms over
    a key account's 4,000 invoices."""
    owed = Invoice.objects.owed().filter(customer_id__in=ids).order_by().values("pk", "customer_id", "due_date")
    sent = (
        DunningNoticeLine.objects.filter(notice__customer_id__in=ids)
        .order_by()
        .values("invoice_id")
        .annotate(days=Max("level__days_after_due"))
    )
    owed_sql, owed_params = owed.query.sql_with_params()
    sent_sql, sent_params = sent.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            # Both parts are Django's compiled SQL with their parameters apart.
            f"SELECT owed.customer_id, sent.days, MIN(owed.due_date) FROM ({owed_sql}) owed "  # noqa: S608
            f"LEFT JOIN ({sent_sql}) sent ON sent.invoice_id = owed.pk GROUP BY owed.customer_id, sent.days",
            [*owed_params, *sent_params],
        )
        for customer_id, days, oldest in cursor.fetchall():
            yield customer_id, days, parse_date(oldest) if isinstance(oldest, str) else oldest  # SQLite: text


def next_levels(
    ids: list[int], as_of: date, policies: dict[int, int | None] | None = None
) -> dict[int, tuple[date, str]]:
    """Per customer: the day its next reminder is due (today when one is due now) and the
    level it is at — what the next runs will send, as plan_dunning would decide it.

    Within a group of a customer's owed invoices with the same highest level sent (one
    ladder, one level sent) the oldest invoice is the first to reach the next level, so
    only it counts: a key account's thousand invoices are a handful of groups
    (_sent_groups). `policies`: each customer's own dunning policy id, if the caller has
    read them (None: read here)."""
    if policies is None:
        policies = dict(Standing.objects.filter(customer_id__in=ids).values_list("customer_id", "dunning_policy_id"))
    ladders, default_id = policy_ladders()
    found: dict[int, tuple[date, date, str]] = {}  # customer: (day, oldest due, level)
    for customer_id, sent_days, oldest in _sent_groups(ids):
        ladder = ladders.get(policies.get(customer_id)) or ladders.get(default_id, [])
        days = (as_of - oldest).days
        due_now = [level for level in ladder if level.days_after_due <= days]
        if due_now and (sent_days is None or due_now[-1].days_after_due > sent_days):
            upcoming, day = due_now[-1], as_of  # its day has come: the next run sends it
        else:
            after = max(days, sent_days if sent_days is not None else days)
            upcoming = next((level for level in ladder if level.days_after_due > after), None)
            if upcoming is None:
                continue  # every level sent
            day = oldest + timedelta(days=upcoming.days_after_due)
        # The soonest; on the same day, the older invoice's level.
        if customer_id not in found or (day, oldest) < found[customer_id][:2]:
            found[customer_id] = (day, oldest, upcoming.name)
    return {customer_id: (day, name) for customer_id, (day, _, name) in found.items()}


def worklist_rows(rows: list[dict], as_of: date, *, with_invoices: bool = False) -> list[WorklistRow]:
    """The page's rows (from overdue_by_customer) dressed with everything the worklist
    shows: about ten queries, however many rows and invoices. `with_invoices`: each row's
    open invoices too (one row's action forms)."""
    ids = [row["customer_id"] for row in rows]
    if not ids:
        return []
    calls = CollectionTask.objects.filter(customer=OuterRef("pk"), status=CollectionTask.Status.DONE).order_by(
        "-done_at", "-pk"
    )
    customers = (
        Customer.objects.filter(pk__in=ids)
        .select_related("owner")
        .annotate(
            last_call_at=Subquery(calls.values("done_at")[:1]),
            last_call_outcome=Subquery(calls.values("outcome")[:1]),
            dunning_policy_id=F("standing__dunning_policy_id"),
        )
        .in_bulk()
    )
    per_customer: dict[int, list[dict]] = defaultdict(list)
    if with_invoices:
        for invoice in (
            Invoice.objects.owed()
            .filter(customer_id__in=ids)
            .order_by("customer_id", "due_date", "pk")
            .values("pk", "number", "customer_id", "due_date", "balance_due", "currency")
        ):
            per_customer[invoice["customer_id"]].append(invoice)
    disputes: dict[int, list[dict]] = defaultdict(list)
    for dispute in (
        Dispute.objects.open()
        .filter(invoice__customer_id__in=ids)
        .order_by("invoice__due_date", "pk")
        .values("pk", "invoice__number", "invoice__customer_id")
    ):
        disputes[dispute["invoice__customer_id"]].append(dispute)
    last_notices = {}
    for notice in (
        DunningNotice.objects.filter(customer_id__in=ids, status=DunningNotice.Status.SENT)
        .order_by("customer_id", "-run__as_of", "-pk")
        .values("pk", "customer_id", "run__as_of", "level__name", "channel")
    ):
        last_notices.setdefault(notice["customer_id"], notice)
    tasks = {}
    for task in CollectionTask.objects.filter(customer_id__in=ids, status=CollectionTask.Status.OPEN).order_by("due"):
        tasks.setdefault(task.customer_id, task)
    held = holds_for(ids, as_of)
    upcoming = next_levels(ids, as_of, {pk: customer.dunning_policy_id for pk, customer in customers.items()})
    verdicts = credit.credit_verdicts(customers.values(), as_of)

    made = []
    for row in rows:
        customer = customers.get(row["customer_id"])
        if customer is None:
            continue
        next_on, next_level = upcoming.get(customer.pk, (None, ""))
        made.append(
            WorklistRow(
                customer=customer,
                overdue=row["overdue"],
                days_overdue=(as_of - row["oldest_due"]).days,
                verdict=verdicts.get(customer.pk, ""),
                last_notice=last_notices.get(customer.pk),
                next_level=next_level,
                next_on=next_on,
                holds=held.get(customer.pk, Holds()),
                open_task=tasks.get(customer.pk),
                invoices=per_customer.get(customer.pk, []),
                disputes=disputes.get(customer.pk, []),
                last_call_at=customer.last_call_at,
                last_call_outcome=customer.last_call_outcome or "",
            )
        )
    return made


@dataclass
class OwnerCollections:
    """The rep's home page card: the collection calls asked of them, and why reminders
    to their customers wait."""

    tasks: list[CollectionTask]
    held: list[tuple[Customer, list[tuple[str, dict]]]]


SHOWN = 10


def owner_collections(user, as_of: date) -> OwnerCollections:
    """Open calls the user owns (earliest deadline first) and those of their customers
    whose reminders wait, with why: two queries, however many customers."""
    from .dunning_panels import HOLD_KINDS, PREFIX, _clean, hold_annotations

    tasks = list(
        CollectionTask.objects.filter(owner=user, status=CollectionTask.Status.OPEN)
        .select_related("customer", "notice__level")
        .order_by("due", "pk")[:SHOWN]
    )
    annotations = hold_annotations(as_of)
    any_hold = Q()
    for name in annotations:
        any_hold |= Q(**{f"{name}__isnull": False})
    customers = (
        Customer.objects.owned_by(user)
        .annotate(**annotations)
        .filter(any_hold)
        .only("pk", "name")
        .order_by("name")[:SHOWN]
    )
    held = []
    for customer in customers:
        reasons = [(kind, row) for kind in HOLD_KINDS for row in _clean(getattr(customer, PREFIX + kind))]
        held.append((customer, reasons))
    return OwnerCollections(tasks=tasks, held=held)
