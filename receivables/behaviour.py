"""How a customer pays: average days late and to pay, share paid late, DSO and a trend.
Computed in SQL and cached on receivables.models.Standing; refreshed after every
change to the customer's invoices or payments (receivables.services, billing's ledger hook).

The figures, over the BEHAVIOUR_MONTHS (12) months up to the day they are computed:

- An invoice is *paid* on the day of the allocation that settled it: the latest
  `applied_on` of its live allocations, for an invoice whose status is paid. Invoices
  settled by a credit note alone (nothing was paid) do not count.
- Days late = paid on − due date, 0 when paid on or before the due date; the average
  is over the invoices paid in the window. Days to pay = paid on − issue date.
- Share paid late = invoices paid after their due date / invoices paid, in %.
- DSO = open receivables at the day / credit sales of the last 90 days × 90, where credit
  sales are the totals of the invoices issued in those 90 days (not void). In the
  customer's currency; None when nothing was invoiced in the 90 days.
- Trend: the average days late of the invoices paid in each of the last 6 calendar
  months, oldest first ({"month": "2026-07", "avg_days_late": "12.5" | None, "paid": n}).
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.db.models import (
    Avg,
    Count,
    DateField,
    F,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Greatest, TruncMonth
from django.utils import timezone

from billing.models import Invoice
from crm.models import Customer

from . import aging
from .models import Allocation, Standing

DSO_DAYS = 90
TREND_MONTHS = 6
ONE_PLACE = Decimal("0.1")


class DaysBetween(Func):
    """Whole days from `earlier` to `later` (two date expressions), as an integer:
    PostgreSQL subtracts dates to days itself; SQLite counts Julian days."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def _days(later: str, earlier: str) -> DaysBetween:
    return DaysBetween(F(later), F(earlier))


def _paid_invoices(customer_id: int):
    """The customer's paid invoices with `paid_on`: the day their last live allocation applied."""
    settled_on = (
        Allocation.objects.live()
        .filter(invoice=OuterRef("pk"))
        .order_by()
        .values("invoice")
        .annotate(last=Max("applied_on"))
        .values("last")
    )
    return (
        Invoice.objects.filter(customer_id=customer_id, status=Invoice.Status.PAID)
        .annotate(paid_on=Subquery(settled_on, output_field=DateField()))
        .filter(paid_on__isnull=False)
    )


def _one_place(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(ONE_PLACE, rounding=ROUND_HALF_UP)


def dso_on(customer_id: int, currency: str | None, on: date) -> Decimal | None:
    """DSO_FORMULA at the end of `on`, in the customer's currency: what it owed then
    against what it was billed in the DSO_DAYS before. None without sales."""
    owed = next(
        (
            row["total"]
            for row in aging.totals(on, Invoice.objects.filter(customer_id=customer_id))
            if row["currency"] == currency
        ),
        Decimal(0),
    )
    sales = (
        Invoice.objects.filter(
            customer_id=customer_id,
            currency=currency,
            issue_date__gt=on - timedelta(days=DSO_DAYS),
            issue_date__lte=on,
        )
        .exclude(status__in=(Invoice.Status.DRAFT, Invoice.Status.VOID))
        .aggregate(s=Sum("total"))["s"]
    )
    return _one_place(Decimal(owed) / Decimal(sales) * DSO_DAYS) if sales else None


def measure(customer_id: int, on: date) -> dict:
    """The customer's payment behaviour as of `on`: the paid invoices, the monthly
    trend of days late and of DSO at each month's end (two queries a month: open AR
    then against the 90 days of sales before). Run by the worker (ledger_changed)."""
    since = on - relativedelta(months=settings.RECEIVABLES["BEHAVIOUR_MONTHS"])
    paid = _paid_invoices(customer_id).filter(paid_on__gt=since, paid_on__lte=on)
    late = Greatest(_days("paid_on", "due_date"), Value(0), output_field=IntegerField())
    figures = paid.aggregate(
        count=Count("id"),
        late_count=Count("id", filter=Q(paid_on__gt=F("due_date"))),
        avg_days_late=Avg(late),
        avg_days_to_pay=Avg(_days("paid_on", "issue_date")),
    )

    first_month = (on - relativedelta(months=TREND_MONTHS - 1)).replace(day=1)
    by_month = {
        row["month"]: row
        for row in paid.filter(paid_on__gte=first_month)
        .annotate(month=TruncMonth("paid_on", output_field=DateField()))
        .order_by()
        .values("month")
        .annotate(avg=Avg(late), paid=Count("id"))
    }
    trend = []
    for offset in range(TREND_MONTHS):
        month = first_month + relativedelta(months=offset)
        row = by_month.get(month, {})
        average = _one_place(row.get("avg"))
        trend.append(
            {
                "month": f"{month:%Y-%m}",
                "avg_days_late": None if average is None else str(average),
                "paid": row.get("paid", 0),
            }
        )

    currency = Customer.objects.filter(pk=customer_id).values_list("currency", flat=True).first()
    dso = dso_on(customer_id, currency, on)
    for point in trend:  # each month's DSO at its end (this month's: today's)
        month_end = date.fromisoformat(point["month"] + "-01") + relativedelta(months=1, days=-1)
        value = dso if month_end >= on else dso_on(customer_id, currency, month_end)
        point["dso"] = None if value is None else str(value)

    count = figures["count"]
    return {
        "avg_days_late": _one_place(figures["avg_days_late"]),
        "avg_days_to_pay": _one_place(figures["avg_days_to_pay"]),
        "late_share": _one_place(Decimal(figures["late_count"]) * 100 / count) if count else None,
        "dso": dso,
        "trend": trend,
        "behaviour_on": on,
    }


def refresh(customer_id: int, on: date | None = None) -> Standing:
    """Recompute and store the customer's payment behaviour (services call this once
    their change is committed)."""
    figures = measure(customer_id, on or timezone.localdate())
    with transaction.atomic():
        standing, _ = Standing.objects.get_or_create(customer_id=customer_id)
        for name, value in figures.items():
            setattr(standing, name, value)
        standing.save(update_fields=list(figures))
    return standing


def for_customer(customer: Customer) -> Standing:
    """The customer's standing with its cached behaviour, measured now if it never was
    (or last was on another day: the window and the DSO move with the calendar)."""
    standing = Standing.objects.filter(customer=customer).first()
    if standing is None or standing.behaviour_on != timezone.localdate():
        standing = refresh(customer.pk)
    return standing


# What the page says the DSO is.
DSO_FORMULA = "DSO = open receivables ÷ credit sales of the last 90 days × 90"
