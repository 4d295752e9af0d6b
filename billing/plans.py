"""Recurring billing: billing plans and the billing run that invoices their periods.

A plan bills a customer the same lines every month, quarter or year from its start
date (until its end date, or until stopped). Its `next_invoice_date` is the start of
the first period not invoiced yet. `run_billing(as_of)` invoices, for every active
plan, each period that has started by `as_of`:

- Periods are calendar months from the start date, keeping its day of the month where
  the month has it: a plan starting on 31 January bills on 28 (or 29) February, then
  31 March, 30 April… Periods are whole: a plan that ends mid-period is billed the
  whole period (no proration), and each period's invoice says which period it bills.
- Once per plan and period, whoever runs it, however often, at the same time or not:
  a run **claims** the plan (SELECT … FOR UPDATE SKIP LOCKED: a plan another run is
  billing is left to that run) and re-reads its next invoice date under the lock; and
  the database holds one invoice per (plan, period start) at most (a unique
  constraint), so even a plan whose date was moved back is never billed twice.
- One period is one transaction: the invoice, issuing it (auto-issue) and moving the
  plan on commit together, or nothing does. A period that cannot be invoiced (the
  customer lacks billing details, a credit hold) is recorded among the run's failures
  and tried again by the next run; the rest of the run goes on. Sending (auto-send)
  follows the issue in the same transaction but on a savepoint: an invoice that cannot
  be emailed (no address) stays issued, and the failure says so.
- Who acts: the person who started the run; for runs nobody started (the daily Celery
  beat run) the plan's creator, a finance manager, is the invoices' creator and issuer.
  No system user is needed, and the feed names someone who may answer for the plan.

A run's progress (plans done of plans due, invoices created, issued and sent, the
failures) is written as it goes, each in its own short transaction, so the runs page
can poll it. `start_billing_run` (the page and the API) refuses a second run while
one is under way and hands the run to the `billing.tasks.run_billing_task` Celery
task once the transaction commits; the task claims the run (pending → running, a
conditional UPDATE), so a duplicate delivery does nothing.
"""

import calendar
import logging
from datetime import date, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

import collaboration
from core.concurrency import StaleVersion, check_version
from crm.models import Customer
from crm.opportunities import build_lines

from . import services
from .models import BillingPlan, BillingPlanLine, BillingRun, Invoice, InvoiceLine
from .permissions import can_create_invoice, can_manage_plans, can_run_billing

__all__ = [
    "BillingRunConflict",
    "StaleVersion",
    "activate_plan",
    "add_months",
    "claim_run",
    "create_plan",
    "next_period",
    "period_label",
    "periods_due",
    "run_billing",
    "start_billing_run",
    "stop_plan",
    "update_plan",
]

logger = logging.getLogger(__name__)

PLAN_FIELDS = frozenset({"name", "interval", "start_date", "end_date", "auto_issue", "auto_send", "is_active"})
# Plans bill from the year 1900 to the year 2999: anything else is a typing error.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
ACTIVE_RUN = (BillingRun.Status.PENDING, BillingRun.Status.RUNNING)
# The task's hard time limit (billing.tasks) and then some: a run claimed longer ago
# than this has lost its worker, and no longer blocks a new run.
RUN_TIME_LIMIT = 3 * 60 * 60
STALE_RUN = timedelta(seconds=RUN_TIME_LIMIT + 15 * 60)
MONTH_NAMES = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class BillingRunConflict(ValidationError):
    """A billing run is under way already: a message on the page, a 409 in the API."""

    def __init__(self, message: str, run: BillingRun):
        super().__init__(message, code="running")
        self.run = run


# --- Periods -------------------------------------------------------------------------


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """`day` moved by whole calendar months, on `anchor_day` (else `day`'s day) or the
    month's last day when the month is shorter: 31 Jan + 1 → 28/29 Feb."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor_day or day.day, calendar.monthrange(year, month)[1]))


def next_period(plan: BillingPlan, start: date) -> date:
    """The start of the period after the one starting on `start` (on the day of the
    month the plan started on, where the month has it)."""
    return add_months(start, BillingPlan.MONTHS[plan.interval], plan.start_date.day)


def periods_due(plan: BillingPlan, as_of: date) -> list[date]:
    """The starts of the periods not invoiced yet that have begun by `as_of` (and
    begin on or before the plan's end date): what a run on `as_of` invoices."""
    periods, start = [], plan.next_invoice_date
    while start <= as_of and (plan.end_date is None or start <= plan.end_date):
        periods.append(start)
        start = next_period(plan, start)
    return periods


def period_end(plan: BillingPlan, start: date) -> date:
    return next_period(plan, start) - timedelta(days=1)


def period_label(plan: BillingPlan, start: date) -> str:
    """How an invoice names the period it bills: "March 2026", "January – March 2026",
    "2026", or from day to day ("15 March – 14 April 2026") for periods that do not
    start on the 1st."""
    end = period_end(plan, start)
    if start.day != 1:
        first = f"{start.day} {MONTH_NAMES[start.month]}" + ("" if start.year == end.year else f" {start.year}")
        return f"{first} – {end.day} {MONTH_NAMES[end.month]} {end.year}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{MONTH_NAMES[start.month]} {start.year}"
    if start.month == 1 and end.month == 12 and start.year == end.year:
        return str(start.year)
    if start.year == end.year:
        return f"{MONTH_NAMES[start.month]} – {MONTH_NAMES[end.month]} {end.year}"
    return f"{MONTH_NAMES[start.month]} {start.year} – {MONTH_NAMES[end.month]} {end.year}"


def is_finished(plan: BillingPlan) -> bool:
    """Every period up to its end date is invoiced."""
    return plan.end_date is not None and plan.next_invoice_date > plan.end_date


# --- Plans ---------------------------------------------------------------------------


def _refuse_unknown(data: dict[str, Any]) -> None:
    unknown = sorted(set(data) - PLAN_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in unknown})


def _assign(plan: BillingPlan, data: dict[str, Any]) -> None:
    _refuse_unknown(data)
    for name, value in data.items():
        setattr(plan, name, value)
    errors: dict[str, str] = {}
    for name in ("start_date", "end_date"):
        value = getattr(plan, name)
        if value is not None and not isinstance(value, date):
            errors[name] = "Enter a date."
        elif value is not None and not (EARLIEST <= value <= LATEST):
            errors[name] = f"Enter a date between {EARLIEST.year} and {LATEST.year}."
    if errors:
        raise ValidationError(errors)
    plan.full_clean(exclude=["customer", "next_invoice_date", "currency", "created_by"], validate_constraints=False)
    if plan.end_date is not None and plan.end_date < plan.start_date:
        raise ValidationError({"end_date": "The end date cannot be before the start date."})
    if plan.auto_send and not plan.auto_issue:
        raise ValidationError({"auto_send": "Only issued invoices are sent: turn on auto-issue too."})


def _build_lines(plan: BillingPlan, lines) -> list[BillingPlanLine]:
    built = build_lines(list(lines or []), currency=plan.currency, model=BillingPlanLine, what="A billing plan")
    if not built:
        raise ValidationError({"lines": "Add at least one line: a plan invoices its lines every period."})
    return built


def _save_lines(plan: BillingPlan, built: list[BillingPlanLine]) -> None:
    plan.lines.all().delete()
    for position, line in enumerate(built):
        line.plan = plan
        line.position = position
    BillingPlanLine.objects.bulk_create(built)


@transaction.atomic
def create_plan(*, by, customer: Customer, data: dict[str, Any], lines: list[dict[str, Any]]) -> BillingPlan:
    """A billing plan for `customer`, in its currency, billing `lines` (priced like a
    deal's) every period from `data["start_date"]`."""
    if not can_manage_plans(by):
        raise PermissionDenied("Only finance managers keep billing plans.")
    data = dict(data)
    if not data.get("start_date"):
        raise ValidationError({"start_date": "Enter the day the first period starts."})
    plan = BillingPlan(customer=customer, currency=customer.currency, created_by=by)
    _assign(plan, data)
    built = _build_lines(plan, lines)
    plan.next_invoice_date = plan.start_date
    plan.save()
    _save_lines(plan, built)
    collaboration.publish(
        plan,
        "billing_plan.created",
        actor=by,
        data={"name": plan.name, "interval": plan.get_interval_display().lower(), "start": str(plan.start_date)},
    )
    return plan


@transaction.atomic
def update_plan(
    *,
    plan: BillingPlan,
    by,
    data: dict[str, Any],
    lines: list[dict[str, Any]] | None = None,
    expected_version: int | None = None,
) -> BillingPlan:
    """Change a plan's name, interval, dates, flags (stop it: `is_active` False) and,
    with `lines`, replace its lines. Periods invoiced already stay as they were billed;
    the start date changes only while nothing was invoiced."""
    if not can_manage_plans(by):
        raise PermissionDenied("Only finance managers keep billing plans.")
    plan = BillingPlan.objects.select_for_update().get(pk=plan.pk)
    check_version(plan, expected_version)
    data = dict(data)
    was_active, old_start = plan.is_active, plan.start_date
    _assign(plan, data)
    if plan.start_date != old_start:
        if Invoice.objects.filter(billing_plan=plan).exists():
            raise ValidationError(
                {
                    "start_date": "This plan has invoiced periods already, so its start date stays. "
                    "Stop it and start a new plan instead."
                }
            )
        plan.next_invoice_date = plan.start_date
    if lines is not None:
        _save_lines(plan, _build_lines(plan, lines))
    plan.version += 1
    plan.save()
    if was_active != plan.is_active:
        verb = "billing_plan.activated" if plan.is_active else "billing_plan.stopped"
        collaboration.publish(plan, verb, actor=by, data={"name": plan.name, "next": str(plan.next_invoice_date)})
    return plan


def stop_plan(*, plan: BillingPlan, by, expected_version: int | None = None) -> BillingPlan:
    """No more invoices until activated again."""
    return update_plan(plan=plan, by=by, data={"is_active": False}, expected_version=expected_version)


def activate_plan(*, plan: BillingPlan, by, expected_version: int | None = None) -> BillingPlan:
    """Bill again. Periods that began while it was stopped (from its next invoice date
    on) are invoiced by the next run, as any missed period is."""
    return update_plan(plan=plan, by=by, data={"is_active": True}, expected_version=expected_version)


def plan_amount(plan: BillingPlan):
    """The net amount of one period (the lines' sum)."""
    return sum((line.amount for line in plan.lines.all()), services.ZERO)


# --- The billing run -----------------------------------------------------------------


def due_plans(as_of: date):
    """Active plans with a period begun by `as_of` that is not invoiced yet."""
    return BillingPlan.objects.filter(is_active=True, next_invoice_date__lte=as_of).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=F("next_invoice_date"))
    )


def _plan_invoice(plan: BillingPlan, start: date, by) -> Invoice:
    """The draft invoice of one period of `plan`: its lines, each naming the period,
    on the customer's payment terms (in the caller's transaction)."""
    label = period_label(plan, start)
    lines = [
        InvoiceLine(
            product_id=line.product_id,
            description=f"{line.description} — {label}"[:300],
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            amount=line.amount,
            tax_rate=line.tax_rate,
        )
        for line in plan.lines.select_related("tax_rate").order_by("position", "id")
    ]
    if not lines:
        raise ValidationError(f"The plan “{plan.name}” has no lines to invoice.")
    return services.invoice_from_lines(
        customer=plan.customer,
        by=by,
        lines=lines,
        currency=plan.currency,
        billing_plan=plan,
        period_start=start,
        notes=f"{plan.name}: {label}.",
    )


class _Tally:
    """What one run did, written to its BillingRun as it goes."""

    def __init__(self, run: BillingRun):
        self.run = run
        self.plans_done = run.plans_done
        self.created = run.invoices_created
        self.issued = run.invoices_issued
        self.sent = run.invoices_sent
        self.failures = list(run.failures or [])
        self.skipped = 0

    def fail(self, plan: BillingPlan, start: date | None, message: str, invoice: Invoice | None = None) -> None:
        self.failures.append(
            {
                "plan": plan.pk,
                "plan_name": plan.name,
                "customer": plan.customer_id,
                "customer_name": plan.customer.name,
                "period": start.isoformat() if start else None,
                "invoice": invoice.pk if invoice else None,
                "invoice_number": (invoice.number or "") if invoice else "",
                "message": message,
            }
        )

    def save(self, **extra) -> None:
        # Autocommit (or the caller's transaction): short, so a page polling it sees it move.
        BillingRun.objects.filter(pk=self.run.pk).update(
            plans_done=self.plans_done,
            invoices_created=self.created,
            invoices_issued=self.issued,
            invoices_sent=self.sent,
            failures=self.failures,
            **extra,
        )


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or type(error).__name__


def _bill_period(plan_id: int, as_of: date, by, tally: _Tally) -> bool:
    """Invoice the plan's next due period, if it has one and no other run holds it.
    True when a period was dealt with (and the next one may be due too)."""
    plan = start = None
    not_sent = ""
    try:
        with transaction.atomic():
            plan = (
                BillingPlan.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("customer", "created_by")
                .filter(pk=plan_id)
                .first()
            )
            if plan is None:  # another run is billing it (or it is gone): that run does it
                return False
            start = plan.next_invoice_date
            if not plan.is_active or start > as_of or (plan.end_date is not None and start > plan.end_date):
                return False
            actor = by or plan.created_by
            if not can_create_invoice(actor):
                raise PermissionDenied(
                    f"{actor} may no longer create invoices: start the run yourself, or have the plan kept "
                    "by a finance manager."
                )
            try:
                with transaction.atomic():  # a savepoint: the period may be invoiced already
                    invoice = _plan_invoice(plan, start, actor)
            except IntegrityError:
                invoice = None
                logger.info("Billing plan %s: the period of %s is invoiced already", plan.pk, start)
            if invoice is not None:
                collaboration.publish(
                    invoice,
                    "invoice.recurring",
                    actor=actor,
                    data={
                        "plan": plan.name,
                        "period": period_label(plan, start),
                        "total": invoice.total,
                        "currency": invoice.currency,
                    },
                    also_on=[plan],
                )
                if plan.auto_issue:  # dated the day it is issued, as every invoice
                    invoice = services.issue_invoice(invoice=invoice, by=actor)
                    if plan.auto_send:
                        try:
                            with transaction.atomic():  # a savepoint: unsent, it stays issued
                                services.send_invoice(invoice=invoice, by=actor)
                        except (ValidationError, PermissionDenied) as error:
                            not_sent = f"Issued {invoice.number} but not sent: {_message(error)}"
            plan.next_invoice_date = next_period(plan, start)
            plan.save(update_fields=["next_invoice_date", "updated_at"])
    except SoftTimeLimitExceeded:
        raise
    except (ValidationError, PermissionDenied) as error:
        message = _message(error)
    except Exception as error:  # an unattended run goes on with the next plan; the log has the trace
        logger.exception("Billing plan %s failed", plan_id)
        message = f"Unexpected error: {type(error).__name__}: {error}"
    else:  # committed: count it
        if invoice is None:
            tally.skipped += 1
            return True
        tally.created += 1
        if not invoice.is_draft:
            tally.issued += 1
            if not_sent:
                tally.fail(plan, start, not_sent, invoice)
            elif plan.auto_send:
                tally.sent += 1
        return True
    plan = plan or BillingPlan.objects.select_related("customer").filter(pk=plan_id).first()
    if plan is not None:
        tally.fail(plan, start, message)
    return False


def _today() -> date:
    return timezone.localdate()


def run_billing(*, as_of: date, by=None, run: BillingRun | None = None) -> BillingRun:
    """Invoice every period due by `as_of` of every active plan; returns the run with
    its summary. `by` is who started it (None: the scheduler); `run` a BillingRun the
    caller claimed (else a new one is made). Safe to run twice, or twice at once."""
    if by is not None and not can_run_billing(by):
        raise PermissionDenied("Only finance runs billing.")
    if run is None:
        run = BillingRun.objects.create(as_of=as_of, status=BillingRun.Status.RUNNING, started_by=by)
    tally = _Tally(run)
    plan_ids = list(due_plans(as_of).order_by("next_invoice_date", "id").values_list("pk", flat=True))
    tally.save(plans_total=tally.plans_done + len(plan_ids), status=BillingRun.Status.RUNNING)
    try:
        for plan_id in plan_ids:
            while _bill_period(plan_id, as_of, by, tally):
                pass
            tally.plans_done += 1
            tally.save()
    except BaseException as error:
        tally.failures.append({"plan": None, "message": f"The run stopped: {_message(error)}"})
        tally.save(status=BillingRun.Status.FAILED, finished_at=timezone.now())
        raise
    tally.save(status=BillingRun.Status.DONE, finished_at=timezone.now())
    logger.info(
        "Billing run %s as of %s: %s plans, %s invoices (%s issued, %s sent), %s skipped, %s failures",
        run.pk,
        as_of,
        len(plan_ids),
        tally.created,
        tally.issued,
        tally.sent,
        tally.skipped,
        len(tally.failures),
    )
    run.refresh_from_db()
    return run


# --- Starting runs (the page, the API, the daily beat) ---------------------------------


def _lock_runs() -> None:
    """Serialize starting runs: PostgreSQL's transaction-level advisory lock (SQLite
    writes one at a time anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('billing.start_billing_run'))")


def active_run() -> BillingRun | None:
    """The run under way (waiting or running, and not stale), if any."""
    return (
        BillingRun.objects.filter(status__in=ACTIVE_RUN, started_at__gte=timezone.now() - STALE_RUN)
        .select_related("started_by")
        .order_by("-started_at", "-id")
        .first()
    )


@transaction.atomic
def start_billing_run(*, by, as_of: date | None = None) -> BillingRun:
    """A new run as of `as_of` (today unless given; never a day to come), run by the
    Celery task once this transaction commits. Refused (BillingRunConflict) while
    another run is under way. `by` None: the scheduler."""
    if by is not None and not can_run_billing(by):
        raise PermissionDenied("Only finance runs billing.")
    today = _today()
    as_of = as_of or today
    if not isinstance(as_of, date):
        raise ValidationError({"as_of": "Enter a date."})
    if as_of > today:
        raise ValidationError({"as_of": "Billing runs for today or a day past, never for a day to come."})
    if as_of < EARLIEST:
        raise ValidationError({"as_of": f"Enter a date after {EARLIEST.year}."})
    _lock_runs()
    now = timezone.now()
    # Runs whose worker went away long ago: failed, so they block nothing.
    for stale in BillingRun.objects.filter(status__in=ACTIVE_RUN, started_at__lt=now - STALE_RUN):
        failures = [*(stale.failures or []), {"plan": None, "message": "The run stopped: its worker went away."}]
        BillingRun.objects.filter(pk=stale.pk, status__in=ACTIVE_RUN).update(
            status=BillingRun.Status.FAILED, finished_at=now, failures=failures
        )
    running = active_run()
    if running is not None:
        who = f" by {running.started_by}" if running.started_by else ""
        raise BillingRunConflict(
            f"A billing run (as of {running.as_of}) is under way, started{who} at "
            f"{timezone.localtime(running.started_at):%H:%M}. Wait for it to finish.",
            running,
        )
    run = BillingRun.objects.create(as_of=as_of, started_by=by)
    from .tasks import run_billing_task  # the task module imports this one

    transaction.on_commit(lambda: run_billing_task.delay(run.pk), robust=True)
    return run


def claim_run(run_id: int) -> BillingRun | None:
    """Move a waiting run to running (a conditional UPDATE): the run, or None when it
    is claimed already, done or gone, so a second delivery of the task does nothing."""
    claimed = (
        BillingRun.objects.filter(pk=run_id, status=BillingRun.Status.PENDING)
        .order_by()
        .update(status=BillingRun.Status.RUNNING)
    )
    if not claimed:
        return None
    return BillingRun.objects.select_related("started_by").get(pk=run_id)


def execute_run(run_id: int) -> str | None:
    """What run_billing_task does: claim the run and bill as of its date. Returns the
    run's status afterwards, None when there was nothing to do."""
    run = claim_run(run_id)
    if run is None:
        return None
    run = run_billing(as_of=run.as_of, by=None, run=run) if run.started_by is None else _run_as(run)
    return run.status


def _run_as(run: BillingRun) -> BillingRun:
    by = run.started_by
    if not can_run_billing(by):  # lost the right since pressing the button
        tally = _Tally(run)
        tally.failures.append({"plan": None, "message": f"{by} may no longer run billing."})
        tally.save(status=BillingRun.Status.FAILED, finished_at=timezone.now())
        run.refresh_from_db()
        return run
    return run_billing(as_of=run.as_of, by=by, run=run)


def start_daily_run() -> BillingRun | None:
    """The Celery beat's daily run as of today; None when a run is under way (it
    bills what is due then, and tomorrow's run anything left)."""
    try:
        return start_billing_run(by=None, as_of=_today())
    except BillingRunConflict as conflict:
        logger.info("Daily billing skipped: run %s is under way", conflict.run.pk)
        return None
