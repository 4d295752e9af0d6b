"""Aging of the receivables as of any day, computed in the database.

What an invoice still owed at the end of day D (read from its balance_due when it has not
changed since — see _open_then — else from its ledger rows):

    open(D) = total − credit notes issued ≤ D − allocations live at D − write-offs approved ≤ D

for every invoice issued on or before D that was not a draft, nor void by then (an
invoice voided after D still counted at D). Allocations are never deleted, only reversed
(reversed_on), so `Allocation.objects.as_of(D)` is exactly what was applied at D.

Each open amount falls in a bucket by its days past due at D (settings.RECEIVABLES
["AGING_BUCKETS"]: each bucket's upper bound in days, the last open-ended), and the
buckets are summed with one conditional SUM per bucket — one aggregate query for the
whole book, per currency (EUR is never added to USD) or per customer and currency.

Unapplied credit at D (payments received ≤ D and not void at D, less their allocations
live at D) is shown beside the buckets, never subtracted from them.

The customer 360 and the risk card call `customer_aging(customer, as_of)`.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Case, DecimalField, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing.models import CreditNote, Invoice

from .models import ZERO, Allocation, Payment, WriteOff
from .permissions import can_view_book

MONEY = DecimalField(max_digits=14, decimal_places=2)
# "Owes something" is at least a cent, not > 0: SQLite sums with floats and leaves 1e-13 where nothing is owed.
CENT = Decimal("0.01")
# What an invoice still owed at the as-of day, from its ledger rows (the aliases of invoices_as_of).
LEDGER_THEN = F("total") - F("credited_then") - F("paid_then") - F("written_off_then")


@dataclass(frozen=True)
class Bucket:
    """Days past due in (low, high]; `high` None is open-ended; the first bucket
    (high 0) holds what is not due yet."""

    key: str
    label: str
    low: int | None
    high: int | None

    def due_dates(self, as_of: date) -> Q:
        """The invoices in this bucket at `as_of`, as a condition on their due date
        (dates computed here, so the database compares plain dates)."""
        condition = Q()
        if self.high is not None:
            condition &= Q(due_date__gte=as_of - timedelta(days=self.high))
        if self.low is not None:
            condition &= Q(due_date__lt=as_of - timedelta(days=self.low))
        return condition


def buckets() -> list[Bucket]:
    made, low = [], None
    for high, label in settings.RECEIVABLES["AGING_BUCKETS"]:
        if low is None and high is not None and high <= 0:
            key = "current"
        elif high is None:
            key = f"over_{low}"
        else:
            key = f"days_{(low or 0) + 1}_{high}"
        made.append(Bucket(key=key, label=label, low=low, high=high))
        low = high
    return made


def bucket_by_key(key: str) -> Bucket | None:
    return next((bucket for bucket in buckets() if bucket.key == key), None)


def check_as_of(
    value, *, field: str = "as_of", future: str = "Aging is known up to today: choose today or a past date."
) -> date:
    """The as-of date from a form or the query string: today when empty; a date in the
    future (`future` says why) or that cannot be read is a ValidationError (a form
    error / a 400)."""
    today = timezone.localdate()
    if value in (None, ""):
        return today
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError({field: "Enter a date such as 2026-03-31."}) from None
    if value > today:
        raise ValidationError({field: future})
    return value


def check_query_as_of(params, *, field: str = "as_of") -> date:
    """check_as_of for an API's query string: left out, today; sent empty (`?as_of=`), a
    client's bug, refused like any other parameter sent empty (core.api.filters)."""
    value = params.get(field)
    if value is not None and not value.strip():
        raise ValidationError({field: f"Enter a date such as 2026-03-31, or leave {field} out for today."})
    return check_as_of(value, field=field)


def _end_of(day: date) -> datetime:
    """The first instant after `day`, in the project's time zone."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _per_invoice(queryset: QuerySet, field: str = "amount") -> Coalesce:
    """Σ `field` of `queryset`'s rows for the outer invoice (0 when none)."""
    total = queryset.filter(invoice=OuterRef("pk")).order_by().values("invoice").annotate(s=Sum(field)).values("s")
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


def invoices_as_of(as_of: date, invoices: QuerySet | None = None) -> QuerySet:
    """Invoices that counted at the end of `as_of`, with `open_amount` (what each
    still owed then) as an alias usable in filters and aggregates."""
    invoices = Invoice.objects.all() if invoices is None else invoices
    counted = Q(status__in=Invoice.OPEN_OR_SETTLED) | Q(status=Invoice.Status.VOID, voided_at__gte=_end_of(as_of))
    return (
        invoices.filter(counted, issue_date__lte=as_of)
        .alias(
            credited_then=_per_invoice(CreditNote.objects.filter(issue_date__lte=as_of), "total"),
            paid_then=_per_invoice(Allocation.objects.as_of(as_of)),
            written_off_then=_per_invoice(
                WriteOff.objects.filter(status=WriteOff.Status.APPROVED, written_off_on__lte=as_of)
            ),
        )
        .alias(open_amount=_open_then(as_of))
    )


def _open_then(as_of: date) -> Case:
    """What the invoice owed at the end of `as_of`. One unchanged since then owed what it
    owes now: its balance_due, which the services keep in the transaction of every change
    (payment, credit, write-off, void — each saves the invoice), so its ledger rows are
    read only for invoices changed after the day. Today's aging is one scan of the
    invoices; last month's reads the ledger of what changed since."""
    return Case(When(updated_at__lt=_end_of(as_of), then=F("balance_due")), default=LEDGER_THEN, output_field=MONEY)


def scope(user, *, owner=None, customer=None) -> Q:
    """Whose receivables `user` may age, as a condition on `customer` (invoices and
    payments alike): finance and sales managers the whole book, a rep only their own
    customers; narrowed to one owner or one customer if given."""
    where = Q()
    if not can_view_book(user):
        where &= Q(customer__owner=user) if user.is_authenticated else Q(pk__in=[])
    if owner is not None:
        where &= Q(customer__owner=owner)
    if customer is not None:
        where &= Q(customer=customer)
    return where


def book_for(user, *, owner=None, customer=None) -> QuerySet:
    """The invoices whose aging `user` may read (see scope)."""
    return Invoice.objects.filter(scope(user, owner=owner, customer=customer))


def _bucket_sums(as_of: date) -> dict:
    sums = {
        bucket.key: Sum("open_amount", filter=bucket.due_dates(as_of), default=ZERO, output_field=MONEY)
        for bucket in buckets()
    }
    sums["total"] = Sum("open_amount", default=ZERO, output_field=MONEY)
    return sums


def in_cents(row: dict) -> dict:
    """The row's amounts to the cent (SQLite returns sums without their decimals)."""
    for key in [*(bucket.key for bucket in buckets()), "total", "unapplied"]:
        if row.get(key) is not None:
            row[key] = Decimal(row[key]).quantize(CENT)
    return row


def totals(as_of: date, invoices: QuerySet | None = None) -> list[dict]:
    """Per currency: {"currency", <bucket key>: amount…, "total"} — one aggregate query.

    Grouped by currency and bucket, then laid out per currency here: what each invoice
    owed then is summed once, where a SUM … FILTER per bucket (customer_rows) makes the
    database work it out once per bucket (1.8× the hand-written SQL over 1M invoices)."""
    shown = buckets()
    bucket = Case(
        *(When(b.due_dates(as_of), then=Value(n)) for n, b in enumerate(shown)),
        default=Value(None),
        output_field=IntegerField(),
    )
    grouped = (
        invoices_as_of(as_of, invoices)
        .annotate(bucket=bucket)
        .order_by()
        .values("currency", "bucket")
        .annotate(amount=Sum("open_amount", default=ZERO, output_field=MONEY))
    )
    per_currency: dict[str, dict] = {}
    for row in grouped:
        entry = per_currency.setdefault(
            row["currency"], {"currency": row["currency"], **{b.key: ZERO for b in shown}, "total": ZERO}
        )
        amount = Decimal(str(row["amount"]))  # SQLite sums decimals as floats
        if row["bucket"] is not None:
            entry[shown[row["bucket"]].key] += amount
        entry["total"] += amount
    rows = [in_cents(entry) for _, entry in sorted(per_currency.items())]
    return [row for row in rows if row["total"] >= CENT]


def customer_rows(as_of: date, invoices: QuerySet | None = None) -> QuerySet:
    """Per customer and currency, those still owed something at `as_of`: a values()
    queryset of {"customer_id", "customer__name", "currency", <bucket key>…, "total"}
    ordered by name (paginate it: one aggregate query per page, one to count)."""
    return (
        invoices_as_of(as_of, invoices)
        .order_by()
        .values("customer_id", "customer__name", "currency")
        .annotate(**_bucket_sums(as_of))
        .filter(total__gte=CENT)
        .order_by("customer__name", "customer_id", "currency")
    )


def open_invoices(as_of: date, invoices: QuerySet | None = None, bucket: Bucket | None = None) -> QuerySet:
    """The invoices behind a bucket (all buckets when None) with what each owed at
    `as_of` (`open_amount`, `days_overdue` is for the caller: as_of − due_date), oldest due first."""
    rows = invoices_as_of(as_of, invoices).filter(open_amount__gte=CENT)
    if bucket is not None:
        rows = rows.filter(bucket.due_dates(as_of))
    return rows.annotate(open_then=_open_then(as_of)).select_related("customer").order_by("due_date", "id")


def payments_as_of(as_of: date, where: Q | None = None) -> QuerySet:
    """Payments that counted at the end of `as_of` (received by then, not void then),
    with `credit` (what was left unapplied then) as an alias usable in filters and aggregates."""
    payments = Payment.objects.filter(received_on__lte=as_of).filter(
        Q(status=Payment.Status.POSTED) | Q(voided_on__gt=as_of)
    )
    if where is not None:
        payments = payments.filter(where)
    allocated = (
        Allocation.objects.as_of(as_of)
        .filter(payment=OuterRef("pk"))
        .order_by()
        .values("payment")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return payments.alias(
        credit=F("amount") - Coalesce(Subquery(allocated, output_field=MONEY), Value(ZERO), output_field=MONEY)
    )


def unapplied_credit(as_of: date, where: Q | None = None, *, per_customer: bool = False) -> list[dict]:
    """Credit received but not applied at the end of `as_of`, per currency (and per
    customer): payments received ≤ as_of and not void then, less their allocations live then."""
    payments = payments_as_of(as_of, where)
    group = ("customer_id", "currency") if per_customer else ("currency",)
    rows = (
        payments.order_by()
        .values(*group)
        .annotate(unapplied=Sum("credit", default=ZERO, output_field=MONEY))
        .filter(unapplied__gte=CENT)
        .order_by(*group)
    )
    return [in_cents(row) for row in rows]


def customer_aging(customer, as_of: date | None = None) -> list[dict]:
    """One customer's aging at `as_of` (today by default), per currency:
    [{"currency", <bucket key>: Decimal…, "total"}] — empty when nothing is owed."""
    as_of = as_of or timezone.localdate()
    return totals(as_of, Invoice.objects.filter(customer=customer))


def amounts(row: dict) -> list[tuple[Bucket, Decimal]]:
    """A totals/customer row's amounts in bucket order, for templates and serializers."""
    return [(bucket, row.get(bucket.key) or ZERO) for bucket in buckets()]
