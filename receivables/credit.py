"""Credit control: how much a customer owes or is about to owe (exposure), how much of
its credit limit is left, and whether it is on credit hold — computed live on read,
never by a nightly job.

- exposure = open AR (the balance due of its open invoices)
           + won but not invoiced (each won deal's amount less what is invoiced of it,
             billing.services.invoiced_net, never below nothing)
           − unapplied credit (posted payments not allocated yet).
  Only the customer's own currency counts: there are no exchange rates to add others.
- An automatic hold: exposure above the credit limit (no limit, no such hold), or more
  than HOLD_OVERDUE_AMOUNT overdue by more than HOLD_OVERDUE_DAYS (settings.RECEIVABLES:
  amounts, not invoice counts). A manual hold: a CreditHold set by a finance manager,
  with a reason and maybe an end date (`until`, inclusive), until released.
- On hold, winning a deal or issuing an invoice needs an approval of a sales or finance
  manager on that deal or invoice (collaboration approvals). One approved request lets
  one win or one issue through; a CreditRelease records that it was used.

Everything a page shows is read in one query (one row of scalar subqueries on the
customer), so the customer 360, the deal and the quote pages pay one query for it.
"""

import functools
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, DecimalField, F, JSONField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest, JSONObject
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

import collaboration
from accounts.models import User
from billing.models import CreditNote, Invoice
from collaboration.models import ApprovalRequest
from collaboration.registry import content_type_of
from core.formats import format_date, format_month
from core.money import format_amount, round_money
from core.precompiled import Precompiled
from crm.models import Customer, Opportunity

from . import aging as aging_report
from .models import ZERO, CreditHold, CreditRelease, Dispute, Payment
from .permissions import can_set_holds

__all__ = [
    "ISSUE_APPROVAL",
    "WIN_APPROVAL",
    "CreditError",
    "CreditStatus",
    "ReceivablesFigures",
    "check_issue",
    "check_win",
    "credit_status",
    "hold_gate",
    "receivables_figures",
    "release_hold",
    "set_hold",
]

WIN_APPROVAL = "receivables.credit_hold_win"
ISSUE_APPROVAL = "receivables.credit_hold_issue"
MONEY = DecimalField(max_digits=16, decimal_places=2)


class CreditError(ValidationError):
    """A hold that is released already, a second manual hold…: a message on pages, a 409 in the API."""


@dataclass(frozen=True)
class ManualHold:
    pk: int
    reason: str
    until: date | None
    set_at: object
    set_by: str


@dataclass(frozen=True)
class CreditStatus:
    """A customer's credit on a day, in its currency (limit None: no limit set)."""

    currency: str
    exposure: Decimal
    limit: Decimal | None
    left: Decimal | None
    on_hold: bool
    reasons: tuple[str, ...] = ()
    open_ar: Decimal = ZERO
    overdue: Decimal = ZERO
    overdue_long: Decimal = ZERO  # overdue by more than HOLD_OVERDUE_DAYS
    won_not_invoiced: Decimal = ZERO
    unapplied: Decimal = ZERO
    manual_hold: ManualHold | None = None

    @property
    def used_percent(self) -> int | None:
        """Exposure as a share of the limit, for the bar (capped at 100)."""
        if not self.limit:
            return None
        return max(0, min(100, int(self.exposure * 100 / self.limit)))


def _month_name(month: str) -> str:
    """ "2026-07" → "Jul" (as stored in the trend)."""
    try:
        return format_month(date.fromisoformat(f"{month}-01"))
    except ValueError:
        return month


@dataclass(frozen=True)
class ReceivablesFigures:
    """What the risk card and the 360's receivables panel show: credit, aging, behaviour."""

    credit: CreditStatus
    aging: list[dict] = field(default_factory=list)  # [{"label", "amount", "percent", "overdue"}]
    avg_days_late: Decimal | None = None
    avg_days_to_pay: Decimal | None = None
    late_share: Decimal | None = None
    dso: Decimal | None = None
    trend: list = field(default_factory=list)
    open_disputes: int = 0  # open disputes on its invoices
    disputed: Decimal = ZERO  # and the amount they dispute

    def _series(self, key: str) -> list[tuple[str, Decimal]]:
        """(month, value) of the cached trend (receivables.behaviour: oldest month
        first) where `key` is known."""
        points = []
        for point in self.trend or []:
            value = point.get(key) if isinstance(point, dict) else None
            if value is None or isinstance(value, bool):
                continue
            try:
                points.append((str(point.get("month", "")), Decimal(str(value))))
            except ArithmeticError:
                continue
        return points

    @staticmethod
    def _direction(points, worse: str, better: str) -> str | None:
        if len(points) < 2:
            return None
        change = points[-1][1] - points[0][1]
        return worse if change > 2 else better if change < -2 else "steady"

    @property
    def lateness_trend(self) -> str | None:
        """ "getting later", "improving" or "steady": the monthly average days late, if
        two months are known."""
        return self._direction(self._series("avg_days_late"), "getting later", "improving")

    @property
    def dso_by_month(self) -> list[tuple[str, Decimal]]:
        """("Jul", DSO) at the end of each of the last six months (this one: today)."""
        return [(_month_name(month), value) for month, value in self._series("dso")]

    @property
    def dso_trend(self) -> str | None:
        """ "rising", "falling" or "steady" over the last six months' DSO."""
        return self._direction(self.dso_by_month, "rising", "falling")

    @property
    def verdict(self) -> str:
        """ "Pays ~18 days late; 4,200.00 overdue; 1,300.00 of credit left"."""
        return _verdict(self.credit, self.avg_days_late)


def _verdict(credit: "CreditStatus", avg_days_late: Decimal | None) -> str:
    """ "Pays ~18 days late; 4,200.00 overdue; 1,300.00 of credit left"."""
    if avg_days_late is None:
        pays = "no payment history yet"
    elif avg_days_late <= 0:
        pays = "pays on time"
    else:
        pays = f"pays ~{avg_days_late.quantize(Decimal('1'))} days late"
    overdue = f"{format_amount(credit.overdue)} overdue" if credit.overdue > 0 else "nothing overdue"
    if credit.left is None:
        left = "no credit limit"
    elif credit.left >= 0:
        left = f"{format_amount(credit.left)} of credit left"
    else:
        left = f"{format_amount(-credit.left)} over the credit limit"
    text = "; ".join([pays, overdue, left])
    return text[0].upper() + text[1:]


def _settings() -> tuple[int, Decimal]:
    conf = settings.RECEIVABLES
    return int(conf["HOLD_OVERDUE_DAYS"]), Decimal(str(conf["HOLD_OVERDUE_AMOUNT"]))


def _total(queryset, expression) -> Coalesce:
    """The sum of `expression` over `queryset` (correlated to the customer) as a scalar subquery."""
    rows = queryset.order_by().values("customer").annotate(total=Sum(expression)).values("total")[:1]
    return Coalesce(Subquery(rows, output_field=MONEY), Value(ZERO), output_field=MONEY)


def _won_not_invoiced() -> Coalesce:
    """Σ over the customer's won deals of max(amount − invoiced net, 0), as invoiced_net counts."""
    not_void = Invoice.objects.filter(opportunity=OuterRef("pk")).exclude(status=Invoice.Status.VOID)
    billed = not_void.order_by().values("opportunity").annotate(total=Sum("subtotal")).values("total")[:1]
    credited = (
        CreditNote.objects.filter(invoice__opportunity=OuterRef("pk"))
        .exclude(invoice__status=Invoice.Status.VOID)
        .order_by()
        .values("invoice__opportunity")
        .annotate(total=Sum("subtotal"))
        .values("total")[:1]
    )
    left = Greatest(
        F("amount")
        - Coalesce(Subquery(billed, output_field=MONEY), Value(ZERO), output_field=MONEY)
        + Coalesce(Subquery(credited, output_field=MONEY), Value(ZERO), output_field=MONEY),
        Value(ZERO),
        output_field=MONEY,
    )
    deals = Opportunity.objects.won().filter(customer=OuterRef("pk"), currency=OuterRef("currency"))
    return _total(deals.annotate(left=left), "left")


def _active_holds(on: date):
    return CreditHold.objects.filter(released_at__isnull=True).filter(Q(until__isnull=True) | Q(until__gte=on))


PREFIX = "receivables_"  # the figures' names as annotations on a Customer
BEHAVIOUR = ("avg_days_late", "avg_days_to_pay", "late_share", "dso", "trend")
FIGURES = ("won_left", "unapplied", "disputes", "hold")
OWED = "owed"  # one JSON object of the owed invoices' sums (_owed_sums)


class _DecimalJSON(json.JSONDecoder):
    """JSON whose numbers are sums of money: Decimals, never floats."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "parse_float": Decimal})


def _owed_sums(on: date, hold_days: int, aging: bool) -> Subquery:
    """The sums over the customer's owed invoices (in its currency) the figures need, in one
    pass over them as one JSON object: open AR, overdue, overdue long and, with `aging`,
    each aging bucket. One scan of the owed index instead of one per figure: for a key
    account with thousands of open invoices, eight scans cost ~8 ms."""
    sums = {
        "open_ar": Sum("balance_due"),
        "overdue": Sum("balance_due", filter=Q(due_date__lt=on)),
        "overdue_long": Sum("balance_due", filter=Q(due_date__lt=on - timedelta(days=hold_days))),
    }
    if aging:
        # The aging report's buckets (receivables.aging): today's balances due are what
        # customer_aging(customer) computes from the ledger as of today, read here in the
        # same row (tests/receivables/test_credit.py checks that the two agree).
        for n, bucket in enumerate(aging_report.buckets()):
            sums[f"bucket_{n}"] = Sum("balance_due", filter=bucket.due_dates(on) or None)
    rows = (
        Invoice.objects.owed()
        .filter(customer=OuterRef("pk"), currency=OuterRef("currency"))
        .order_by()
        .values("customer")
        .annotate(sums=JSONObject(**sums))
        .values("sums")[:1]
    )
    return Subquery(rows, output_field=JSONField(decoder=_DecimalJSON))


@functools.lru_cache(maxsize=8)
def _figures_query(on: date, aging: bool, conf: str) -> Precompiled:
    """Every customer's figures on `on`, one row each (scalar subqueries and the Standing's
    cached behaviour), compiled to SQL once per day (and settings, `conf`) in each process:
    building and compiling the dozen subqueries cost more than running them."""
    hold_days, _ = _settings()
    figures = {
        # owed(): open with a balance (the same sums: a balance is never below 0), from an index alone.
        OWED: _owed_sums(on, hold_days, aging),
        "won_left": _won_not_invoiced(),
        "unapplied": _total(
            Payment.objects.with_credit().filter(customer=OuterRef("pk"), currency=OuterRef("currency")), "unapplied"
        ),
        # Open disputes on its invoices in its currency: how many, and the amount disputed.
        "disputes": Subquery(
            Dispute.objects.open()
            .filter(invoice__customer=OuterRef("pk"), invoice__currency=OuterRef("currency"))
            .order_by()
            .values("invoice__customer")
            .annotate(json=JSONObject(count=Count("pk"), amount=Sum("amount")))
            .values("json")[:1],
            output_field=JSONField(decoder=_DecimalJSON),
        ),
        "hold": Subquery(
            _active_holds(on)
            .filter(customer=OuterRef("pk"))
            .order_by("-set_at")
            .values(
                json=JSONObject(
                    pk="pk",
                    reason="reason",
                    until="until",
                    set_at="set_at",
                    first_name="set_by__first_name",
                    last_name="set_by__last_name",
                    username="set_by__username",
                )
            )[:1]
        ),
    }
    for name in BEHAVIOUR:
        figures[name] = F(f"standing__{name}")
    annotations = {PREFIX + name: expression for name, expression in figures.items()}
    return Precompiled(Customer.objects.annotate(**annotations).values("pk", "credit_limit", *annotations))


def _figures(raw: dict, aging: bool) -> dict:
    """One customer's figures from its row, the owed invoices' sums taken out of their JSON."""
    figures = {name.removeprefix(PREFIX): value for name, value in raw.items()}
    owed = figures.pop(OWED) or {}  # no owed invoice: NULL
    buckets = [f"bucket_{n}" for n in range(len(aging_report.buckets()))] if aging else []
    figures.update({name: owed.get(name) for name in ("open_ar", "overdue", "overdue_long", *buckets)})
    return figures


def _read_many(ids, on: date, *, aging: bool) -> dict[int, dict]:
    """{customer id: its figures on `on`}: one query for all of them."""
    rows = _figures_query(on, aging, repr(settings.RECEIVABLES)).by_key(ids)
    return {pk: _figures(raw, aging) for pk, raw in rows.items()}


def _read(customer: Customer, on: date, *, aging: bool) -> dict:
    return _read_many([customer.pk], on, aging=aging)[customer.pk]


def _hold(value) -> ManualHold | None:
    if not value:
        return None
    until = value.get("until")
    set_at = value.get("set_at")
    return ManualHold(
        pk=int(value["pk"]),
        reason=value.get("reason") or "",
        until=parse_date(until) if isinstance(until, str) else until,
        set_at=parse_datetime(set_at) if isinstance(set_at, str) else set_at,
        set_by=User.display_name(
            value.get("first_name") or "", value.get("last_name") or "", value.get("username") or ""
        )
        or "someone no longer here",
    )


def _money(value) -> Decimal:
    return round_money(Decimal(str(value or 0)))  # SQLite sums decimals as floats


def _status(customer: Customer, row: dict, on: date) -> CreditStatus:
    hold_days, hold_amount = _settings()
    currency = customer.currency
    open_ar, overdue, overdue_long = _money(row["open_ar"]), _money(row["overdue"]), _money(row["overdue_long"])
    won_left, unapplied = _money(row["won_left"]), _money(row["unapplied"])
    exposure = open_ar + won_left - unapplied
    limit = row["credit_limit"]
    left = None if limit is None else limit - exposure
    manual = _hold(row["hold"])
    reasons = []
    if left is not None and left < 0:
        reasons.append(
            f"exposure of {format_amount(exposure)} {currency} is over the credit limit of {format_amount(limit)} {currency}"
        )
    if overdue_long > hold_amount:
        reasons.append(
            f"{format_amount(overdue_long)} {currency} is overdue by more than {hold_days} days "
            f"(the threshold is {format_amount(hold_amount)})"
        )
    if manual:
        until = f" until {format_date(manual.until)}" if manual.until else ""
        reasons.append(f"held by {manual.set_by}{until}: {manual.reason}")
    return CreditStatus(
        currency=currency,
        exposure=exposure,
        limit=limit,
        left=left,
        on_hold=bool(reasons),
        reasons=tuple(reasons),
        open_ar=open_ar,
        overdue=overdue,
        overdue_long=overdue_long,
        won_not_invoiced=won_left,
        unapplied=unapplied,
        manual_hold=manual,
    )


def credit_verdicts(customers, on: date | None = None) -> dict[int, str]:
    """{customer id: the risk card's verdict} (the worklist's rows): credit and behaviour
    without the aging buckets, for all of them in one query."""
    on = on or timezone.localdate()
    rows = _read_many([customer.pk for customer in customers], on, aging=False)
    return {
        customer.pk: _verdict(_status(customer, rows[customer.pk], on), _decimal(rows[customer.pk]["avg_days_late"]))
        for customer in customers
        if customer.pk in rows
    }


def credit_status(customer: Customer, on: date | None = None) -> CreditStatus:
    """The customer's exposure, limit, credit left and holds on `on` (today): one query."""
    on = on or timezone.localdate()
    return _status(customer, _read(customer, on, aging=False), on)


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def receivables_figures(customer: Customer, on: date | None = None) -> ReceivablesFigures:
    """Credit, aging of the open invoices by days past due, and the cached payment
    behaviour (receivables.models.Standing): one query."""
    on = on or timezone.localdate()
    row = _read(customer, on, aging=True)
    credit = _status(customer, row, on)
    shown = aging_report.buckets()
    amounts = [_money(row[f"bucket_{n}"]) for n in range(len(shown))]
    total = sum(amounts, ZERO)
    aging, offset = [], Decimal("0")
    for n, (bucket, amount) in enumerate(zip(shown, amounts, strict=True)):
        share = (amount * 100 / total).quantize(Decimal("0.01")) if total > 0 else Decimal("0")
        # `offset` and `share` place the bucket's segment in the aging bar (an SVG: no inline styles).
        aging.append(
            {
                "key": bucket.key,
                "label": bucket.label,
                "amount": amount,
                "share": share,
                "offset": offset,
                "overdue": bucket.low is not None,
                "index": n,
            }
        )
        offset += share
    return ReceivablesFigures(
        credit=credit,
        aging=aging,
        avg_days_late=_decimal(row["avg_days_late"]),
        avg_days_to_pay=_decimal(row["avg_days_to_pay"]),
        late_share=_decimal(row["late_share"]),
        dso=_decimal(row["dso"]),
        trend=row["trend"] or [],
        open_disputes=int((row["disputes"] or {}).get("count") or 0),
        disputed=_money((row["disputes"] or {}).get("amount")),
    )


# --- Manual holds ------------------------------------------------------------------------


@transaction.atomic
def set_hold(*, customer: Customer, by, reason: str, until: date | None = None) -> CreditHold:
    """Put the customer on a manual credit hold (finance managers), until `until`
    (inclusive) or until released. A lapsed hold still open is closed first."""
    if not can_set_holds(by):
        raise PermissionDenied("Only finance managers set credit holds.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the customer is on hold."})
    today = timezone.localdate()
    if until is not None and until < today:
        raise ValidationError({"until": "The hold would be over already: choose today or a later day."})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    current = CreditHold.objects.select_for_update().filter(customer=customer, released_at__isnull=True).first()
    if current is not None:
        if current.until is None or current.until >= today:
            raise CreditError(f"{customer.name} is on a manual credit hold already: release it first.", code="held")
        current.released_at = timezone.now()
        current.save(update_fields=["released_at"])
    hold = CreditHold(customer=customer, reason=reason[:200], until=until, set_by=by)
    hold.full_clean(exclude=["customer"], validate_constraints=False)
    try:
        with transaction.atomic():
            hold.save()
    except IntegrityError:
        raise CreditError(f"{customer.name} is on a manual credit hold already.", code="held") from None
    collaboration.publish(
        hold,
        "credit_hold.set",
        actor=by,
        data={"reason": hold.reason, "until": until.isoformat() if until else "released"},
    )
    return hold


@transaction.atomic
def release_hold(*, hold: CreditHold, by) -> CreditHold:
    """Lift a manual credit hold (finance managers); the record stays."""
    if not can_set_holds(by):
        raise PermissionDenied("Only finance managers release credit holds.")
    hold = CreditHold.objects.select_for_update().select_related("customer").get(pk=hold.pk)
    if hold.released_at is not None:
        raise CreditError("This credit hold was released already.", code="released")
    hold.released_at = timezone.now()
    hold.released_by = by
    hold.save(update_fields=["released_at", "released_by"])
    collaboration.publish(hold, "credit_hold.released", actor=by, data={"reason": hold.reason})
    return hold


# --- The gate: winning a deal or issuing an invoice on hold -------------------------------


@dataclass(frozen=True)
class HoldGate:
    """What the deal or invoice page says before anyone tries: on hold, and the approval's state."""

    status: CreditStatus
    kind: str
    pending: ApprovalRequest | None = None
    approved: ApprovalRequest | None = None


def _approvals(target, kind: str):
    return ApprovalRequest.objects.filter(kind=kind, target_type=content_type_of(target), target_id=target.pk)


def _unused(target, kind: str):
    """Approved requests on `target` that have not let anything through yet, oldest first."""
    return (
        _approvals(target, kind)
        .filter(status=ApprovalRequest.Status.APPROVED)
        .exclude(pk__in=CreditRelease.objects.values("approval_id"))
        .order_by("pk")
    )


def hold_gate(target, customer: Customer, kind: str, status: CreditStatus | None = None) -> HoldGate | None:
    """None unless the customer is on hold; else what is asked or approved on `target`."""
    status = status or credit_status(customer)
    if not status.on_hold:
        return None
    latest = list(
        _approvals(target, kind)
        .filter(Q(status=ApprovalRequest.Status.PENDING) | Q(pk__in=_unused(target, kind).values("pk")))
        .select_related("requested_by", "decided_by")
        .order_by("-pk")[:2]
    )
    pending = next((a for a in latest if a.is_pending), None)
    approved = next((a for a in latest if a.status == ApprovalRequest.Status.APPROVED), None)
    return HoldGate(status=status, kind=kind, pending=pending, approved=approved)


def _let_through(target, customer: Customer, kind: str, by, action: str) -> None:
    """Refuse `action` on a customer on hold unless an unused approval on `target` lets it
    through; that approval is then used up (in the caller's transaction)."""
    status = credit_status(customer)
    if not status.on_hold:
        return
    approval = _unused(target, kind).select_for_update().first()
    if approval is None:
        raise ValidationError(
            f"{customer.name} is on credit hold ({'; '.join(status.reasons)}). To {action}, ask a sales or "
            "finance manager for approval (“Ask for approval” on this page); an approval lets it through once.",
            code="credit_hold",
        )
    try:
        with transaction.atomic():
            CreditRelease.objects.create(approval=approval, consumed_by=by)
    except IntegrityError:
        raise ValidationError("That approval was just used by someone else: ask for a new one.") from None
    collaboration.publish(
        target,
        "credit_hold.passed",
        actor=by,
        data={"action": action, "approver": str(approval.decided_by) if approval.decided_by_id else ""},
    )


def _is_history(on: date | None) -> bool:
    """A win or an issue dated in the past records history (the demo, an import): the
    hold is a decision about today's business, so it does not apply."""
    return on is not None and on < timezone.localdate()


def check_win(opportunity: Opportunity, *, by, on: date | None = None) -> None:
    """crm.opportunities' win check (registered in receivables.apps)."""
    if _is_history(on):
        return
    customer = Customer.objects.get(pk=opportunity.customer_id)
    _let_through(opportunity, customer, WIN_APPROVAL, by, "win this deal")


def check_issue(invoice: Invoice, *, by, on: date | None = None) -> None:
    """billing.services' issue check (registered in receivables.apps)."""
    if _is_history(on):
        return
    customer = Customer.objects.get(pk=invoice.customer_id)
    _let_through(invoice, customer, ISSUE_APPROVAL, by, "issue this invoice")
