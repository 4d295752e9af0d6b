"""Billing at scale (issue 9): 1M invoices seeded, and the billing measures.

Seeding (`seed_invoices`): invoices over the last two years, 1–5 lines each, on the
customers that can be invoiced (a tax id), a tenth of them on the 50 key accounts
(~2,000 each: the customer filter reads one). About half are open (issued or
partially paid; the older open ones overdue), the rest paid, 1% void, 0.1% drafts,
and 3% carry a credit note crediting their first line. Every tenth customer pays
promptly (nothing of theirs is open after 30 days): with half the book open, every
other customer is on credit hold (receivables.credit: overdue for more than 60
days), and the scenarios that issue pick prompt payers without a credit limit, as a
clerk would issue to customers in good standing. Amounts are what the services
would compute (rounded half-up per line, tax per line), so every check constraint
holds; numbers run INV-<year>-<seq> (CN-… for credit notes) without gaps in issue-
date order, and core.numbering's counters carry on after them. PostgreSQL: COPY into
the live tables, every index, foreign key and check constraint in place (nothing
dropped); SQLite: batched INSERTs (bench.seed's strategies).

Measures:
- the invoice list page and the API list at 1M invoices: first page, filtered
  (status, overdue, a key account), a deep page (page 400 / a cursor ~90% down);
  targets p95 ≤ 60 ms and a query count that does not grow with the data;
- the invoice PDF end to end (request_document → render task, eager → storage)
  against raw WeasyPrint on the same HTML (≥ 0.8×), and the peak RSS of a fresh
  process rendering invoices, as a worker does (≤ 300 MB);
- 16 clients (processes, each its own connection) issuing five-line drafts at once
  through billing.services.issue_invoice (≥ 40 invoices/s, numbers without gaps or
  duplicates);
- a recurring run (billing.plans.run_billing) over 10k plans made afresh each run
  (plans/s), then a second run, which must create nothing.
"""

import base64
import json
import multiprocessing
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from unittest import mock
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, connections, transaction
from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef
from django.db.models.functions import Cast, Substr
from django.utils import timezone
from django_countries import countries

from accounts.models import User
from bench import seed
from bench.measures import BenchContext, measure, once, target, timed_call
from billing.models import BillingPlan, BillingPlanLine, BillingRun, CreditNote, CreditNoteLine, Invoice, InvoiceLine
from core.models import Sequence
from crm.models import Customer, TaxRate, due_date

INVOICES = 1_000_000
PLANS = 10_000
BATCH_INVOICES = 100_000
HISTORY_DAYS = 730  # issue dates over the last two years, oldest first
KEY_ACCOUNTS = seed.KEY_ACCOUNTS  # customers 1–50 (with a tax id) …
KEY_ACCOUNT_PERCENT = 10  # … get a tenth of the invoices
RECENT_DAYS = 45  # younger invoices are mostly still open
PROMPT_EVERY, PROMPT_DAYS = 10, 30  # customers 10, 20, 30 … pay everything within 30 days
# Per mille of invoices: void; open when recent / older (≈ 50% open overall); credited.
VOID, OPEN_RECENT, OPEN_OLDER, CREDITED = 10, 940, 520, 30
PARTIALLY_PAID_EVERY = 5  # one open invoice in five has a payment on it
SENT_PERCENT = 90
DRAFTS_PER_MILLE = 1  # the newest ids: drafts someone is still working on
SEED_CLERK = "bench_clerk01"  # seeded invoices are theirs (seeded_invoices counts them)
CLERK = ("bench_clerk02", "Finance clerk", "Jan", "Albers")  # who issues, renders and runs billing in measures
ISSUING_CLIENTS, INVOICES_PER_CLIENT, LINES_PER_DRAFT = 16, 25, 5
CREDIT_REASONS = ("One unit returned unused", "Service outage credited", "Price agreed after delivery")
# fmt: off
# (description, unit price in cents, tax rate key): what invoices bill.
ITEMS = (
    ("Consulting day", 120000, "standard"), ("Licence, annual", 480000, "standard"),
    ("Support hours (10)", 95000, "standard"), ("Installation", 250000, "standard"),
    ("Training seat", 45000, "reduced"), ("Hardware kit", 310000, "standard"),
)
# fmt: on
QUANTITIES = (1, 2, 3, 4, 5)
DISCOUNTS = (0, 0, 5, 10)
TAX_RATES = {"standard": ("VAT 19% (bench)", 19), "reduced": ("VAT 7% (bench)", 7)}
NULL = seed.NULL

INVOICE_COLUMNS = (
    "id", "customer_id", "number", "status", "issue_date", "due_date", "currency", "payment_terms", "payment_days",
    "notes", "subtotal", "tax_total", "total", "amount_credited", "amount_paid", "balance_due", "billing_name",
    "billing_address", "billing_tax_id", "sent_at", "sent_to", "voided_at", "void_reason", "created_by_id",
    "issued_by_id", "created_at", "updated_at",
)  # fmt: skip
LINE_COLUMNS = (
    "id", "invoice_id", "position", "product_id", "description", "quantity", "unit_price", "discount_percent",
    "amount", "tax_rate_id", "tax_name", "tax_percent", "tax_amount",
)  # fmt: skip
NOTE_COLUMNS = (
    "id", "invoice_id", "customer_id", "number", "issue_date", "currency", "reason", "subtotal", "tax_total",
    "total", "created_by_id", "created_at",
)  # fmt: skip
NOTE_LINE_COLUMNS = (
    "id", "credit_note_id", "position", "product_id", "description", "quantity", "unit_price", "discount_percent",
    "amount", "invoice_line_id", "tax_name", "tax_percent", "tax_amount",
)  # fmt: skip
PLAN_COLUMNS = (
    "id", "customer_id", "name", "interval", "start_date", "end_date", "next_invoice_date", "auto_issue",
    "auto_send", "is_active", "currency", "created_by_id", "created_at", "updated_at",
)  # fmt: skip
PLAN_LINE_COLUMNS = (
    "id", "plan_id", "position", "product_id", "description", "quantity", "unit_price", "discount_percent", "amount",
    "tax_rate_id",
)  # fmt: skip


def _cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def _line_amount(unit_cents: int, quantity: int, discount: int) -> int:
    """core.money.line_amount in whole cents: quantity × price less discount, half-up."""
    return (unit_cents * quantity * (100 - discount) + 50) // 100


def _tax(amount_cents: int, percent: int) -> int:
    return (amount_cents * percent + 50) // 100


# --- people and rates ---------------------------------------------------------------------


def _user(username: str, role: str, first: str, last: str) -> User:
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@concord.example"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=role))
    return user


def seed_clerk() -> User:
    return seed.seed_feed_users()[SEED_CLERK]


def finance_manager() -> User:
    return seed.seed_feed_users()["bench_manager02"]


def clerk() -> User:
    return _user(*CLERK)


def tax_rates() -> dict[str, TaxRate]:
    return {
        key: TaxRate.objects.get_or_create(name=name, defaults={"percentage": Decimal(percent)})[0]
        for key, (name, percent) in TAX_RATES.items()
    }


# --- seeding the invoices ------------------------------------------------------------------


@dataclass
class BillingSeedReport:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    method: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return sum(self.rows.values()) / self.seconds if self.seconds else 0.0


class InvoiceRows:
    """Generates invoices, their lines, credit notes and credit-note lines in batches
    (COPY text fields), ids and numbers counted here. One random draw per invoice,
    taken apart with divmod, as bench.seed's generators do."""

    def __init__(self, *, total: int, customers: list[tuple], rates: dict[str, TaxRate], clerk_id: int, today: date):
        self.getrandbits = random.Random(2030).getrandbits
        self.total = total
        self.drafts = max(1, total * DRAFTS_PER_MILLE // 1000) if total >= 1000 else 0
        self.issued = total - self.drafts
        self.customers = customers
        self.key_accounts = sum(1 for row in customers if int(row[0]) <= KEY_ACCOUNTS) or 1
        self.clerk = str(clerk_id)
        self.today = today
        self.first_day = today - timedelta(days=HISTORY_DAYS - 1)
        self.days = [self.first_day + timedelta(days=n) for n in range(HISTORY_DAYS + 30)]
        self.iso = [day.isoformat() for day in self.days]
        self.morning = [f"{iso} 08:{n % 60:02d}:00" for n, iso in enumerate(self.iso)]
        self.numbers: dict[tuple[str, int], int] = {}
        self.dues: dict[tuple[str, int, int], str] = {}
        self.ids = dict.fromkeys(("invoice", "line", "note", "note_line"), 0)
        self.combos = self._combos(rates)

    @staticmethod
    def _combos(rates: dict[str, TaxRate]) -> list[tuple]:
        """Every (item, quantity, discount) a line can be: (the fields both kinds of line
        share, the tax fields, net cents, tax cents, the tax rate's id)."""
        combos = []
        for description, unit, rate_key in ITEMS:
            rate = rates[rate_key]
            percent = TAX_RATES[rate_key][1]
            for quantity in QUANTITIES:
                for discount in dict.fromkeys(DISCOUNTS):
                    net = _line_amount(unit, quantity, discount)
                    tax = _tax(net, percent)
                    shared = (NULL, description, f"{quantity}.000", _cents(unit), f"{discount}.00", _cents(net))
                    combos.append((shared, (rate.name, f"{percent}.00", _cents(tax)), net, tax, str(rate.pk)))
        return combos

    def _number(self, series: str, year: int) -> str:
        seq = self.numbers[series, year] = self.numbers.get((series, year), 0) + 1
        return f"{series}-{year}-{seq:06d}"

    def _due(self, terms: str, days: int, day: int) -> str:
        key = (terms, days, day)
        if key not in self.dues:  # a few thousand combinations over a million invoices
            self.dues[key] = due_date(terms, days, self.days[day]).isoformat()
        return self.dues[key]

    def _next(self, table: str) -> str:
        self.ids[table] += 1
        return str(self.ids[table])

    def batch(self, size: int) -> dict[str, list[tuple]]:
        rows = {"invoices": [], "lines": [], "credit_notes": [], "credit_note_lines": []}
        invoices, lines = rows["invoices"], rows["lines"]
        getrandbits, combos, n_combos = self.getrandbits, self.combos, len(self.combos)
        customers, n_customers = self.customers, len(self.customers)
        last_day = HISTORY_DAYS - 1
        for _ in range(min(size, self.total - self.ids["invoice"])):
            invoice_id = self._next("invoice")
            index = int(invoice_id) - 1
            bits = getrandbits(128)
            bits, key_draw = divmod(bits, 100)
            bits, who = divmod(bits, n_customers)
            if key_draw < KEY_ACCOUNT_PERCENT:
                who %= self.key_accounts
            bits, n_lines = divmod(bits, 5)
            bits, state = divmod(bits, 1000)
            bits, share = divmod(bits, 80)
            bits, credit_draw = divmod(bits, 1000)
            bits, sent_draw = divmod(bits, 100)
            customer, currency, terms, days, name, address, tax_id, email, prompt = customers[who]

            subtotal = tax_total = 0
            first = None
            for position in range(n_lines + 1):
                bits, combo_i = divmod(bits, n_combos)
                shared, taxes, net, tax, rate_id = combos[combo_i]
                line_id = self._next("line")
                lines.append((line_id, invoice_id, str(position), *shared, rate_id, *taxes))
                subtotal += net
                tax_total += tax
                if first is None:
                    first = (line_id, shared, taxes, net + tax, net, tax)
            total = subtotal + tax_total
            money = (_cents(subtotal), _cents(tax_total), _cents(total))

            if index >= self.issued:  # the newest: drafts, no number, no dates, billing details not copied yet
                created = self.morning[last_day]
                invoices.append((
                    invoice_id, customer, NULL, "draft", NULL, NULL, currency, terms, str(days), "", *money,
                    "0.00", "0.00", money[2], "", "", "", NULL, "", NULL, "", self.clerk, NULL, created, created,
                ))  # fmt: skip
                continue

            day = index * HISTORY_DAYS // self.issued
            issued = self.days[day]
            created = self.morning[day]
            number = self._number("INV", issued.year)
            due = self._due(terms, days, day)
            credited = paid = 0
            voided_at, void_reason, status = NULL, "", ""
            settled = self.morning[min(day + 20, last_day)]
            if state < VOID:
                status, voided_at, void_reason, updated = "void", settled, "Issued twice by mistake", settled
            else:
                if credit_draw < CREDITED:
                    credited = first[3]
                    self._credit_note(rows, invoice_id, customer, currency, first, day)
                left = total - credited
                age = last_day - day
                if prompt:
                    is_open = age < PROMPT_DAYS and state < VOID + OPEN_RECENT
                else:
                    is_open = state < VOID + (OPEN_RECENT if age < RECENT_DAYS else OPEN_OLDER)
                if not is_open:
                    paid = left
                elif state % PARTIALLY_PAID_EVERY == 0:
                    paid = left * (10 + share) // 100
                balance = left - paid
                status = "paid" if balance == 0 else "partially_paid" if paid else "issued"
                updated = created if status == "issued" and not credited else settled
            sent = sent_draw < SENT_PERCENT and status != "void"
            invoices.append((
                invoice_id, customer, number, status, self.iso[day], due, currency, terms, str(days), "", *money,
                _cents(credited), _cents(paid), _cents(total - credited - paid), name, address, tax_id,
                created if sent else NULL, email if sent else "", voided_at, void_reason, self.clerk, self.clerk,
                created, updated,
            ))  # fmt: skip
        return rows

    def _credit_note(self, rows, invoice_id, customer, currency, first, day) -> None:
        """A credit note of the invoice's whole first line, ten days after it was issued."""
        line_id, shared, taxes, total, net, tax = first
        on = min(day + 10, HISTORY_DAYS - 1)
        note_id = self._next("note")
        number = self._number("CN", self.days[on].year)
        reason = CREDIT_REASONS[int(note_id) % len(CREDIT_REASONS)]
        rows["credit_notes"].append((
            note_id, invoice_id, customer, number, self.iso[on], currency, reason, _cents(net), _cents(tax),
            _cents(total), self.clerk, self.morning[on],
        ))  # fmt: skip
        rows["credit_note_lines"].append((self._next("note_line"), note_id, "1", *shared, line_id, *taxes))


def _invoiceable_customers(newline: str) -> list[tuple]:
    """(id, currency, terms, days, billing name, billing address, tax id, email, prompt
    payer?) of every customer with a tax id (what issuing requires), in id order."""
    names = dict(countries)
    rows = []
    for pk, name, legal, tax_id, street, street2, postal, city, region, country, currency, terms, days, email in (
        Customer.objects.exclude(tax_id="")
        .order_by("pk")
        .values_list(
            "pk",
            "name",
            "legal_name",
            "tax_id",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "region",
            "country",
            "currency",
            "payment_terms",
            "payment_days",
            "email",
        )  # fmt: skip
        .iterator(chunk_size=10_000)
    ):
        city_line = " ".join(part for part in (postal, city) if part)
        address = newline.join(line for line in (street, street2, city_line, region, names.get(country, "")) if line)
        prompt = pk % PROMPT_EVERY == 0
        rows.append((str(pk), currency, terms, days, legal or name, address, tax_id, email, prompt))
    return rows


def _loader(tables: list[seed.Table]):
    use_copy = connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg2"
    return (seed.PostgresCopy if use_copy else seed.BatchInsert)(tables), use_copy


def _clear_billing(cursor) -> None:
    """Every invoice, credit note, plan and run, their documents and feed items, the
    INV/CN counters, and the customers' payment behaviour measured on the old ones
    (receivables' Standing): the seed starts from nothing."""
    from collaboration.models import FeedItem
    from core.models import Document
    from receivables.models import Standing

    Standing.objects.all().delete()

    models = [CreditNoteLine, CreditNote, InvoiceLine, Invoice, BillingPlanLine, BillingPlan]
    types = [ContentType.objects.get_for_model(model) for model in (Invoice, CreditNote, BillingPlan)]
    Document.objects.filter(content_type__in=types).delete()
    FeedItem.objects.filter(target_type__in=types).delete()
    if connection.vendor == "postgresql":
        tables = ", ".join(model._meta.db_table for model in [*models, BillingRun])
        cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    else:
        for model in [*models, BillingRun]:
            cursor.execute(f"DELETE FROM {model._meta.db_table}")
    Sequence.objects.filter(key__in=["INV", "CN"]).delete()


def seed_invoices(*, invoices: int, out=print) -> BillingSeedReport:
    """Replace every invoice (and credit note, plan, run) with `invoices` generated ones."""
    tables = {
        "invoices": seed.Table(Invoice, INVOICE_COLUMNS),
        "lines": seed.Table(InvoiceLine, LINE_COLUMNS),
        "credit_notes": seed.Table(CreditNote, NOTE_COLUMNS),
        "credit_note_lines": seed.Table(CreditNoteLine, NOTE_LINE_COLUMNS),
    }
    strategy, use_copy = _loader(list(tables.values()))
    report = BillingSeedReport(rows=dict.fromkeys(tables, 0))
    started = time.perf_counter()
    generator = InvoiceRows(
        total=invoices,
        # COPY's text format writes a newline inside a field as \n.
        customers=_invoiceable_customers("\\n" if use_copy else "\n"),
        rates=tax_rates(),
        clerk_id=seed_clerk().pk,
        today=timezone.localdate(),
    )
    generating = 0.0
    with transaction.atomic(), connection.cursor() as cursor:
        _clear_billing(cursor)
        # Nothing dropped: COPY into the live tables, each row checked and indexed as it comes.
        while generator.ids["invoice"] < invoices:
            batch_started = time.perf_counter()
            rows = generator.batch(BATCH_INVOICES)
            generating += time.perf_counter() - batch_started
            for name, batch in rows.items():
                if batch:
                    strategy.load(cursor, tables[name], batch)
                report.rows[name] += len(batch)
            out(f"  … {report.rows['invoices']:,} invoices ({time.perf_counter() - started:.1f} s)")
        for sql in connection.ops.sequence_reset_sql(no_style(), [Invoice, InvoiceLine, CreditNote, CreditNoteLine]):
            cursor.execute(sql)
        for (series, year), last in generator.numbers.items():
            Sequence.objects.update_or_create(key=series, year=year, defaults={"last": last})
    loaded = time.perf_counter()
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
    report.notes.append(
        f"generating rows {generating:.1f} s, loading {loaded - started - generating:.1f} s, "
        f"vacuum/analyze {report.seconds - (loaded - started):.1f} s"
    )
    return report


def seeded_invoices() -> int:
    """How many invoices the seed made (the measures' own invoices are someone else's)."""
    user = User.objects.filter(username=SEED_CLERK).first()
    return Invoice.objects.filter(created_by=user).count() if user else 0


# --- context --------------------------------------------------------------------------------


def deep_cursor(position: int) -> str:
    """The API's cursor (DRF's encoding) of a page starting below id `position` (order -id)."""
    return base64.b64encode(urlencode({"p": str(position)}).encode("ascii")).decode("ascii")


def add_billing_context(ctx: BenchContext) -> None:
    newest = Invoice.objects.aggregate(newest=Max("id"))["newest"]
    if not newest:
        return
    ctx.invoices = seeded_invoices()
    key = (
        Invoice.objects.filter(customer_id__lte=KEY_ACCOUNTS)
        .values("customer_id")
        .annotate(n=Count("id"))
        .order_by("-n", "customer_id")
        .first()
    )
    ctx.invoice_customer_id = key["customer_id"] if key else 0
    ctx.invoice_deep_cursor = deep_cursor(max(2, newest // 10))


# --- the invoice list and the API at 1M invoices ------------------------------------------
# The page lists 25 rows (newest issue date first) with the filtered set's count and
# totals per currency; the API 50 rows by cursor (newest id first), no count.


def _listed(ctx, url: str) -> str:
    return url if ctx.invoices else ""


@measure("invoice_list_page", "Invoice list page (first page)")
def invoice_list_page(ctx):
    return _listed(ctx, "/invoices/")


@measure("invoice_list_status", "Invoice list page, status=issued (open, ~40%)")
def invoice_list_status(ctx):
    return _listed(ctx, "/invoices/?status=issued")


@measure("invoice_list_overdue", "Invoice list page, overdue=true")
def invoice_list_overdue(ctx):
    return _listed(ctx, "/invoices/?overdue=true")


@measure("invoice_list_customer", "Invoice list page, one key account (customer=)")
def invoice_list_customer(ctx):
    return _listed(ctx, f"/invoices/?customer={ctx.invoice_customer_id}")


@measure("invoice_list_deep", "Invoice list page 400 (rows 9,976–10,000)")
def invoice_list_deep(ctx):
    return _listed(ctx, "/invoices/?page=400")


@measure("invoice_api_list", "API /api/v1/invoices/ (token)", client="token")
def invoice_api_list(ctx):
    return _listed(ctx, "/api/v1/invoices/")


@measure("invoice_api_status", "API /api/v1/invoices/?status=issued (token)", client="token")
def invoice_api_status(ctx):
    return _listed(ctx, "/api/v1/invoices/?status=issued")


@measure("invoice_api_customer", "API /api/v1/invoices/?customer= (key account)", client="token")
def invoice_api_customer(ctx):
    return _listed(ctx, f"/api/v1/invoices/?customer={ctx.invoice_customer_id}")


@measure("invoice_api_deep", "API /api/v1/invoices/, a cursor ~90% down", client="token")
def invoice_api_deep(ctx):
    return _listed(ctx, f"/api/v1/invoices/?cursor={ctx.invoice_deep_cursor}")


@timed_call(
    "invoice_list_totals",
    "The list page's totals alone (count, billed, balance per currency; every invoice)",
    described="billing.views.invoices.invoice_totals(Invoice.objects.all())",
)
def invoice_list_totals(ctx):
    """What the list page adds over the API: its totals of the filtered set, here of
    every invoice (the unfiltered page), to show where the page's time goes."""
    from billing.views.invoices import invoice_totals

    return lambda: invoice_totals(Invoice.objects.all())


# Measures of each list, with the queries they may add to its first page's (the
# customer filter reads that customer's name for the "Invoices of …" line).
PAGE_MEASURES = {
    "invoice_list_page": 0,
    "invoice_list_status": 0,
    "invoice_list_overdue": 0,
    "invoice_list_customer": 1,
    "invoice_list_deep": 0,
}
API_MEASURES = {"invoice_api_list": 0, "invoice_api_status": 0, "invoice_api_customer": 0, "invoice_api_deep": 0}


def _measured(results, names):
    return {name: results[name] for name in names if results.get(name) and results[name].get("ok")}


@target("invoice_lists_p95", "Invoice list page and API p95 ≤ 60 ms at 1M invoices (every variant; worst)", unit="ms")
def invoice_lists_p95(results):
    measured = _measured(results, [*PAGE_MEASURES, *API_MEASURES])
    if not measured:
        return None, None
    worst = max(r["p95_ms"] for r in measured.values())
    return worst, worst <= 60


@target(
    "invoice_lists_queries",
    "Invoice list page and API: the same queries whatever the filter or depth (page; API)",
    unit="queries",
)
def invoice_lists_queries(results):
    constant, most = True, None
    for first, extras in (("invoice_list_page", PAGE_MEASURES), ("invoice_api_list", API_MEASURES)):
        measured = _measured(results, extras)
        if first not in measured:
            continue
        base = measured[first]["queries"]
        counts = {name: r["queries"] - extras[name] for name, r in measured.items()}
        constant &= set(counts.values()) == {base}
        most = max(most or 0, *(r["queries"] for r in measured.values()))
        print(f"  {first}: {base} queries; " + ", ".join(f"{n} {r['queries']}" for n, r in measured.items()))
    if most is None:
        return None, None
    return most, constant


# --- the invoice PDF ----------------------------------------------------------------------
# As quote_pdf: the document pipeline end to end against raw WeasyPrint on the same
# HTML, on an issued invoice of 12 lines; and the memory of a process rendering them.

BENCH_PDF_NOTES = "Bench PDF invoice"
LONG_PDF_NOTES = "Bench PDF invoice, 150 lines"


def in_good_standing():
    """Customers the seed never lets fall behind (prompt payers) and without a credit
    limit, beyond the key accounts, and owing nothing long overdue (another seed may
    give one of them old open invoices): issuing to them passes receivables' credit
    check however many invoices the scenarios add."""
    long_overdue = timezone.localdate() - timedelta(days=int(settings.RECEIVABLES["HOLD_OVERDUE_DAYS"]))
    return (
        Customer.objects.annotate(payer=F("id") % PROMPT_EVERY)
        .filter(payer=0, credit_limit__isnull=True, pk__gt=KEY_ACCOUNTS)
        .exclude(tax_id="")
        .exclude(address_line1="")
        .exclude(Exists(Invoice.objects.open().filter(customer=OuterRef("pk"), due_date__lt=long_overdue)))
    )


def _pdf_customer(ctx) -> Customer:
    return in_good_standing().order_by("pk").first()


def _bench_invoice(ctx, *, notes: str = BENCH_PDF_NOTES, lines: int = 12) -> Invoice:
    """An issued invoice of `lines` lines (two tax rates, some discounts), made once per
    bench database through billing.services."""
    from billing import services

    existing = Invoice.objects.filter(notes=notes).exclude(number=None).order_by("-id").first()
    if existing is not None:
        return existing
    rates = tax_rates()
    by = clerk()
    draft = services.create_invoice(
        by=by,
        customer=_pdf_customer(ctx),
        data={"notes": notes},
        lines=[
            {
                "description": f"Licence tier {n} — annual subscription",
                "quantity": str(1 + n % 7),
                "unit_price": f"{99 + n * 13}.50",
                "discount_percent": "5" if n % 3 == 0 else "0",
                "tax_rate": rates["reduced" if n % 4 == 0 else "standard"].pk,
            }
            for n in range(1, lines + 1)
        ],
    )
    return services.issue_invoice(invoice=draft, by=by, render=False)


@timed_call(
    "invoice_pdf",
    "Invoice PDF end to end (request_document + render task, eager; 12 lines)",
    described="core.documents: request → render_document → storage",
)
def invoice_pdf(ctx):
    from billing.services import INVOICE_DOCUMENT
    from config.celery import app as celery_app
    from core import documents
    from core.models import document_storage

    invoice = _bench_invoice(ctx)
    celery_app.conf.task_always_eager = True

    def run():
        # A fresh document each time: a ready one is (rightly) never rendered again.
        old = documents.document_for(invoice, INVOICE_DOCUMENT)
        if old is not None:
            if old.file:
                document_storage().delete(old.file.name)
            old.delete()
        with transaction.atomic():
            documents.request_document(invoice, INVOICE_DOCUMENT)
        document = documents.document_for(invoice, INVOICE_DOCUMENT)
        if not document.is_ready:
            raise RuntimeError(f"document {document.status}: {document.error}")
        return document

    return run


@timed_call(
    "invoice_pdf_raw",
    "Raw WeasyPrint on the same invoice HTML",
    described="weasyprint.HTML(string=html).write_pdf()",
)
def invoice_pdf_raw(ctx):
    import weasyprint

    from billing.services import INVOICE_DOCUMENT
    from core import documents

    html = documents.render_html(INVOICE_DOCUMENT, _bench_invoice(ctx))
    return lambda: weasyprint.HTML(string=html).write_pdf()


@target("invoice_pdf_ratio", "Invoice PDF pipeline ≥ 0.8× raw WeasyPrint (throughput, medians)", unit="×")
def invoice_pdf_ratio(results):
    pipeline, raw = results.get("invoice_pdf"), results.get("invoice_pdf_raw")
    if not (pipeline and raw and pipeline.get("ok") and raw.get("ok")):
        return None, None
    ratio = raw["p50_ms"] / pipeline["p50_ms"]
    print(
        f"  invoice PDF: pipeline p50 {pipeline['p50_ms']:.1f} ms, raw WeasyPrint p50 {raw['p50_ms']:.1f} ms, "
        f"ratio {ratio:.2f}× (target ≥ 0.8×); by CPU time {raw['cpu_ms'] / pipeline['cpu_ms']:.2f}× "
        f"({pipeline['cpu_ms']:.0f} vs {raw['cpu_ms']:.0f} ms)"
    )
    return ratio, ratio >= 0.8


PDF_WORKER_RENDERS = 10


@once(
    "invoice_pdf_memory",
    "Invoice PDF: peak RSS of a fresh process rendering like a worker",
    described="python -m bench.pdf_worker: 10 × 12 lines + 3 × 150 lines, VmHWM",
)
def invoice_pdf_memory(ctx):
    """A new process (Django, Celery's app, WeasyPrint imported, as a worker has them)
    renders the 12-line invoice ten times and a 150-line one (several pages) three
    times through the pipeline; its peak resident set is what one worker needs."""
    short, long = _bench_invoice(ctx), _bench_invoice(ctx, notes=LONG_PDF_NOTES, lines=150)
    command = [
        sys.executable,
        "-m",
        "bench.pdf_worker",
        connection.settings_dict["NAME"],
        f"{short.pk}:{PDF_WORKER_RENDERS}",
        f"{long.pk}:3",
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"pdf_worker exited {finished.returncode}: {finished.stderr.strip()[-500:]}")
    figures = json.loads(finished.stdout.strip().splitlines()[-1])
    return {
        "MB after imports": figures["ready_mb"],
        "peak MB": figures["peak_mb"],
        "MB at the end": figures["rss_mb"],
        "12-line p50 ms": figures["short_p50_ms"],
        "150-line p50 ms": figures["long_p50_ms"],
        "pages": f"{figures['short_pages']} and {figures['long_pages']}",
    }


@target("invoice_pdf_rss", "Invoice PDF rendering: peak RSS ≤ 300 MB per worker process", unit="MB")
def invoice_pdf_rss(results):
    result = results.get("invoice_pdf_memory")
    if not result or not result.get("ok"):
        return None, None
    peak = result["figures"]["peak MB"]
    return peak, peak <= 300


# --- issuing at once -------------------------------------------------------------------------


def _five_lines(rates) -> list[dict]:
    return [
        {
            "description": description,
            "quantity": str(1 + n),
            "unit_price": _cents(unit),
            "discount_percent": "5" if n == 2 else "0",
            "tax_rate": rates[rate].pk,
        }
        for n, (description, unit, rate) in enumerate(ITEMS[:LINES_PER_DRAFT])
    ]


def numbers_in_year(year: int) -> dict:
    """Every invoice number of `year`: how many, how many distinct, the highest, and
    the counter's last: gapless when all four agree."""
    prefix = f"INV-{year}-"
    numbered = Invoice.objects.filter(number__startswith=prefix).annotate(
        seq=Cast(Substr("number", len(prefix) + 1), IntegerField())
    )
    found = numbered.aggregate(count=Count("id"), distinct=Count("number", distinct=True), highest=Max("seq"))
    counter = Sequence.objects.filter(key="INV", year=year).values_list("last", flat=True).first() or 0
    return {**found, "counter": counter}


def _tasks_to_the_worker() -> None:
    """Queue tasks as a web process does (the behaviour refresh after an issue goes to
    the worker), to an in-memory broker that nobody reads: the clients are measured,
    not the worker (which runs on its own processes, or machines, in production)."""
    from config.celery import app as celery_app

    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = "memory://"


def _issue_batch(invoice_ids: list[int], by_id: int, barrier, results) -> None:
    """One client (a forked process with its own connection): issue its drafts, one
    after the other, once every client is ready; put (latencies, errors) on `results`."""
    from billing import services

    latencies, errors = [], []
    try:
        _tasks_to_the_worker()
        by = User.objects.get(pk=by_id)
        drafts = list(Invoice.objects.filter(pk__in=invoice_ids).order_by("pk"))
        barrier.wait(timeout=120)
        for draft in drafts:
            started = time.perf_counter()
            services.issue_invoice(invoice=draft, by=by, render=False)
            latencies.append(time.perf_counter() - started)
    except Exception as error:  # counted and reported: the figures say how many failed
        errors.append(f"{type(error).__name__}: {error}")
    finally:
        connection.close()
        results.put((latencies, errors))


@once(
    "invoice_issue_concurrent",
    f"{ISSUING_CLIENTS} clients issuing five-line drafts at once (PostgreSQL)",
    described="16 processes, each its own connection: billing.services.issue_invoice(render=False), tasks queued",
)
def invoice_issue_concurrent(ctx):
    """16 clients issue 25 five-line drafts each (made beforehand, not timed) on
    distinct customers, all starting together. Each client is a process of its own
    (forked, with its own connection), as gunicorn workers are: threads of this one
    process would share Python's global interpreter lock, which those do not. One
    client issuing 25 alone first gives the figure to compare with: as fast means the
    machine's CPU is the limit, not the counter's row lock."""
    from billing import services

    if connection.vendor != "postgresql":  # SQLite writes one transaction at a time: "database is locked"
        return {"skipped": "PostgreSQL only"}
    by = clerk()
    lines = _five_lines(tax_rates())
    count = ISSUING_CLIENTS * INVOICES_PER_CLIENT
    customers = list(in_good_standing().order_by("?")[: count + INVOICES_PER_CLIENT])
    drafts = [services.create_invoice(by=by, customer=customer, lines=lines).pk for customer in customers]
    alone, drafts = drafts[:INVOICES_PER_CLIENT], drafts[INVOICES_PER_CLIENT:]
    from config.celery import app as celery_app

    eager, broker = celery_app.conf.task_always_eager, celery_app.conf.broker_url
    _tasks_to_the_worker()
    try:
        started = time.perf_counter()
        for draft in Invoice.objects.filter(pk__in=alone):
            services.issue_invoice(invoice=draft, by=by, render=False)
        one_client = len(alone) / (time.perf_counter() - started)
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.broker_url = eager, broker
    year = timezone.localdate().year
    before = numbers_in_year(year)

    processes = multiprocessing.get_context("fork")
    barrier = processes.Barrier(ISSUING_CLIENTS + 1)
    results = processes.Queue()
    connections.close_all()  # no connection is shared with the children: each opens its own
    clients = [
        processes.Process(target=_issue_batch, args=(drafts[n::ISSUING_CLIENTS], by.pk, barrier, results))
        for n in range(ISSUING_CLIENTS)
    ]
    for client in clients:
        client.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    reports = [results.get(timeout=900) for _ in clients]
    seconds = time.perf_counter() - started
    for client in clients:
        client.join(timeout=60)
    latencies = [latency for report in reports for latency in report[0]]
    errors = [error for report in reports for error in report[1]]
    numbers = Invoice.objects.filter(pk__in=drafts).exclude(number=None).values_list("number", flat=True)
    seqs = [int(number.rsplit("-", 1)[1]) for number in numbers]
    expected = set(range(before["counter"] + 1, before["counter"] + len(seqs) + 1))
    after = numbers_in_year(year)
    ms = sorted(latency * 1000 for latency in latencies)
    return {
        "clients": ISSUING_CLIENTS,
        "issued": len(seqs),
        "errors": len(errors),
        "seconds": seconds,
        "invoices/s": len(seqs) / seconds if seconds else 0.0,
        "1 client alone: invoices/s": one_client,
        "p50 ms": statistics.median(ms) if ms else 0.0,
        "p95 ms": ms[max(0, -(-len(ms) * 95 // 100) - 1)] if ms else 0.0,
        "gaps": len(expected - set(seqs)),
        "duplicates": len(seqs) - len(set(seqs)),
        f"numbers {year}": after["count"],
        f"gaps in {year}": max(after["counter"], after["highest"] or 0) - after["distinct"],
        f"duplicates in {year}": after["count"] - after["distinct"],
        "first error": errors[0] if errors else "",
    }


@target(
    "invoice_issue_rate", "16 clients issue ≥ 40 five-line invoices/s, numbers without gaps or duplicates", unit="/s"
)
def invoice_issue_rate(results):
    result = results.get("invoice_issue_concurrent")
    if not result or not result.get("ok") or "invoices/s" not in result["figures"]:
        return None, None
    f = result["figures"]
    year_clean = all(f[name] == 0 for name in f if name.startswith(("gaps in", "duplicates in")))
    clean = f["gaps"] == 0 and f["duplicates"] == 0 and f["errors"] == 0 and year_clean
    return f["invoices/s"], clean and f["invoices/s"] >= 40


# --- the recurring run -----------------------------------------------------------------------


def seed_plans(count: int, *, as_of: date) -> int:
    """`count` new active plans, each with one period due by `as_of` (it started 0–27
    days before), two lines each, on customers in good standing (several plans each
    when there are fewer of them); every earlier plan is stopped. Loaded like the
    invoices (COPY, nothing dropped). Returns the first new plan's id."""
    rates = tax_rates()
    manager = finance_manager()
    BillingPlan.objects.filter(is_active=True).update(is_active=False)
    customers = list(in_good_standing().order_by("?").values_list("pk", "currency")[:count])
    tables = [seed.Table(BillingPlan, PLAN_COLUMNS), seed.Table(BillingPlanLine, PLAN_LINE_COLUMNS)]
    strategy, _ = _loader(tables)
    first_plan = (BillingPlan.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    first_line = (BillingPlanLine.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    intervals = ("monthly",) * 6 + ("quarterly",) * 3 + ("yearly",)
    plans, lines = [], []
    for n in range(count):
        customer, currency = customers[n % len(customers)]
        interval = intervals[n % len(intervals)]
        start = as_of - timedelta(days=n % 28)
        end = (start + timedelta(days=730)).isoformat() if n % 10 == 3 else NULL
        plan_id = str(first_plan + n)
        plans.append((
            plan_id, str(customer), f"Bench plan {plan_id}: {interval} service", interval, start.isoformat(), end,
            start.isoformat(), "t" if n % 10 < 7 else "f", "f", "t", currency, str(manager.pk), now, now,
        ))  # fmt: skip
        for position, (description, unit, rate) in enumerate((ITEMS[1], ITEMS[2])):
            quantity = 1 + n % 3
            amount = _line_amount(unit, quantity, 0)
            lines.append((
                str(first_line + 2 * n + position), plan_id, str(position), NULL, description, f"{quantity}.000",
                _cents(unit), "0.00", _cents(amount), str(rates[rate].pk),
            ))  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        strategy.load(cursor, tables[0], plans)
        strategy.load(cursor, tables[1], lines)
        for sql in connection.ops.sequence_reset_sql(no_style(), [BillingPlan, BillingPlanLine]):
            cursor.execute(sql)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables[0].name}, {tables[1].name}")
    return first_plan


@once(
    "billing_run",
    "Recurring run over the plans (billing.plans.run_billing), then again",
    described="run_billing(as_of=today) over --plans fresh plans (70% auto-issue); PDFs queued, not rendered",
)
def billing_run(ctx):
    """Bills one period of each of `ctx.billing_plans` new plans, as the daily beat run
    does (by=None: each plan's creator, a finance manager, acts), then runs again as
    of the same day. The PDFs the issued invoices queue are counted, not rendered:
    that is the Celery workers' work, after the run's transactions commit."""
    from billing.plans import run_billing

    if not ctx.billing_plans:
        return {"plans": 0}
    as_of = timezone.localdate()
    started = time.perf_counter()
    first_plan = seed_plans(ctx.billing_plans, as_of=as_of)
    seeding = time.perf_counter() - started
    queued: list[int] = []
    with mock.patch("core.documents._enqueue", queued.append):
        started = time.perf_counter()
        run = run_billing(as_of=as_of)
        seconds = time.perf_counter() - started
        invoices = Invoice.objects.count()
        started = time.perf_counter()
        again = run_billing(as_of=as_of)
        again_seconds = time.perf_counter() - started
        created_again = Invoice.objects.count() - invoices
    billed = Invoice.objects.filter(billing_plan_id__gte=first_plan)
    return {
        "plans": run.plans_total,
        "invoices": run.invoices_created,
        "issued": run.invoices_issued,
        "failures": len(run.failures),
        "seconds": seconds,
        "plans/s": run.plans_done / seconds if seconds else 0.0,
        "invoices/s": run.invoices_created / seconds if seconds else 0.0,
        "PDFs queued": len(queued),
        "plans seeded in s": seeding,
        "second run: invoices": created_again,
        "second run: plans due": again.plans_total,
        "second run s": again_seconds,
        "one invoice per plan": billed.values("billing_plan_id").distinct().count() == billed.count(),
    }


@target("billing_run_twice", "A second billing run as of the same day creates nothing", unit="invoices")
def billing_run_twice(results):
    result = results.get("billing_run")
    if not result or not result.get("ok") or "second run: invoices" not in result["figures"]:
        return None, None
    f = result["figures"]
    return f["second run: invoices"], f["second run: invoices"] == 0 and f["one invoice per plan"]
