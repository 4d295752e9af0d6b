"""Seeding the bench database fast with realistic rows.

PostgreSQL: `COPY … FROM STDIN` (text format) from in-memory buffers, with the
loaded tables' foreign keys and secondary indexes dropped during the load and
recreated (and validated) after, all in one transaction — loading into bare tables
is ~5× faster than maintaining every index row by row. Other databases (SQLite):
`executemany` of the same rows in batches, in one transaction.

Rows are generated deterministically (a seeded random generator), so two runs at
the same scale hold the same data and their figures compare.
"""

import io
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import SALES_REP
from crm.models import Contact, Customer, PaymentTerms

SALES_REPS = 20
BATCH_ROWS = 50_000

# --- what realistic customers look like ------------------------------------------

PREFIXES = (
    "Nordwind",
    "Südstern",
    "Alpen",
    "Rhein",
    "Hansa",
    "Blue Harbor",
    "Silberberg",
    "Grünfeld",
    "Atlas",
    "Orion",
    "Vega",
    "Polar",
    "Summit",
    "Linden",
    "Eichen",
    "Falken",
    "Adler",
    "Bergmann",
    "Kessler",
    "Sonnen",
    "Delta",
    "Nova",
    "Apex",
    "Meridian",
    "Granit",
    "Zeder",
    "Brunnen",
    "Weser",
    "Elbe",
    "Donau",
    "Isar",
    "Main",
    "Havel",
    "Kranich",
    "Morgen",
    "Lichtblick",
    "Pioneer",
    "Crest",
    "Riverside",
    "Oakwood",
)
TRADES = (
    "Logistik",
    "Maschinenbau",
    "Software",
    "Pharma",
    "Textil",
    "Foods",
    "Metallbau",
    "Energie",
    "Medizintechnik",
    "Consulting",
    "Elektronik",
    "Bau",
    "Chemie",
    "Automotive",
    "Handel",
    "Druck",
    "Optik",
    "Robotics",
    "Solar",
    "Holzbau",
    "Verpackung",
    "Kunststoff",
    "Analytics",
    "Facility Services",
    "Systems",
)
# country: (weight, currency, legal forms, tax id prefix, phone prefix, [(city, postal code)])
COUNTRIES = {
    "DE": (
        50,
        "EUR",
        ("GmbH", "AG", "GmbH & Co. KG", "SE", "KG"),
        "DE",
        "+49",
        [
            ("Berlin", "10115"),
            ("Hamburg", "20095"),
            ("München", "80331"),
            ("Köln", "50667"),
            ("Frankfurt am Main", "60311"),
            ("Stuttgart", "70173"),
            ("Leipzig", "04109"),
            ("Düsseldorf", "40213"),
            ("Bremen", "28195"),
            ("Hannover", "30159"),
            ("Nürnberg", "90402"),
            ("Dresden", "01067"),
        ],
    ),
    "AT": (10, "EUR", ("GmbH", "AG"), "ATU", "+43", [("Wien", "1010"), ("Graz", "8010"), ("Linz", "4020")]),
    "CH": (8, "CHF", ("AG", "GmbH", "SA"), "CHE", "+41", [("Zürich", "8001"), ("Basel", "4001"), ("Bern", "3011")]),
    "NL": (
        8,
        "EUR",
        ("B.V.", "N.V."),
        "NL",
        "+31",
        [("Amsterdam", "1011"), ("Rotterdam", "3011"), ("Utrecht", "3511")],
    ),
    "FR": (8, "EUR", ("SAS", "SA", "SARL"), "FR", "+33", [("Paris", "75001"), ("Lyon", "69001"), ("Lille", "59000")]),
    "GB": (
        8,
        "GBP",
        ("Ltd", "plc"),
        "GB",
        "+44",
        [("London", "EC1A 1BB"), ("Manchester", "M1 1AE"), ("Leeds", "LS1 1UR")],
    ),
    "US": (
        8,
        "USD",
        ("Inc.", "LLC", "Corp."),
        "US",
        "+1",
        [("New York", "10001"), ("Chicago", "60601"), ("Austin", "73301")],
    ),
}
STREETS = (
    "Hauptstraße",
    "Bahnhofstraße",
    "Industriestraße",
    "Hafenweg",
    "Gartenstraße",
    "Lindenallee",
    "Marktplatz",
    "Schillerstraße",
    "Goethestraße",
    "Friedrichstraße",
    "Kaiserstraße",
    "Am Hafen",
    "Gewerbepark",
    "Mühlenweg",
)
FIRST_NAMES = (
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elena",
    "Felix",
    "Greta",
    "Hannes",
    "Ines",
    "Jonas",
    "Katrin",
    "Lukas",
    "Mira",
    "Niklas",
    "Olga",
    "Paul",
    "Queenie",
    "Rafael",
    "Sophie",
    "Tobias",
    "Ulrike",
    "Viktor",
    "Wiebke",
    "Xaver",
    "Yasmin",
    "Zoe",
    "Marie",
    "Leon",
    "Emma",
    "Noah",
    "Laura",
    "Finn",
    "Julia",
    "Elias",
    "Hannah",
    "Moritz",
)
LAST_NAMES = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Braun",
    "Zimmermann",
    "Hofmann",
    "Hartmann",
    "Krüger",
    "Lange",
    "Werner",
    "Peters",
    "Lehmann",
    "Köhler",
    "Walter",
    "Kaiser",
    "Fuchs",
)
JOB_TITLES = (
    "Head of Purchasing",
    "Buyer",
    "Accounts Payable",
    "CFO",
    "Managing Director",
    "Office Manager",
    "IT Lead",
    "Operations Manager",
    "Procurement Specialist",
    "Controller",
)
PAYMENT_DAYS = (0, 7, 14, 30, 30, 30, 30, 45, 60)
CREDIT_LIMITS = (
    None,
    None,
    Decimal("5000.00"),
    Decimal("10000.00"),
    Decimal("25000.00"),
    Decimal("50000.00"),
    Decimal("100000.00"),
    Decimal("250000.00"),
)
STATUSES = (Customer.Status.ACTIVE,) * 15 + (Customer.Status.PROSPECT,) * 3 + (Customer.Status.INACTIVE,) * 2
CONTACTS_PER_CUSTOMER = (1, 2, 2, 2, 3)
ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", " ": "-", "&": "", ".": ""})


@dataclass
class SeedReport:
    customers: int = 0
    contacts: int = 0
    users: int = 0
    seconds: float = 0.0
    method: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.customers + self.contacts + self.users

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _slug(text: str) -> str:
    return text.lower().translate(ASCII).strip("-")


def customer_rows(count: int, owner_ids: list[int], now, rng: random.Random):
    """Yield (customer, [contacts]) as dicts of column values; ids are 1..count."""
    countries = list(COUNTRIES)
    weights = [COUNTRIES[code][0] for code in countries]
    contact_id = 0
    for pk in range(1, count + 1):
        code = rng.choices(countries, weights)[0]
        _, currency, legal_forms, tax_prefix, phone_prefix, cities = COUNTRIES[code]
        city, postal_code = rng.choice(cities)
        name = f"{rng.choice(PREFIXES)} {rng.choice(TRADES)}"
        if rng.random() < 0.5:
            name = f"{name} {city}"
        legal_name = f"{name} {rng.choice(legal_forms)}"
        domain = f"{_slug(name)}-{pk}.example"
        status = rng.choice(STATUSES)
        # A multiplicative hash of the id is a bijection mod 10^9: unique, random-looking tax ids.
        tax_id = (
            ""
            if status == Customer.Status.PROSPECT and rng.random() < 0.3
            else f"{tax_prefix}{(pk * 7919 + 104729) % 10**9:09d}"
        )
        created_at = now - timedelta(seconds=rng.randrange(3 * 365 * 86400))
        updated_at = created_at + (now - created_at) * rng.random()
        customer = {
            "id": pk,
            "name": name,
            "legal_name": legal_name,
            "tax_id": tax_id,
            "email": f"invoices@{domain}",
            "phone": f"{phone_prefix} {rng.randrange(20, 99)} {rng.randrange(100000, 9999999)}",
            "address_line1": f"{rng.choice(STREETS)} {rng.randrange(1, 180)}",
            "address_line2": "",
            "postal_code": postal_code,
            "city": city,
            "region": "",
            "country": code,
            "currency": currency,
            "payment_terms": PaymentTerms.END_OF_MONTH if rng.random() < 0.2 else PaymentTerms.NET,
            "payment_days": rng.choice(PAYMENT_DAYS),
            "credit_limit": rng.choice(CREDIT_LIMITS),
            "owner_id": rng.choice(owner_ids),
            "status": status,
            "created_at": created_at,
            "updated_at": updated_at,
        }
        contacts = []
        for position in range(rng.choice(CONTACTS_PER_CUSTOMER)):
            contact_id += 1
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            contacts.append(
                {
                    "id": contact_id,
                    "customer_id": pk,
                    "name": f"{first} {last}",
                    "email": f"{_slug(first)}.{_slug(last)}@{domain}",
                    "phone": f"{phone_prefix} {rng.randrange(20, 99)} {rng.randrange(100000, 9999999)}",
                    "job_title": rng.choice(JOB_TITLES),
                    "is_primary": position == 0,
                    "created_at": created_at,
                    "updated_at": updated_at,
                }
            )
        yield customer, contacts


class TableLoader:
    """Turns dicts of column values into rows for one model's table, filling columns
    the generator does not know (added by later migrations) with their defaults."""

    def __init__(self, model):
        self.model = model
        self.table = model._meta.db_table
        self.fields = list(model._meta.concrete_fields)
        self.columns = [f.column for f in self.fields]
        self.defaults = {}
        for f in self.fields:
            if f.has_default():
                self.defaults[f.attname] = f.get_default()
            elif f.null:
                self.defaults[f.attname] = None
            else:
                self.defaults[f.attname] = (
                    "" if f.get_internal_type() in ("CharField", "TextField", "EmailField") else None
                )

    def values(self, row: dict) -> list:
        defaults = self.defaults
        return [row[f.attname] if f.attname in row else defaults[f.attname] for f in self.fields]


# --- PostgreSQL: COPY into bare tables --------------------------------------------

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    return str(value)  # numbers, Decimal, aware datetimes (ISO with offset)


class PostgresCopy:
    method = "PostgreSQL COPY"

    def __init__(self, loaders):
        self.loaders = loaders
        self.tables = [loader.table for loader in loaders]
        self.dropped_constraints: list[tuple[str, str, str]] = []
        self.dropped_indexes: list[tuple[str, str]] = []

    def prepare(self, cursor):
        """Drop the foreign keys and secondary indexes of the tables being loaded."""
        cursor.execute(
            "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [self.tables],
        )
        self.dropped_constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary"
            " AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))",
            [self.tables],
        )
        self.dropped_indexes = cursor.fetchall()
        for name, table, _ in self.dropped_constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _ in self.dropped_indexes:
            cursor.execute(f"DROP INDEX {name}")

    def load(self, cursor, loader: TableLoader, rows: list[dict]):
        buffer = io.StringIO()
        write = buffer.write
        for row in rows:
            write("\t".join(_copy_text(value) for value in loader.values(row)))
            write("\n")
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(column) for column in loader.columns)
        cursor.cursor.copy_expert(f"COPY {loader.table} ({columns}) FROM STDIN", buffer)

    def finish(self, cursor):
        """Recreate the indexes, then the foreign keys (which validate every row)."""
        for _, definition in self.dropped_indexes:
            cursor.execute(definition)
        for name, table, definition in self.dropped_constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
        cursor.execute(f"ANALYZE {', '.join(self.tables)}")

    def describe(self) -> str:
        return (
            f"COPY into bare tables: {len(self.dropped_constraints)} foreign keys and "
            f"{len(self.dropped_indexes)} secondary indexes dropped for the load, recreated and validated after"
        )


class BatchInsert:
    method = "executemany"

    def __init__(self, loaders):
        self.loaders = loaders

    def prepare(self, cursor):
        pass

    def load(self, cursor, loader: TableLoader, rows: list[dict]):
        adapters = []
        for f in loader.fields:
            kind = f.get_internal_type()
            if kind == "DateTimeField":
                adapters.append(connection.ops.adapt_datetimefield_value)
            elif kind == "DecimalField":
                adapters.append(lambda value: None if value is None else str(value))
            else:
                adapters.append(None)
        placeholders = ", ".join(["%s"] * len(loader.columns))
        columns = ", ".join(connection.ops.quote_name(column) for column in loader.columns)
        sql = f"INSERT INTO {loader.table} ({columns}) VALUES ({placeholders})"
        params = [
            [adapt(value) if adapt else value for adapt, value in zip(adapters, loader.values(row), strict=True)]
            for row in rows
        ]
        cursor.executemany(sql, params)

    def finish(self, cursor):
        pass

    def describe(self) -> str:
        return f"batched INSERT (executemany, {BATCH_ROWS:,} rows a batch) in one transaction, indexes kept"


# --- the steps ------------------------------------------------------------------------


def seed_sales_reps() -> list[User]:
    """Twenty sales reps who own the customers; the first one is who the bench logs in as."""
    group = Group.objects.get(name=SALES_REP)
    reps = []
    for number in range(1, SALES_REPS + 1):
        user, created = User.objects.get_or_create(
            username=f"bench_rep{number:02d}",
            defaults={
                "first_name": random.Random(number).choice(FIRST_NAMES),
                "last_name": "Bench",
                "email": f"bench_rep{number:02d}@concord.example",
            },
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(group)
        reps.append(user)
    return reps


def seed_customers(*, customers: int, reps: list[User], out=print) -> SeedReport:
    """Replace all customers and contacts with `customers` generated ones (~2 contacts each)."""
    report = SeedReport(users=len(reps))
    customer_loader, contact_loader = TableLoader(Customer), TableLoader(Contact)
    # COPY through psycopg2's copy_expert; any other driver or database takes batched INSERTs.
    use_copy = connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg2"
    strategy = (PostgresCopy if use_copy else BatchInsert)([customer_loader, contact_loader])
    report.method = strategy.describe()
    rng = random.Random(20260101)
    owner_ids = [rep.pk for rep in reps]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {contact_loader.table}, {customer_loader.table} RESTART IDENTITY CASCADE")
        else:
            Contact.objects.all().delete()
            Customer.objects.all().delete()
        strategy.prepare(cursor)
        pending_customers, pending_contacts = [], []
        for customer, contacts in customer_rows(customers, owner_ids, timezone.now(), rng):
            pending_customers.append(customer)
            pending_contacts.extend(contacts)
            if len(pending_customers) >= BATCH_ROWS:
                strategy.load(cursor, customer_loader, pending_customers)
                strategy.load(cursor, contact_loader, pending_contacts)
                report.customers += len(pending_customers)
                report.contacts += len(pending_contacts)
                out(
                    f"  … {report.customers:,} customers, {report.contacts:,} contacts "
                    f"({time.perf_counter() - started:.1f} s)"
                )
                pending_customers, pending_contacts = [], []
        if pending_customers:
            strategy.load(cursor, customer_loader, pending_customers)
            strategy.load(cursor, contact_loader, pending_contacts)
            report.customers += len(pending_customers)
            report.contacts += len(pending_contacts)
        loaded = time.perf_counter()
        strategy.finish(cursor)
        for sql in connection.ops.sequence_reset_sql(no_style(), [Customer, Contact]):
            cursor.execute(sql)
        if strategy.__class__ is PostgresCopy:
            report.notes.append(
                f"load {loaded - started:.1f} s, indexes + foreign keys {time.perf_counter() - loaded:.1f} s"
            )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    report.seconds = time.perf_counter() - started
    return report


def seeded_customers() -> int:
    return Customer.objects.count()
