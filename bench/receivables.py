"""Receivables at scale (issue 10): the payments of the 1M seeded invoices, and the
receivables measures.

Seeding (`seed_payments`): one payment per invoice with something paid on it (paid and
partially paid), received 20 days after the invoice was issued (today at the latest,
as the billing seed settles them), allocated in full to that invoice; one payment in
a hundred carries 25.00 of unapplied credit beside it. So every invoice's amount_paid
is the sum of its live allocations, each payment's amount_allocated / unapplied add up,
numbers run PAY-<year>-<seq> in date order and core.numbering's counters carry on
after them. PostgreSQL: COPY into the live tables (indexes, foreign keys and check
constraints in place), as bench.billing does.

A customer with 1,000 open invoices (`seed_open_customer`) is what recording a payment
with auto-allocation reads.

Measures:
- aging of the whole book: receivables.aging.totals(as_of) against a hand-written SQL
  query on the same data in the same run (medians of alternating runs; ≤ 1.5×), and
  the two must agree to the cent;
- recording a payment with auto-allocation (oldest due first) over the customer with
  1,000 open invoices, each inside a transaction that is rolled back (p95 ≤ 100 ms);
- the customer 360 (with its receivables panel) is bench.measures' customer_360 and
  customer_360_heavy, run over the seeded payments.
"""

import copy
import statistics
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from bench import billing, seed
from bench.measures import BenchContext, once, target, timed_call
from billing.models import CreditNote, Invoice, InvoiceLine
from core.models import Sequence
from crm.models import Customer
from receivables import aging
from receivables.models import Allocation, Payment, WriteOff
from receivables.services import PAYMENT_SERIES, record_payment

SETTLED_AFTER_DAYS = 20  # bench.billing settles invoices 20 days after issue (today at the latest)
CREDIT_EVERY = 100  # one payment in a hundred leaves some credit unapplied …
CREDIT_CENTS = 2500  # … this much
OPEN_INVOICES = 1_000
OPEN_NOTES = "Bench receivables: one of a customer's 1,000 open invoices"
PAID_BY_PAYMENT = 10  # the timed payment settles the 10 oldest invoices and part of the 11th
AGING_ROUNDS = 5
NULL = seed.NULL

PAYMENT_COLUMNS = (
    "id", "number", "customer_id", "received_on", "amount", "currency", "method", "reference", "notes", "status",
    "amount_allocated", "unapplied", "voided_on", "void_reason", "created_by_id", "version", "created_at",
    "updated_at",
)  # fmt: skip
ALLOCATION_COLUMNS = (
    "id", "payment_id", "invoice_id", "amount", "applied_on", "reversed_on", "created_by_id", "reversed_by_id",
    "created_at",
)  # fmt: skip
BATCH = 100_000


@dataclass
class PaymentSeedReport:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    method: str = ""
    mismatched_invoices: int = 0  # invoices whose amount_paid ≠ Σ live allocations (0 when right)


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def expected_payments() -> int:
    """Invoices with something paid on them: one payment each."""
    return Invoice.objects.filter(amount_paid__gt=0).count()


def seeded_payments() -> int:
    user = billing.seed_clerk()
    return Payment.objects.filter(created_by=user).count()


def payments_seeded() -> bool:
    """The seeded payments are there and still match the invoices (reseeding the
    invoices truncates the allocations and leaves the payments behind)."""
    expected = expected_payments()
    return expected > 0 and seeded_payments() == expected == Allocation.objects.live().count()


def mismatched_invoices() -> int:
    """Invoices whose amount_paid is not Σ live allocations + approved write-offs."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*) FROM {Invoice._meta.db_table} i
            LEFT JOIN (SELECT invoice_id, SUM(amount) s FROM {Allocation._meta.db_table}
                       WHERE reversed_on IS NULL GROUP BY invoice_id) a ON a.invoice_id = i.id
            LEFT JOIN (SELECT invoice_id, SUM(amount) s FROM {WriteOff._meta.db_table}
                       WHERE status = 'approved' GROUP BY invoice_id) w ON w.invoice_id = i.id
            WHERE i.amount_paid <> COALESCE(a.s, 0) + COALESCE(w.s, 0)
            """
        )
        return cursor.fetchone()[0]


def _clear_payments(cursor) -> None:
    from collaboration.models import FeedItem

    FeedItem.objects.filter(target_type=ContentType.objects.get_for_model(Payment)).delete()
    if connection.vendor == "postgresql":
        cursor.execute(f"TRUNCATE {Allocation._meta.db_table}, {Payment._meta.db_table} RESTART IDENTITY")
    else:
        cursor.execute(f"DELETE FROM {Allocation._meta.db_table}")
        cursor.execute(f"DELETE FROM {Payment._meta.db_table}")
    Sequence.objects.filter(key=PAYMENT_SERIES).delete()


def seed_payments(*, out=print) -> PaymentSeedReport:
    """Replace every payment and allocation with one payment per paid or partially paid invoice."""
    tables = {
        "payments": seed.Table(Payment, PAYMENT_COLUMNS),
        "allocations": seed.Table(Allocation, ALLOCATION_COLUMNS),
    }
    strategy, use_copy = billing._loader(list(tables.values()))
    report = PaymentSeedReport(rows=dict.fromkeys(tables, 0))
    started = time.perf_counter()
    clerk = str(billing.seed_clerk().pk)
    today = timezone.localdate()
    numbers: dict[int, int] = {}
    paid = (
        Invoice.objects.filter(amount_paid__gt=0)
        .order_by("pk")  # issue-date order, so the payments' dates (and numbers) run in order too
        .values_list("pk", "customer_id", "currency", "issue_date", "amount_paid")
    )
    with transaction.atomic(), connection.cursor() as cursor:
        _clear_payments(cursor)
        rows = {"payments": [], "allocations": []}
        for n, (invoice_id, customer_id, currency, issued, amount_paid) in enumerate(
            paid.iterator(chunk_size=20_000), start=1
        ):
            received = min(issued + timedelta(days=SETTLED_AFTER_DAYS), today)
            seq = numbers[received.year] = numbers.get(received.year, 0) + 1
            day = received.isoformat()
            at = f"{day} 09:{n % 60:02d}:00+00"
            allocated = int(amount_paid * 100)
            credit = CREDIT_CENTS if n % CREDIT_EVERY == 0 else 0
            pk = str(n)
            rows["payments"].append((
                pk, f"{PAYMENT_SERIES}-{received.year}-{seq:06d}", str(customer_id), day,
                _cents(allocated + credit), currency, "bank_transfer", f"BANK-{n:08d}", "", "posted",
                _cents(allocated), _cents(credit), NULL, "", clerk, "1", at, at,
            ))  # fmt: skip
            rows["allocations"].append((pk, pk, str(invoice_id), _cents(allocated), day, NULL, clerk, NULL, at))
            if n % BATCH == 0:
                _load(strategy, cursor, tables, rows, report)
                out(f"  … {n:,} payments ({time.perf_counter() - started:.1f} s)")
        _load(strategy, cursor, tables, rows, report)
        for sql in connection.ops.sequence_reset_sql(no_style(), [Payment, Allocation]):
            cursor.execute(sql)
        for year, last in numbers.items():
            Sequence.objects.update_or_create(key=PAYMENT_SERIES, year=year, defaults={"last": last})
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(table.name for table in tables.values())}")
        else:
            cursor.execute("ANALYZE")
    report.seconds = time.perf_counter() - started
    report.method = (
        "COPY into the live tables (every index, foreign key and check constraint in place)"
        if use_copy
        else "batched INSERTs (executemany) in one transaction, indexes kept"
    )
    report.mismatched_invoices = mismatched_invoices()
    return report


def _load(strategy, cursor, tables, rows, report) -> None:
    for name, batch in rows.items():
        if batch:
            strategy.load(cursor, tables[name], batch)
        report.rows[name] += len(batch)
        batch.clear()


# --- the customer with 1,000 open invoices --------------------------------------------------


def open_customer() -> Customer | None:
    """The seeded customer given the 1,000 open invoices (marked by their notes)."""
    customer_id = Invoice.objects.filter(notes=OPEN_NOTES).values_list("customer_id", flat=True).first()
    return Customer.objects.filter(pk=customer_id).first() if customer_id else None


def seed_open_customer(*, out=print) -> Customer:
    """OPEN_INVOICES issued invoices, nothing paid, due over the last year or so, on the
    last seeded customer that can be invoiced and owes nothing (copies of a seeded
    invoice, numbered on in their year's INV series). No customer is added: the
    customers seed counts them to decide whether to reseed."""
    customer = open_customer()
    if customer is not None and Invoice.objects.open().filter(customer=customer).count() == OPEN_INVOICES:
        return customer
    started = time.perf_counter()
    template = (
        Invoice.objects.filter(status=Invoice.Status.ISSUED, amount_credited=0, customer__tax_id__gt="")
        .select_related("customer")
        .order_by("pk")
        .first()
    )
    lines = list(InvoiceLine.objects.filter(invoice=template).order_by("position"))
    clerk = billing.clerk()
    today = timezone.localdate()
    with transaction.atomic():
        if customer is None:
            customer = (
                Customer.objects.exclude(tax_id="")
                .filter(currency=template.currency)
                .exclude(pk__in=Invoice.objects.open().values("customer_id"))
                .order_by("-pk")
                .first()
            )
        InvoiceLine.objects.filter(invoice__notes=OPEN_NOTES).delete()
        Invoice.objects.filter(notes=OPEN_NOTES).delete()
        days = [today - timedelta(days=(OPEN_INVOICES - i) // 3 + 1) for i in range(OPEN_INVOICES)]
        counters = {}
        for year in sorted({day.year for day in days}):
            counters[year], _ = Sequence.objects.select_for_update().get_or_create(key="INV", year=year)
        invoices = []
        for day in days:
            counter = counters[day.year]
            counter.last += 1
            invoice = copy.copy(template)
            invoice.pk = invoice.id = None
            invoice.customer = customer
            invoice.number = f"INV-{day.year}-{counter.last:06d}"
            invoice.issue_date = day
            invoice.due_date = day + timedelta(days=30)
            invoice.amount_paid = Decimal("0.00")
            invoice.balance_due = invoice.total
            invoice.created_by = invoice.issued_by = clerk
            invoice.notes = OPEN_NOTES
            invoice.billing_name, invoice.billing_tax_id = customer.legal_name or customer.name, customer.tax_id
            invoices.append(invoice)
        for counter in counters.values():
            counter.save(update_fields=["last"])
        Invoice.objects.bulk_create(invoices, batch_size=500)
        made = []
        for invoice in invoices:
            for line in lines:
                line.pk = line.id = None
                line.invoice = invoice
                made.append(
                    InvoiceLine(**{f.attname: getattr(line, f.attname) for f in InvoiceLine._meta.concrete_fields})
                )
        InvoiceLine.objects.bulk_create(made, batch_size=2_000)
    out(
        f"Seeded {OPEN_INVOICES:,} open invoices on customer {customer.pk} ({customer.name}) in {time.perf_counter() - started:.1f} s."
    )
    return customer


def seed_receivables(*, reuse: bool, out=print) -> None:
    """Payments for the seeded invoices (kept with --reuse when they still match), and
    the customer with 1,000 open invoices."""
    if not Invoice.objects.exists():
        return
    if reuse and payments_seeded():
        out(f"Reusing {seeded_payments():,} seeded payments.")
    else:
        out("Seeding one payment (and its allocation) per paid or partially paid invoice …")
        report = seed_payments(out=out)
        out(
            f"Seeded {', '.join(f'{name} {rows:,}' for name, rows in report.rows.items())} in {report.seconds:.1f} s "
            f"({sum(report.rows.values()) / report.seconds:,.0f} rows/s): {report.method}; "
            f"invoices whose amount paid ≠ Σ live allocations: {report.mismatched_invoices}"
        )
        if report.mismatched_invoices:
            raise AssertionError(f"{report.mismatched_invoices} invoices do not match their allocations")
    seed_open_customer(out=out)


def add_receivables_context(ctx: BenchContext) -> None:
    customer = open_customer()
    if customer is None:
        return
    oldest = list(
        Invoice.objects.open()
        .filter(customer=customer)
        .order_by("due_date", "issue_date", "pk")
        .values_list("balance_due", flat=True)[: PAID_BY_PAYMENT + 1]
    )
    ctx.open_customer_id = customer.pk
    ctx.payment_amount = sum(oldest[:-1], Decimal("0.00")) + (oldest[-1] / 2).quantize(Decimal("0.01"))


# --- aging of the whole book: the ORM against hand-written SQL ----------------------------


def aging_sql(as_of) -> list[dict]:
    """The book's aging at `as_of` per currency, written by hand: the same rule as
    receivables.aging.invoices_as_of, with each per-invoice sum grouped once and joined."""
    bucket_list = aging.buckets()
    sums = []
    params: dict = {"as_of": as_of, "end": aging._end_of(as_of)}
    for n, bucket in enumerate(bucket_list):
        where = []
        if bucket.high is not None:
            where.append(f"due_date >= %(high{n})s")
            params[f"high{n}"] = as_of - timedelta(days=bucket.high)
        if bucket.low is not None:
            where.append(f"due_date < %(low{n})s")
            params[f"low{n}"] = as_of - timedelta(days=bucket.low)
        sums.append(f"COALESCE(SUM(open) FILTER (WHERE {' AND '.join(where) or 'TRUE'}), 0) AS {bucket.key}")
    counted = ", ".join(f"'{status}'" for status in Invoice.OPEN_OR_SETTLED)
    sql = f"""
        WITH book AS (
            SELECT i.currency, i.due_date,
                   i.total - COALESCE(c.s, 0) - COALESCE(a.s, 0) - COALESCE(w.s, 0) AS open
            FROM {Invoice._meta.db_table} i
            LEFT JOIN (SELECT invoice_id, SUM(total) s FROM {CreditNote._meta.db_table}
                       WHERE issue_date <= %(as_of)s GROUP BY invoice_id) c ON c.invoice_id = i.id
            LEFT JOIN (SELECT invoice_id, SUM(amount) s FROM {Allocation._meta.db_table}
                       WHERE applied_on <= %(as_of)s AND (reversed_on IS NULL OR reversed_on > %(as_of)s)
                       GROUP BY invoice_id) a ON a.invoice_id = i.id
            LEFT JOIN (SELECT invoice_id, SUM(amount) s FROM {WriteOff._meta.db_table}
                       WHERE status = 'approved' AND written_off_on <= %(as_of)s
                       GROUP BY invoice_id) w ON w.invoice_id = i.id
            WHERE i.issue_date <= %(as_of)s
              AND (i.status IN ({counted}) OR (i.status = 'void' AND i.voided_at >= %(end)s))
        )
        SELECT currency, {", ".join(sums)}, COALESCE(SUM(open), 0) AS total
        FROM book GROUP BY currency HAVING COALESCE(SUM(open), 0) >= 0.01 ORDER BY currency
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [aging.in_cents(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


@once(
    "receivables_aging",
    "Aging of the whole book: ORM vs hand-written SQL",
    described=f"aging.totals(today) vs aging_sql(today), {AGING_ROUNDS} alternating runs each, medians",
)
def receivables_aging(ctx):
    as_of = timezone.localdate()
    orm, sql = aging.totals(as_of), aging_sql(as_of)  # once each untimed: caches warm alike
    if orm != sql:
        raise AssertionError(f"the ORM's aging {orm} differs from the SQL's {sql}")
    timings = {"orm": [], "sql": []}
    for _ in range(AGING_ROUNDS):
        for name, run in (("orm", aging.totals), ("sql", aging_sql)):
            started = time.perf_counter()
            rows = run(as_of)
            timings[name].append((time.perf_counter() - started) * 1000)
            if rows != orm:
                raise AssertionError(f"{name} aging changed between runs: {rows} vs {orm}")
    orm_ms, sql_ms = statistics.median(timings["orm"]), statistics.median(timings["sql"])
    return {
        "invoices": Invoice.objects.count(),
        "orm_ms": round(orm_ms, 1),
        "sql_ms": round(sql_ms, 1),
        "ratio": round(orm_ms / sql_ms, 2),
        "same_to_the_cent": True,
        "total": ", ".join(f"{row['total']} {row['currency']}" for row in orm),
    }


@target("receivables_aging_ratio", "Aging of the whole book ≤ 1.5 × hand-written SQL (medians)", unit="×")
def receivables_aging_ratio(results):
    result = results.get("receivables_aging")
    if not result or not result.get("ok"):
        return None, None
    ratio = result["figures"]["ratio"]
    return ratio, ratio <= 1.5


# --- recording a payment with auto-allocation ---------------------------------------------


@timed_call(
    "receivables_payment_auto",
    "Record a payment, auto-allocated over 1,000 open invoices (rolled back)",
    described=f"record_payment(allocations=None): settles the {PAID_BY_PAYMENT} oldest of {OPEN_INVOICES:,} "
    "open invoices and part of the next, in a transaction rolled back",
)
def receivables_payment_auto(ctx):
    customer = Customer.objects.get(pk=ctx.open_customer_id)
    clerk = billing.clerk()
    data = {"received_on": timezone.localdate(), "amount": ctx.payment_amount, "method": "bank_transfer"}

    def run():
        with transaction.atomic():
            payment = record_payment(customer=customer, by=clerk, data=data)
            assert payment.amount_allocated == ctx.payment_amount, payment.amount_allocated
            transaction.set_rollback(True)

    return run


@target(
    "receivables_payment_p95", "Record a payment with auto-allocation p95 ≤ 100 ms (1,000 open invoices)", unit="ms"
)
def receivables_payment_p95(results):
    result = results.get("receivables_payment_auto")
    if not result or not result.get("ok"):
        return None, None
    return result["p95_ms"], result["p95_ms"] <= 100
