"""Seeding the bench database fast with realistic rows.

PostgreSQL: `COPY … FROM STDIN` (text format) from in-memory buffers, with the
loaded tables' foreign keys and secondary indexes dropped during the load and
recreated (and validated) after, all in one transaction — loading into bare tables
is several times faster than maintaining every index row by row. Other databases
(SQLite): batched `executemany` of the same rows, in one transaction.

Generating rows in Python is the other half of the cost, so the generators draw
one random number per row and split it into every choice the row needs, and
produce each row once, as COPY text fields. Rows are deterministic (a seeded
generator): two runs at one scale hold the same data and their figures compare.
"""

import io
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, transaction

from accounts.models import User
from accounts.roles import SALES_REP
from core.cache import bump_generation
from crm.models import Contact, Customer

SALES_REPS = 20
BATCH_CUSTOMERS = 50_000
NULL = "\\N"  # COPY text format's NULL

# --- what realistic customers look like ------------------------------------------
# fmt: off
PREFIXES = (
    "Nordwind", "Südstern", "Alpen", "Rhein", "Hansa", "Blue Harbor", "Silberberg", "Grünfeld", "Atlas", "Orion",
    "Vega", "Polar", "Summit", "Linden", "Eichen", "Falken", "Adler", "Bergmann", "Kessler", "Sonnen", "Delta",
    "Nova", "Apex", "Meridian", "Granit", "Zeder", "Brunnen", "Weser", "Elbe", "Donau", "Isar", "Main", "Havel",
    "Kranich", "Morgen", "Lichtblick", "Pioneer", "Crest", "Riverside", "Oakwood",
)
TRADES = (
    "Logistik", "Maschinenbau", "Software", "Pharma", "Textil", "Foods", "Metallbau", "Energie", "Medizintechnik",
    "Consulting", "Elektronik", "Bau", "Chemie", "Automotive", "Handel", "Druck", "Optik", "Robotics", "Solar",
    "Holzbau", "Verpackung", "Kunststoff", "Analytics", "Facility Services", "Systems",
)
# (country, currency, legal forms, tax id prefix, phone prefix, ((city, postal code), …)), weighted by repetition.
_DE = ("DE", "EUR", ("GmbH", "AG", "GmbH & Co. KG", "SE", "KG"), "DE", "+49", (
    ("Berlin", "10115"), ("Hamburg", "20095"), ("München", "80331"), ("Köln", "50667"), ("Frankfurt am Main", "60311"),
    ("Stuttgart", "70173"), ("Leipzig", "04109"), ("Düsseldorf", "40213"), ("Bremen", "28195"), ("Hannover", "30159"),
    ("Nürnberg", "90402"), ("Dresden", "01067"),
))
COUNTRIES = (_DE,) * 6 + (
    ("AT", "EUR", ("GmbH", "AG"), "ATU", "+43", (("Wien", "1010"), ("Graz", "8010"), ("Linz", "4020"))),
    ("CH", "CHF", ("AG", "GmbH", "SA"), "CHE", "+41", (("Zürich", "8001"), ("Basel", "4001"), ("Bern", "3011"))),
    ("NL", "EUR", ("B.V.", "N.V."), "NL", "+31", (("Amsterdam", "1011"), ("Rotterdam", "3011"), ("Utrecht", "3511"))),
    ("FR", "EUR", ("SAS", "SA", "SARL"), "FR", "+33", (("Paris", "75001"), ("Lyon", "69001"), ("Lille", "59000"))),
    ("GB", "GBP", ("Ltd", "plc"), "GB", "+44", (("London", "EC1A 1BB"), ("Manchester", "M1 1AE"), ("Leeds", "LS1 1UR"))),
    ("US", "USD", ("Inc.", "LLC", "Corp."), "US", "+1", (("New York", "10001"), ("Chicago", "60601"), ("Austin", "73301"))),
)
STREETS = (
    "Hauptstraße", "Bahnhofstraße", "Industriestraße", "Hafenweg", "Gartenstraße", "Lindenallee", "Marktplatz",
    "Schillerstraße", "Goethestraße", "Friedrichstraße", "Kaiserstraße", "Am Hafen", "Gewerbepark", "Mühlenweg",
)
FIRST_NAMES = (
    "Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hannes", "Ines", "Jonas", "Katrin", "Lukas", "Mira",
    "Niklas", "Olga", "Paul", "Rafael", "Sophie", "Tobias", "Ulrike", "Viktor", "Wiebke", "Xaver", "Yasmin", "Zoe",
    "Marie", "Leon", "Emma", "Noah", "Laura", "Finn", "Julia", "Elias", "Hannah", "Moritz", "Ida",
)
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch",
    "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Braun", "Zimmermann", "Hofmann", "Hartmann",
    "Krüger", "Lange", "Werner", "Peters", "Lehmann", "Köhler", "Walter", "Kaiser", "Fuchs",
)
JOB_TITLES = (
    "Head of Purchasing", "Buyer", "Accounts Payable", "CFO", "Managing Director", "Office Manager", "IT Lead",
    "Operations Manager", "Procurement Specialist", "Controller",
)
TERMS = ("net",) * 4 + ("eom",)                                   # 20% end of month
PAYMENT_DAYS = ("0", "7", "14", "30", "30", "30", "30", "45", "60")
CREDIT_LIMITS = (NULL, NULL, "5000.00", "10000.00", "25000.00", "50000.00", "100000.00", "250000.00")
STATUSES = ("active",) * 15 + ("prospect",) * 3 + ("inactive",) * 2
CONTACTS_PER_CUSTOMER = (1, 2, 2, 2, 3)
# fmt: on

CUSTOMER_COLUMNS = (
    "id", "name", "legal_name", "tax_id", "email", "phone", "address_line1", "address_line2", "postal_code", "city",
    "region", "country", "currency", "payment_terms", "payment_days", "credit_limit", "owner_id", "status",
    "created_at", "updated_at",
)  # fmt: skip
CONTACT_COLUMNS = (
    "id", "customer_id", "name", "email", "phone", "job_title", "is_primary", "created_at", "updated_at",
)  # fmt: skip
_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", " ": "-", "&": "", ".": ""})
THREE_YEARS = 3 * 365 * 86400


def _slug(text: str) -> str:
    return text.lower().translate(_ASCII)


def customer_rows(count: int, owner_ids: list[int], now: datetime, seed: int = 2026) -> Iterator[tuple]:
    """Yield (customer row, [contact rows]); ids are 1..count, values are COPY text fields
    in CUSTOMER_COLUMNS / CONTACT_COLUMNS order."""
    getrandbits = random.Random(seed).getrandbits
    owners = [str(pk) for pk in owner_ids]
    base = now - timedelta(seconds=THREE_YEARS)
    n_owners = len(owners)
    contact_id = 0
    for pk in range(1, count + 1):
        # One 192-bit draw per customer, taken apart with divmod for every choice.
        bits = getrandbits(192)
        bits, country_i = divmod(bits, len(COUNTRIES))
        bits, prefix_i = divmod(bits, len(PREFIXES))
        bits, trade_i = divmod(bits, len(TRADES))
        bits, with_city = divmod(bits, 2)
        bits, legal_i = divmod(bits, 6)
        bits, city_i = divmod(bits, 12)
        bits, status_i = divmod(bits, len(STATUSES))
        bits, terms_i = divmod(bits, len(TERMS))
        bits, days_i = divmod(bits, len(PAYMENT_DAYS))
        bits, credit_i = divmod(bits, len(CREDIT_LIMITS))
        bits, owner_i = divmod(bits, n_owners)
        bits, street_i = divmod(bits, len(STREETS))
        bits, house = divmod(bits, 180)
        bits, phone = divmod(bits, 9_000_000)
        bits, created_s = divmod(bits, THREE_YEARS)
        bits, updated_fraction = divmod(bits, 1000)
        bits, no_tax_id = divmod(bits, 10)
        bits, n_contacts_i = divmod(bits, len(CONTACTS_PER_CUSTOMER))

        country, currency, legal_forms, tax_prefix, phone_prefix, cities = COUNTRIES[country_i]
        city, postal_code = cities[city_i % len(cities)]
        name = (
            f"{PREFIXES[prefix_i]} {TRADES[trade_i]} {city}" if with_city else f"{PREFIXES[prefix_i]} {TRADES[trade_i]}"
        )
        domain = f"{_slug(name)}-{pk}.example"
        status = STATUSES[status_i]
        # A multiplicative hash of the id is a bijection mod 10^9: unique, random-looking tax ids.
        tax_id = "" if status == "prospect" and no_tax_id < 3 else f"{tax_prefix}{(pk * 7919 + 104729) % 10**9:09d}"
        created_at = base + timedelta(seconds=created_s)
        updated_at = created_at + (now - created_at) * (updated_fraction / 1000)
        created, updated = created_at.isoformat(" "), updated_at.isoformat(" ")
        customer = (
            str(pk), name, f"{name} {legal_forms[legal_i % len(legal_forms)]}", tax_id, f"invoices@{domain}",
            f"{phone_prefix} {phone + 1_000_000}", f"{STREETS[street_i]} {house + 1}", "", postal_code, city, "",
            country, currency, TERMS[terms_i], PAYMENT_DAYS[days_i], CREDIT_LIMITS[credit_i], owners[owner_i],
            status, created, updated,
        )  # fmt: skip
        contacts = []
        for position in range(CONTACTS_PER_CUSTOMER[n_contacts_i]):
            contact_id += 1
            bits, first_i = divmod(bits, len(FIRST_NAMES))
            bits, last_i = divmod(bits, len(LAST_NAMES))
            bits, title_i = divmod(bits, len(JOB_TITLES))
            first, last = FIRST_NAMES[first_i], LAST_NAMES[last_i]
            contacts.append((
                str(contact_id), str(pk), f"{first} {last}", f"{_slug(first)}.{_slug(last)}@{domain}",
                f"{phone_prefix} {phone + 1_000_000 + position + 1}", JOB_TITLES[title_i],
                "t" if position == 0 else "f", created, updated,
            ))  # fmt: skip
        yield customer, contacts


class Table:
    """One model's table as the generators fill it: the generated columns, plus any
    column a later migration added, filled with its default (or NULL)."""

    def __init__(self, model, columns: tuple[str, ...]):
        self.model = model
        self.name = model._meta.db_table
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = set(columns) - set(fields)
        if unknown:
            raise LookupError(f"{self.name} has no columns {sorted(unknown)}: update bench/seed.py")
        self.fields = [fields[c] for c in columns]
        extra = []
        for column, f in fields.items():
            if column in columns:
                continue
            if f.has_default():
                extra.append((f, _copy_text(f.get_db_prep_save(f.get_default(), connection))))
            elif f.null:
                extra.append((f, NULL))
            else:
                raise LookupError(f"{self.name}.{column} is NOT NULL without a default: generate it in bench/seed.py")
        self.fields += [f for f, _ in extra]
        self.extra_values = tuple(value for _, value in extra)
        self.columns = [f.column for f in self.fields]


def _copy_text(value) -> str:
    if value is None:
        return NULL
    if value is True or value is False:
        return "t" if value else "f"
    return str(value)


class PostgresCopy:
    """COPY into bare tables: foreign keys and secondary indexes go before the load
    and come back (validated) after it."""

    def __init__(self, tables: list[Table]):
        self.tables = tables
        self.dropped_constraints: list[tuple[str, str, str]] = []
        self.dropped_indexes: list[tuple[str, str]] = []

    def prepare(self, cursor):
        names = [table.name for table in self.tables]
        cursor.execute(
            "SELECT conname, conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [names],
        )
        self.dropped_constraints = cursor.fetchall()
        # Indexes that back a primary key, unique or exclusion constraint stay.
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary"
            " AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE contype IN ('p', 'u', 'x'))",
            [names],
        )
        self.dropped_indexes = cursor.fetchall()
        for name, table, _ in self.dropped_constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _ in self.dropped_indexes:
            cursor.execute(f"DROP INDEX {name}")

    def load(self, cursor, table: Table, rows: list[tuple]):
        extra = table.extra_values
        buffer = io.StringIO()
        buffer.writelines("\t".join(row + extra if extra else row) + "\n" for row in rows)
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(column) for column in table.columns)
        cursor.cursor.copy_expert(f"COPY {table.name} ({columns}) FROM STDIN", buffer)

    def finish(self, cursor):
        for _, definition in self.dropped_indexes:
            cursor.execute(definition)
        for name, table, definition in self.dropped_constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")

    def describe(self) -> str:
        return (
            f"COPY into bare tables ({len(self.dropped_constraints)} foreign keys and {len(self.dropped_indexes)} "
            f"secondary indexes dropped for the load, then recreated and validated)"
        )


class BatchInsert:
    """executemany of the same rows, converted from COPY text to Python values."""

    def __init__(self, tables: list[Table]):
        self.tables = tables

    def prepare(self, cursor):
        pass

    def load(self, cursor, table: Table, rows: list[tuple]):
        converters = []
        for f in table.fields:
            kind = f.get_internal_type()
            if kind == "BooleanField":
                converters.append(lambda v: v == "t")
            elif kind in ("BigAutoField", "AutoField", "ForeignKey", "PositiveSmallIntegerField", "IntegerField"):
                converters.append(lambda v: None if v == NULL else int(v))
            else:
                converters.append(lambda v: None if v == NULL else v)
        placeholders = ", ".join(["%s"] * len(table.columns))
        columns = ", ".join(connection.ops.quote_name(column) for column in table.columns)
        extra = table.extra_values
        params = [[convert(v) for convert, v in zip(converters, row + extra, strict=True)] for row in rows]
        cursor.executemany(f"INSERT INTO {table.name} ({columns}) VALUES ({placeholders})", params)

    def finish(self, cursor):
        cursor.execute("ANALYZE")

    def describe(self) -> str:
        return f"batched INSERTs (executemany, {BATCH_CUSTOMERS:,} customers a batch) in one transaction, indexes kept"


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


# --- the steps ------------------------------------------------------------------------


def seed_sales_reps() -> list[User]:
    """Twenty sales reps who own the customers; the first one is who the bench signs in as."""
    group = Group.objects.get(name=SALES_REP)
    reps = []
    for number in range(1, SALES_REPS + 1):
        user, created = User.objects.get_or_create(
            username=f"bench_rep{number:02d}",
            defaults={
                "first_name": FIRST_NAMES[number % len(FIRST_NAMES)],
                "last_name": LAST_NAMES[number % len(LAST_NAMES)],
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
    customer_table, contact_table = Table(Customer, CUSTOMER_COLUMNS), Table(Contact, CONTACT_COLUMNS)
    # COPY needs psycopg2's copy_expert; any other driver or database gets batched INSERTs.
    use_copy = connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg2"
    strategy = (PostgresCopy if use_copy else BatchInsert)([customer_table, contact_table])
    started = time.perf_counter()
    generating = 0.0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {contact_table.name}, {customer_table.name} RESTART IDENTITY CASCADE")
        else:
            Contact.objects.all().delete()
            Customer.objects.all().delete()
        strategy.prepare(cursor)
        # Naive UTC timestamps: Django's connections run in UTC, and SQLite stores them so.
        rows = customer_rows(customers, [rep.pk for rep in reps], datetime.now(UTC).replace(tzinfo=None))
        while report.customers < customers:
            batch_started = time.perf_counter()
            customer_batch, contact_batch = [], []
            for customer, contacts in rows:
                customer_batch.append(customer)
                contact_batch.extend(contacts)
                if len(customer_batch) == BATCH_CUSTOMERS:
                    break
            generating += time.perf_counter() - batch_started
            if not customer_batch:
                break
            strategy.load(cursor, customer_table, customer_batch)
            strategy.load(cursor, contact_table, contact_batch)
            report.customers += len(customer_batch)
            report.contacts += len(contact_batch)
            if report.customers < customers:
                out(
                    f"  … {report.customers:,} customers, {report.contacts:,} contacts "
                    f"({time.perf_counter() - started:.1f} s)"
                )
        loaded = time.perf_counter()
        strategy.finish(cursor)
        for sql in connection.ops.sequence_reset_sql(no_style(), [Customer, Contact]):
            cursor.execute(sql)
    if connection.vendor == "postgresql":
        # A live table is autovacuumed: set its visibility map as autovacuum would, so
        # index-only scans (COUNT(*), covering indexes) are planned as in production.
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {customer_table.name}, {contact_table.name}")
    report.seconds = time.perf_counter() - started
    report.method = strategy.describe()
    report.notes.append(
        f"generating rows {generating:.1f} s, loading {loaded - started - generating:.1f} s, "
        f"indexes/constraints/vacuum {report.seconds - (loaded - started):.1f} s"
    )
    # COPY sends no model signals: cached results over customers (core.cache) must go stale.
    bump_generation(Customer)
    return report


def seeded_customers() -> int:
    return Customer.objects.count()
