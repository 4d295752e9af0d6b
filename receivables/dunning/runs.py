"""The run: recorded, split into Celery batches that make notices, each notice sent once."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

import collaboration
from billing.models import Invoice
from core import documents, mail
from core.money import format_amount, round_money
from crm.models import Customer

from ..aging import check_as_of
from ..models import ZERO, CollectionTask, DunningFee, DunningLevel, DunningNotice, DunningNoticeLine, DunningRun
from ..permissions import can_run_dunning, can_view_dunning
from .base import BATCH_SIZE, LETTER_DOCUMENT, MAX_ATTEMPTS, STALE_CLAIM, DunningConflict, customer_ids_of
from .selection import CustomerPlan, DunningPlan, plan_dunning
from .templates import render_template

RETRY_AFTER = 5  # s: a notice whose send failed in a batch is tried again alone, after this


def check_run_date(value) -> date:
    """The run's as-of day: today when empty; never in the future."""
    return check_as_of(value, future="Dunning runs as of today or a past day, never a future one.")


def _running_conflict() -> DunningConflict:
    running = DunningRun.objects.filter(status=DunningRun.Status.RUNNING).select_related("started_by").first()
    who = f", started by {running.started_by}" if running and running.started_by else ""
    day = f" as of {running.as_of:%Y-%m-%d}" if running else ""
    return DunningConflict(f"A dunning run{day} is in progress{who}: wait for it to finish.", code="running")


def run_dunning(*, as_of, by, customers=None) -> DunningRun:
    """Start a dunning run as of `as_of` (clerks): records the run, then, once committed,
    hands it to Celery (plan_run), which plans it and fans the customers out in batches
    (make_notices), whose notices are sent by send_notice. The request plans nothing.
    Refuses a future day and a second run while one runs. `customers` (the worklist's
    "Send now"): a run of those customers only, by the same rules."""
    if not can_run_dunning(by):
        raise PermissionDenied("Only finance runs dunning.")
    return start_run(as_of=check_run_date(as_of), by=by, customers=customers)


def start_run(*, as_of: date, by=None, customers=None) -> DunningRun:
    """run_dunning without the permission check: the beat's daily run (by=None)."""
    as_of = check_run_date(as_of)
    if DunningRun.objects.filter(status=DunningRun.Status.RUNNING).exists():
        raise _running_conflict()
    try:
        with transaction.atomic():
            # The partial unique index on status="running" makes "one at a time" hold under a race.
            run = DunningRun.objects.create(
                as_of=as_of,
                status=DunningRun.Status.RUNNING,
                started_by=by if getattr(by, "pk", None) else None,
                # A run of some customers only (Send now) plans and resumes with those only.
                totals={"customers": customer_ids_of(customers)} if customers is not None else {},
            )
            _queue_plan(run.pk)
    except IntegrityError:
        raise _running_conflict() from None
    run.refresh_from_db()
    return run


def _queue_plan(run_id: int) -> None:
    from ..tasks import dunning_plan  # the task module imports this one

    transaction.on_commit(lambda: dunning_plan.delay(run_id), robust=True)


def plan_run(*, run_id: int) -> int:
    """A run's planning (the dunning_plan task): plan_dunning for all customers at once (a
    few set-based queries), its summary and progress total written on the run the first
    time only, then the customers to remind handed to Celery in batches, with those whose
    notice in this run is not sent yet. Safe to run twice (a redelivery, resume_run): a
    second plan finds the customers with a notice in this run held back by the 48-hour
    rule, and batches skip customers done already. The number of customers handed out."""
    run = DunningRun.objects.get(pk=run_id)
    if run.status != DunningRun.Status.RUNNING:
        return 0
    plan = plan_dunning(run.as_of, run.totals.get("customers"))
    planned = {customer.customer_id for customer in plan.to_send}
    notices = dict(DunningNotice.objects.filter(run=run).values_list("customer_id", "status"))
    unsent = {
        customer_id
        for customer_id, status in notices.items()
        if status in (DunningNotice.Status.PENDING, DunningNotice.Status.SENDING)
    }
    DunningRun.objects.filter(pk=run_id, status=DunningRun.Status.RUNNING).exclude(totals__has_key="planned").update(
        totals={**run.totals, "planned": len(planned | set(notices)), "skipped": plan.skipped_by_reason()},
        progress_total=len(planned | set(notices)),
    )
    customer_ids = sorted(planned | unsent)
    _finish_if_done(run_id)  # nothing to send
    _dispatch(run_id, customer_ids)
    return len(customer_ids)


def _dispatch(run_id: int, customer_ids: list[int]) -> None:
    from ..tasks import dunning_batch

    for start in range(0, len(customer_ids), BATCH_SIZE):
        dunning_batch.delay(run_id, customer_ids[start : start + BATCH_SIZE])


def resume_run(*, run: DunningRun, by) -> DunningRun:
    """Hand a running run to Celery again (after a worker crashed): planned again
    (plan_run), so the customers not reached yet and the notices not sent yet are queued
    again; batches skip customers that have their notice, and a claim held by a dead
    worker is taken over once stale (see send_notice)."""
    if not can_run_dunning(by):
        raise PermissionDenied("Only finance runs dunning.")
    run = DunningRun.objects.get(pk=run.pk)
    if run.status != DunningRun.Status.RUNNING:
        raise DunningConflict("This run is not in progress: there is nothing to resume.", code="not_running")
    _queue_plan(run.pk)
    return run


def preview_dunning(*, as_of, by) -> DunningPlan:
    """What a run as of `as_of` would send and skip, and why (the page's and the API's
    preview): plan_dunning itself, so the preview is what the run then sends."""
    if not (can_run_dunning(by) or can_view_dunning(by)):
        raise PermissionDenied("Only finance previews dunning.")
    return plan_dunning(check_run_date(as_of))


@transaction.atomic
def stop_run(*, run: DunningRun, by, reason: str) -> DunningRun:
    """Mark a run that cannot finish (its worker and broker are gone) as failed, so a new
    run may start. Notices it sent stay sent; those still pending are skipped with the reason."""
    if not can_run_dunning(by):
        raise PermissionDenied("Only finance stops dunning runs.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the run is stopped."})
    run = DunningRun.objects.select_for_update().get(pk=run.pk)
    if run.status != DunningRun.Status.RUNNING:
        raise DunningConflict("This run is not in progress.", code="not_running")
    DunningNotice.objects.filter(run=run, status=DunningNotice.Status.PENDING).update(
        status=DunningNotice.Status.SKIPPED, skip_reason=f"the run was stopped: {reason}"[:300]
    )
    run.status = DunningRun.Status.FAILED
    run.finished_at = timezone.now()
    run.totals = {**run.totals, "stopped": reason[:300]}
    run.save(update_fields=["status", "finished_at", "totals"])
    return run


def _finished(done) -> Q:
    # Not before the plan wrote the total: until then 0 done ≥ 0 planned says nothing.
    return (
        (Q(totals__has_key="planned") | Q(progress_total__gt=0))
        & Q(status=DunningRun.Status.RUNNING)
        & Q(progress_total__lte=done)
    )


def _advance(run_id: int, *, sent: int = 0, failed: int = 0, skipped: int = 0) -> None:
    """Count a customer done; the run is done with its last one (the same UPDATE: this
    runs once per notice, twenty thousand times a run)."""
    done = F("progress_done") + sent + failed + skipped
    DunningRun.objects.filter(pk=run_id).update(
        progress_done=done,
        notices_sent=F("notices_sent") + sent,
        notices_failed=F("notices_failed") + failed,
        notices_skipped=F("notices_skipped") + skipped,
        status=Case(When(_finished(done), then=Value(DunningRun.Status.DONE)), default=F("status")),
        finished_at=Case(When(_finished(done), then=Value(timezone.now())), default=F("finished_at")),
    )


def _finish_if_done(run_id: int) -> None:
    DunningRun.objects.filter(_finished(F("progress_done")), pk=run_id).update(
        status=DunningRun.Status.DONE, finished_at=timezone.now()
    )


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
    with a notice in this run already is not planned again (one not sent is queued again),
    and (invoice, level) is unique, so a line made by another run meanwhile rolls the
    customer's notice back and it is recorded as skipped."""
    run = DunningRun.objects.get(pk=run_id)
    if run.status != DunningRun.Status.RUNNING:
        return []
    existing = dict(
        DunningNotice.objects.filter(run=run, customer_id__in=customer_ids).values_list("customer_id", "status")
    )
    # Sending ones too: a claim whose worker died is taken over once stale (send_notice).
    to_send = list(
        DunningNotice.objects.filter(
            run=run,
            customer_id__in=customer_ids,
            status__in=(DunningNotice.Status.PENDING, DunningNotice.Status.SENDING),
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
    if to_send:
        _queue_send_batch(to_send)
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


def _queue_send_batch(notice_ids: list[int]) -> None:
    from ..tasks import send_dunning_notices

    transaction.on_commit(lambda: send_dunning_notices.delay(notice_ids), robust=True)


def _queue_send(notice_id: int, *, countdown: int = 0) -> None:
    from ..tasks import send_dunning_notice

    transaction.on_commit(lambda: send_dunning_notice.apply_async((notice_id,), countdown=countdown), robust=True)


def send_notices(*, notice_ids: list[int]) -> int:
    """Send a batch's notices one after the other over one SMTP connection (a connection
    per email cost more than the email: 20,000 notices took 15 minutes). Each is still
    claimed, keyed and recorded on its own (send_notice), so the batch is safe to run
    twice or to die in the middle. One that fails is handed to send_dunning_notice alone,
    which retries it with a backoff; the connection it broke is not reused. How many
    were sent now."""
    connection = get_connection()
    sent = 0
    try:
        for notice_id in notice_ids:
            try:
                sent += send_notice(notice_id=notice_id, connection=connection)
            except Exception:  # each failure is retried alone, its error recorded on the notice
                connection.close()
                _queue_send(notice_id, countdown=RETRY_AFTER)
    finally:
        connection.close()
    return sent


def send_notice(*, notice_id: int, connection=None) -> bool:
    """Send one notice, once: claimed with a conditional UPDATE (pending → sending, or a
    claim gone stale), emailed under the key of the notice (core.mail.send_once), or for a
    task level made into the owner's CollectionTask. True if it was sent now. A failure
    puts it back to pending and raises (the task retries) until MAX_ATTEMPTS, then it is
    failed; a notice without an address fails at once. `connection`: a batch's open SMTP
    connection (send_notices), for emails."""
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
            _email(notice, connection)
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


def _email(notice: DunningNotice, connection=None) -> bool:
    reply_to = settings.COMPANY.get("email", "")
    message = EmailMessage(
        subject=notice.subject,
        body=notice.body,
        to=[notice.sent_to],
        reply_to=[reply_to] if reply_to else None,
        connection=connection,
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
