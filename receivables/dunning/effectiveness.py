"""How well dunning works (issue 11, item 7): what was collected within 14 days of a
notice, per level, per run and per month; and the share of customers reminded for the
first time who then paid. Read in three queries whatever the number of runs."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from ..models import ZERO, Allocation, DunningNotice, DunningNoticeLine

WINDOW_DAYS = 14


@dataclass
class LevelFigures:
    level: str
    days_after_due: int
    reminded: Decimal = ZERO  # the balances the notices' lines were dunned on
    collected: Decimal = ZERO  # of that, paid within WINDOW_DAYS of the notice

    @property
    def percent(self) -> int | None:
        return int(self.collected * 100 / self.reminded) if self.reminded > 0 else None


@dataclass
class Effectiveness:
    """Per run id and per month ("2026-04"), the figures per level (lowest level first);
    and the customers reminded for the first time (their first sent notice) and how many
    of them paid something within WINDOW_DAYS."""

    per_run: dict[int, list[LevelFigures]] = field(default_factory=dict)
    per_month: dict[str, list[LevelFigures]] = field(default_factory=dict)
    first_reminded: int = 0
    paid_after_first: int = 0

    @property
    def paid_after_first_percent(self) -> int | None:
        return self.paid_after_first * 100 // self.first_reminded if self.first_reminded else None


def _collected(paid: list[tuple[date, Decimal]], start: date, balance: Decimal) -> Decimal:
    end = start + timedelta(days=WINDOW_DAYS)
    return min(balance, sum((amount for day, amount in paid if start <= day <= end), ZERO))


def dunning_effectiveness(*, runs=None) -> Effectiveness:
    """The figures over the sent notices of `runs` (a queryset or ids; None: all runs).
    A payment counts for a line when it was applied to the line's invoice on the run's
    as-of day or up to WINDOW_DAYS after, capped at the balance the line dunned."""
    lines = DunningNoticeLine.objects.filter(notice__status=DunningNotice.Status.SENT)
    if runs is not None:
        lines = lines.filter(notice__run__in=runs)
    rows = list(
        lines.order_by().values(
            "invoice_id",
            "balance",
            "notice_id",
            "notice__customer_id",
            "notice__run_id",
            "notice__run__as_of",
            "level__name",
            "level__days_after_due",
        )
    )
    result = Effectiveness()
    if not rows:
        return result
    first_day = min(row["notice__run__as_of"] for row in rows)
    last_day = max(row["notice__run__as_of"] for row in rows) + timedelta(days=WINDOW_DAYS)
    paid: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for invoice_id, day, amount in (
        Allocation.objects.live()
        .filter(invoice_id__in={row["invoice_id"] for row in rows}, applied_on__range=(first_day, last_day))
        .values_list("invoice_id", "applied_on", "amount")
    ):
        paid[invoice_id].append((day, amount))

    per_run: dict[int, dict[str, LevelFigures]] = defaultdict(dict)
    per_month: dict[str, dict[str, LevelFigures]] = defaultdict(dict)
    notice_paid: dict[int, bool] = defaultdict(bool)
    for row in rows:
        as_of = row["notice__run__as_of"]
        collected = _collected(paid.get(row["invoice_id"], []), as_of, row["balance"])
        notice_paid[row["notice_id"]] |= collected > 0
        for bucket in (per_run[row["notice__run_id"]], per_month[f"{as_of:%Y-%m}"]):
            figures = bucket.setdefault(
                row["level__name"], LevelFigures(row["level__name"], row["level__days_after_due"])
            )
            figures.reminded += row["balance"]
            figures.collected += collected

    def ordered(bucket: dict[str, LevelFigures]) -> list[LevelFigures]:
        return sorted(bucket.values(), key=lambda figures: (figures.days_after_due, figures.level))

    result.per_run = {run_id: ordered(bucket) for run_id, bucket in per_run.items()}
    result.per_month = {month: ordered(per_month[month]) for month in sorted(per_month, reverse=True)}
    # A customer's first reminder: its earliest sent notice ever (not only among `runs`).
    customers = {row["notice__customer_id"] for row in rows}
    first_notice: dict[int, int] = {}
    for customer_id, notice_id in (
        DunningNotice.objects.filter(customer_id__in=customers, status=DunningNotice.Status.SENT)
        .order_by("customer_id", "run__as_of", "pk")
        .values_list("customer_id", "pk")
    ):
        first_notice.setdefault(customer_id, notice_id)
    shown = {row["notice_id"] for row in rows}
    firsts = [notice_id for notice_id in first_notice.values() if notice_id in shown]
    result.first_reminded = len(firsts)
    result.paid_after_first = sum(1 for notice_id in firsts if notice_paid[notice_id])
    return result
