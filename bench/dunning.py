"""Dunning at scale (issue 11): a run over 100k overdue invoices across 20k customers,
on PostgreSQL, planned and sent by a real Celery worker through Redis to a loopback
SMTP server; and the collectors' worklist.

Seeding (inside the measure, untimed): the book's overdue open invoices are topped up
to DUNNING_INVOICES (at most five per customer over the seeded customers: 100k over
20k), as copies of a seeded invoice (bench.receivables' way: its lines, its amounts,
numbered on in their year's INV series), each due between 4 and 20 days ago. The
default policy's levels all go by email for the measure: a letter level (+30) renders
a PDF per notice (≈ 130 ms of CPU each, see STACK-NOTES) and a task level (+21) mails
no one. Notices, runs, fees and sent-mail keys of an
earlier run are cleared first, so the run plans every customer afresh.

Measures:
- `dunning_run` (once): dunning.start_run as of today with one worker (2 processes)
  started for it, talking to the bench database and mailing a loopback aiosmtpd server
  in this process; times until every planned customer has its notice (≤ 60 s) and
  until the run is done and the server holds one email per sent notice (≤ 5 min);
- `dunning_worklist`: the collections worklist (`receivables:collections`), p95 ≤ 60 ms;
  skipped while that page is not built on this branch.
"""

import copy
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bench import billing, receivables
from bench.measures import _page, measure, once, target
from billing.models import Invoice, InvoiceLine
from core.models import SentEmail, Sequence
from crm.models import Customer
from receivables import dunning
from receivables.models import (
    CollectionTask,
    DunningFee,
    DunningLevel,
    DunningNotice,
    DunningNoticeLine,
    DunningRun,
)

DUNNING_INVOICES = 100_000
PER_CUSTOMER = 5
NOTES = "Bench dunning: an overdue invoice"
CREATED_WITHIN = 60  # s: every planned customer has its notice
MAILED_WITHIN = 300  # s: the run is done and the server holds every email
GIVE_UP = 900  # s: the measure fails past this
WORKER_PROCESSES = 2


# --- seeding ------------------------------------------------------------------------------


def overdue_invoices(as_of) -> int:
    return Invoice.objects.open().filter(balance_due__gte="0.01", due_date__lte=as_of - timedelta(days=3)).count()


def seed_overdue(*, as_of, out=print) -> int:
    """Top the book's overdue invoices up to DUNNING_INVOICES (PER_CUSTOMER at most per
    customer); how many were added."""
    Invoice.objects.filter(notes=NOTES).delete()  # InvoiceLine cascades
    wanted = min(DUNNING_INVOICES, PER_CUSTOMER * Customer.objects.count()) - overdue_invoices(as_of)
    if wanted <= 0:
        return 0
    template = (
        Invoice.objects.filter(status=Invoice.Status.ISSUED, amount_credited=0, customer__tax_id__gt="")
        .order_by("pk")
        .first()
    )
    lines = list(InvoiceLine.objects.filter(invoice=template).order_by("position"))
    clerk = billing.clerk()
    customers = list(
        Customer.objects.exclude(tax_id="")
        .filter(currency=template.currency)
        .exclude(invoices__notes=receivables.OPEN_NOTES)  # bench.receivables counts that one's invoices
        .values_list("pk", "name", "tax_id")
    )
    started = time.perf_counter()
    with transaction.atomic():
        counter, _ = Sequence.objects.select_for_update().get_or_create(key="INV", year=as_of.year)
        invoices = []
        for n in range(wanted):
            customer_id, name, tax_id = customers[n % len(customers)]
            due = as_of - timedelta(days=4 + n % 17)
            counter.last += 1
            invoice = copy.copy(template)
            invoice.pk = invoice.id = None
            invoice.customer_id = customer_id
            invoice.number = f"INV-{as_of.year}-{counter.last:06d}"
            invoice.issue_date, invoice.due_date = due - timedelta(days=30), due
            invoice.amount_paid = Decimal("0.00")
            invoice.balance_due = invoice.total
            invoice.created_by = invoice.issued_by = clerk
            invoice.notes = NOTES
            invoice.billing_name, invoice.billing_tax_id = name, tax_id
            invoices.append(invoice)
        counter.save(update_fields=["last"])
        Invoice.objects.bulk_create(invoices, batch_size=2_000)
        made = []
        for invoice in invoices:
            for line in lines:
                fields = {f.attname: getattr(line, f.attname) for f in InvoiceLine._meta.concrete_fields}
                made.append(InvoiceLine(**{**fields, "id": None, "invoice_id": invoice.pk}))
        InvoiceLine.objects.bulk_create(made, batch_size=5_000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Invoice._meta.db_table}")
    out(f"  seeded {wanted:,} overdue invoices in {time.perf_counter() - started:.1f} s (bulk_create)")
    return wanted


def clear_dunning() -> None:
    """No earlier run's notices: the 48-hour rule and sent levels would hold customers back."""
    CollectionTask.objects.all().delete()
    DunningFee.objects.all().delete()
    DunningNoticeLine.objects.all().delete()
    DunningNotice.objects.all().delete()
    DunningRun.objects.all().delete()
    SentEmail.objects.filter(key__startswith="receivables.dunning_notice:").delete()


# --- the loopback SMTP server and the worker ----------------------------------------------


class CountingSMTP:
    """An aiosmtpd server on a free loopback port that counts what it accepts."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command

        self.received = 0
        self._lock = threading.Lock()
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                with outer._lock:
                    outer.received += 1
                return "250 Message accepted for delivery"

        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self._controller.start()
        return self

    def __exit__(self, *exc):
        self._controller.stop()


def mailed(run: DunningRun) -> int:
    """Notices of the run sent by email (a task level's notice goes to the owner, not the post)."""
    return (
        DunningNotice.objects.filter(run=run, status=DunningNotice.Status.SENT)
        .exclude(channel=DunningLevel.Channel.TASK)
        .count()
    )


def start_worker(workdir: Path, smtp_port: int) -> subprocess.Popen:
    base, _, _ = os.environ["DATABASE_URL"].partition("?")
    env = {
        **os.environ,
        "DATABASE_URL": f"{base.rsplit('/', 1)[0]}/{connection.settings_dict['NAME']}",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "DEBUG": "false",
    }
    logfile = workdir / "worker.log"
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", f"--concurrency={WORKER_PROCESSES}",
        "--pool=prefork", "--without-gossip", "--without-mingle", "--loglevel=WARNING",
        f"--hostname=bench-dunning-{os.getpid()}@%h", f"--logfile={logfile}",
    ]  # fmt: skip
    worker = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, start_new_session=True)
    deadline = time.monotonic() + 60
    from config.celery import app

    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited: {logfile.read_text() if logfile.exists() else ''}")
        if app.control.ping(timeout=0.5):
            return worker
    worker.terminate()
    raise RuntimeError("the worker was not ready in 60 s")


# --- the run ------------------------------------------------------------------------------


@once(
    "dunning_run",
    "Dunning run over the overdue book: a real worker, mail to a loopback SMTP server (PostgreSQL)",
    described=f"start_run(today) → dunning_plan → dunning_batch × customers/100 → send_dunning_notice, "
    f"{WORKER_PROCESSES} worker processes through Redis",
)
def dunning_run(ctx):
    if connection.vendor != "postgresql":
        return {"skipped": "PostgreSQL only"}
    if not settings.REDIS_URL:
        return {"skipped": "needs REDIS_URL (a real worker)"}
    if not Invoice.objects.exists():
        return {"skipped": "no invoices seeded (--invoices)"}
    from config.celery import app

    as_of = timezone.localdate()
    clear_dunning()
    # Every level by email: a letter renders a PDF per notice (≈ 130 ms of CPU each, so
    # 20k letters are ≈ 20 min of two cores), a task mails no one; the README says so.
    DunningLevel.objects.filter(policy=dunning.get_default_policy()).update(channel=DunningLevel.Channel.EMAIL)
    seed_overdue(as_of=as_of)
    app.control.purge()
    figures = {"overdue_invoices": overdue_invoices(as_of), "customers": Customer.objects.count()}
    with CountingSMTP() as smtp, tempfile.TemporaryDirectory() as workdir:
        worker = start_worker(Path(workdir), smtp.port)
        try:
            started = time.perf_counter()
            run = dunning.start_run(as_of=as_of, by=billing.clerk())
            figures["request_ms"] = round((time.perf_counter() - started) * 1000, 1)
            created_s = mailed_s = None
            while time.perf_counter() - started < GIVE_UP:
                run.refresh_from_db()
                elapsed = time.perf_counter() - started
                if created_s is None and "planned" in run.totals:
                    made = DunningNotice.objects.filter(run=run).count()
                    if made >= run.progress_total:
                        created_s = elapsed
                if run.status != DunningRun.Status.RUNNING and smtp.received >= mailed(run):
                    mailed_s = elapsed
                    break
                time.sleep(0.25)
        finally:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=60)
    run.refresh_from_db()
    figures.update(
        planned_customers=run.totals.get("planned"),
        skipped=sum(run.totals.get("skipped", {}).values()),
        notices_sent=run.notices_sent,
        notices_failed=run.notices_failed,
        emails_expected=mailed(run),
        emails_received=smtp.received,
        lines=DunningNoticeLine.objects.filter(notice__run=run).count(),
        notices_created_s=round(created_s, 1) if created_s is not None else None,
        all_mailed_s=round(mailed_s, 1) if mailed_s is not None else None,
        status=run.status,
    )
    if mailed_s is None:
        raise AssertionError(f"the run did not finish in {GIVE_UP} s: {figures}")
    if smtp.received != mailed(run):
        raise AssertionError(f"{smtp.received} emails for {mailed(run)} notices sent by email")
    analyze_written()
    return figures


def analyze_written() -> None:
    """Statistics for what the run wrote in bulk, as autovacuum gives them within a minute
    on a server that runs it (this machine's PostgreSQL does not): without them the
    worklist's plans guess at 18,000 notices and 100,000 lines (a seq scan of the lines
    for 25 customers)."""
    with connection.cursor() as cursor:
        for model in (DunningRun, DunningNotice, DunningNoticeLine, CollectionTask, SentEmail):
            cursor.execute(f"ANALYZE {model._meta.db_table}")


@target("dunning_created", f"Dunning: every planned customer's notice made ≤ {CREATED_WITHIN} s", unit="s")
def dunning_created(results):
    result = results.get("dunning_run")
    if not result or not result.get("ok") or "notices_created_s" not in result.get("figures", {}):
        return None, None
    seconds = result["figures"]["notices_created_s"]
    return seconds, seconds is not None and seconds <= CREATED_WITHIN


@target("dunning_mailed", f"Dunning: all mail handed to the SMTP server ≤ {MAILED_WITHIN // 60} min", unit="s")
def dunning_mailed(results):
    result = results.get("dunning_run")
    if not result or not result.get("ok") or "all_mailed_s" not in result.get("figures", {}):
        return None, None
    seconds = result["figures"]["all_mailed_s"]
    return seconds, seconds is not None and seconds <= MAILED_WITHIN


# --- the collectors' worklist -------------------------------------------------------------


def add_dunning_context(ctx) -> None:
    if ctx.invoices:
        ctx.clerk_id = billing.clerk().pk


@measure("dunning_worklist", "Collections worklist (overdue customers by amount × days)", as_user="clerk_id")
def dunning_worklist(ctx):
    return _page("receivables:collections") if ctx.invoices else ""


@target("dunning_worklist_p95", "Collections worklist p95 ≤ 60 ms (100k overdue invoices)", unit="ms")
def dunning_worklist_p95(results):
    result = results.get("dunning_worklist")
    if not result or not result.get("ok"):
        return None, None
    return result["p95_ms"], result["p95_ms"] <= 60
