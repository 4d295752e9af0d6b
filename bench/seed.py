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
import json
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
            elif kind in (
                "BigAutoField",
                "AutoField",
                "ForeignKey",
                "PositiveSmallIntegerField",
                "PositiveIntegerField",
                "PositiveBigIntegerField",
                "IntegerField",
            ):
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


# --- the feed (issue 7) ----------------------------------------------------------------
# 1M items over the customers, shaped like a busy book: a tenth of them on 50 key
# accounts (~2,000 items each: the record-feed measure reads customer 1), a fifth also
# on a second customer (as an invoice's event shows on its customer too), every item
# with an actor also on that person's own feed (as collaboration.services.publish
# places it). Follows: each rep follows the customers they own, bench_manager01
# every 4th customer (the heavy follower: ~25,000), bench_manager02 every 20th,
# bench_clerk01 twenty (the light follower), and customer PUBLISH_CUSTOMER has ten
# followers (the publish measure). InboxEntry rows are what publishing would have
# written: one per follower of each record an item shows on, and per person mentioned.

FEED_ITEMS = 1_000_000
BATCH_ITEMS = 100_000
KEY_ACCOUNTS = 50
KEY_ACCOUNT_PERCENT = 10
ROLLED_UP_PERCENT = 20
HEAVY_FOLLOWS_EVERY = 4
MEDIUM_FOLLOWS_EVERY = 20
LIGHT_FOLLOWED = range(101, 121)
HOT_CUSTOMER = 1
PUBLISH_CUSTOMER = 7  # not followed by the managers or the clerk: the live checks never see its items
PUBLISH_FOLLOWERS = 10
TWO_YEARS = 2 * 365 * 86400
FEED_USERS = (
    # username, role, first, last
    ("bench_manager01", "Sales manager", "Marta", "Vogel"),
    ("bench_manager02", "Finance manager", "Henrik", "Brandt"),
    ("bench_clerk01", "Finance clerk", "Lea", "Jansen"),
)

# fmt: off
POST_BODIES = (
    "Called them about the renewal, they want a 3-year term with 8% off. Drafting the quote.",
    "Customer says invoice is wrong: the March service outage was never credited.",
    "Met the new head of purchasing today, budget for next year is approved.",
    "They pay 40 days late on average; let's move them to 14 days net on the next order.",
    "Please hold reminders until the credit note is issued.",
    "PO received, delivery planned for week 12.",
    "They asked for a second ship-to address in Rotterdam.",
    "Credit limit review due: open balance is close to the limit.",
    "Complaint about the last delivery, damaged pallets. Claim filed with the carrier.",
    "Renewal signed! Onboarding call next Tuesday.",
    "Payment promised for Friday, will check the bank statement Monday.",
    "New contact for accounts payable: see contacts, the old address bounces.",
)
COMMENT_BODIES = (
    "Thanks, noted.", "I'll check the terms with finance.", "Agreed, let's do that.",
    "Can you send me the PO number?", "Done, reminder paused.", "Good news!",
)
EVENT_VERBS = ("invoice.issued", "payment.received", "invoice.overdue", "dunning.notice_sent")
CHANGES = tuple(
    json.dumps({"changes": [change]}, ensure_ascii=False)
    for change in (
        {"field": "status", "label": "Status", "old": "Prospect", "new": "Active", "type": "text"},
        {"field": "payment_days", "label": "Payment days", "old": "30", "new": "14", "type": "text"},
        {"field": "credit_limit", "label": "Credit limit", "old": "10000.00", "new": "25000.00", "type": "money",
         "currency": "EUR"},
        {"field": "owner", "label": "Owner", "old": "Bench Rep 03", "new": "Bench Rep 07", "type": "text"},
    )
)
# fmt: on

ITEM_COLUMNS = (
    "id", "kind", "verb", "target_type_id", "target_id", "target_label", "actor_id", "body", "data", "created_at",
    "comment_count", "like_count",
)  # fmt: skip
PLACEMENT_COLUMNS = ("id", "item_id", "target_type_id", "target_id")
INBOX_COLUMNS = ("id", "user_id", "item_id", "kind", "mentioned")
FOLLOW_COLUMNS = ("id", "user_id", "target_type_id", "target_id", "created_at")
COMMENT_COLUMNS = ("id", "item_id", "author_id", "body", "created_at")
REACTION_COLUMNS = ("id", "item_id", "user_id", "created_at")
MENTION_COLUMNS = ("id", "item_id", "comment_id", "user_id")
NOTIFICATION_COLUMNS = (
    "id", "user_id", "kind", "actor_id", "item_id", "approval_id", "text", "url", "created_at", "read_at",
    "emailed_at",
)  # fmt: skip


@dataclass
class FeedSeedReport:
    items: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    method: str = ""

    @property
    def rows_per_second(self) -> float:
        return sum(self.rows.values()) / self.seconds if self.seconds else 0.0


def seed_feed_users() -> dict[str, User]:
    """The managers and the clerk who follow many (or few) customers."""
    users = {}
    for username, role, first, last in FEED_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@concord.example"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


class FeedRows:
    """Generates the feed's rows in batches (COPY text fields), ids counted here."""

    def __init__(self, *, customers, reps, feed_users, now, seed=2027):
        from collaboration.registry import content_type_of

        self.getrandbits = random.Random(seed).getrandbits
        self.customer_type = str(content_type_of(Customer).pk)
        self.user_type = str(content_type_of(User).pk)
        # customers: {id: (name, owner id)}; a list indexed by id is faster.
        self.count = max(customers)
        self.names = [""] * (self.count + 1)
        self.owners = [0] * (self.count + 1)
        for pk, (name, owner_id) in customers.items():
            self.names[pk], self.owners[pk] = name, owner_id
        self.reps = [rep.pk for rep in reps]
        self.usernames = {rep.pk: rep.username for rep in reps}
        self.display = {u.pk: (u.get_full_name() or u.username) for u in [*reps, *feed_users.values()]}
        self.heavy = feed_users["bench_manager01"].pk
        self.medium = feed_users["bench_manager02"].pk
        self.light = feed_users["bench_clerk01"].pk
        owner = self.owners[PUBLISH_CUSTOMER] if self.count >= PUBLISH_CUSTOMER else None
        self.publish_followers = [owner, *[r for r in self.reps if r != owner][: PUBLISH_FOLLOWERS - 1]]
        self.now = now
        self.base = now - timedelta(seconds=TWO_YEARS)
        self.ids = dict.fromkeys(
            ("item", "placement", "inbox", "follow", "comment", "reaction", "mention", "notice"), 0
        )

    def _next(self, table: str) -> str:
        self.ids[table] += 1
        return str(self.ids[table])

    def followers(self, customer: int) -> list[int]:
        people = [self.owners[customer]]
        if customer % HEAVY_FOLLOWS_EVERY == 0:
            people.append(self.heavy)
        if customer % MEDIUM_FOLLOWS_EVERY == 1:
            people.append(self.medium)
        if customer in LIGHT_FOLLOWED:
            people.append(self.light)
        if customer == PUBLISH_CUSTOMER:
            people = self.publish_followers
        return people

    def follows(self) -> list[tuple]:
        rows = []
        created = (self.base - timedelta(days=1)).isoformat(" ")
        for customer in range(1, self.count + 1):
            if self.owners[customer]:
                for user in dict.fromkeys(self.followers(customer)):
                    rows.append((self._next("follow"), str(user), self.customer_type, str(customer), created))
        return rows

    def batch(self, total: int, size: int) -> dict[str, list[tuple]]:
        """The next `size` items (of `total`) and every row that hangs off them."""
        rows = {name: [] for name in ("items", "placements", "inbox", "comments", "reactions", "mentions", "notices")}
        getrandbits, count, reps, n_reps = self.getrandbits, self.count, self.reps, len(self.reps)
        start = self.ids["item"]
        for _ in range(min(size, total - start)):
            item_id = self._next("item")
            number = int(item_id)
            bits = getrandbits(160)
            bits, key_draw = divmod(bits, 100)
            bits, customer = divmod(bits, count)
            customer += 1
            if key_draw < KEY_ACCOUNT_PERCENT:
                customer = 1 + customer % KEY_ACCOUNTS
            if not self.owners[customer]:
                customer = 1
            bits, kind_draw = divmod(bits, 20)
            bits, actor_draw = divmod(bits, 20)
            bits, other_rep = divmod(bits, n_reps)
            bits, rollup_draw = divmod(bits, 100)
            bits, second = divmod(bits, count)
            bits, comment_draw = divmod(bits, 40)
            bits, like_draw = divmod(bits, 40)
            bits, mention_draw = divmod(bits, 10)
            bits, text_i = divmod(bits, 1_000_000)
            owner = self.owners[customer]
            # Ids and created_at rise together: newest first is the same by either.
            created_at = self.base + timedelta(seconds=TWO_YEARS * number / total)
            created = created_at.isoformat(" ")
            kind = "post" if kind_draw < 8 else "event" if kind_draw < 15 else "change"
            actor = owner if actor_draw < 12 else reps[other_rep] if actor_draw < 17 else None
            mentioned = None
            if kind == "post":
                actor = actor or owner
                body = POST_BODIES[text_i % len(POST_BODIES)]
                if mention_draw == 0:
                    mentioned = reps[(other_rep + 1) % n_reps]
                    if mentioned == actor:
                        mentioned = reps[(other_rep + 2) % n_reps]
                    body = f"@{self.usernames[mentioned]} {body}"
                verb, data = "post", "{}"
            elif kind == "event":
                body = ""
                verb = EVENT_VERBS[text_i % len(EVENT_VERBS)]
                data = (
                    f'{{"number": "INV-{2025 + number * 2 // total}-{text_i:06d}", '
                    f'"amount": "{100 + text_i % 20_000}.00", "currency": "EUR"}}'
                )
            else:
                actor = actor or owner
                body, verb, data = "", "changed", CHANGES[text_i % len(CHANGES)]
            n_comments = 1 + comment_draw % 3 if comment_draw < 4 else 0  # 10% of items
            n_likes = 1 + like_draw % 4 if like_draw < 6 else 0  # 15%
            actor_text = str(actor) if actor else NULL
            rows["items"].append((
                item_id, kind, verb, self.customer_type, str(customer), self.names[customer], actor_text, body, data,
                created, str(n_comments), str(n_likes),
            ))  # fmt: skip
            records = [customer]
            placements = rows["placements"]
            placements.append((self._next("placement"), item_id, self.customer_type, str(customer)))
            if rollup_draw < ROLLED_UP_PERCENT and self.owners[second + 1] and second + 1 != customer:
                records.append(second + 1)
                placements.append((self._next("placement"), item_id, self.customer_type, str(second + 1)))
            if actor:
                placements.append((self._next("placement"), item_id, self.user_type, actor_text))
            readers = {user: False for record in records for user in self.followers(record)}
            if mentioned:
                readers[mentioned] = True
                rows["mentions"].append((self._next("mention"), item_id, NULL, str(mentioned)))
                read = created if number < total * 0.98 else NULL  # the old ones are read
                rows["notices"].append((
                    self._next("notice"), str(mentioned), "mention", actor_text, item_id, NULL,
                    f"{self.display[actor]} mentioned you in {self.names[customer]}"[:300],
                    f"/customers/{customer}/#item-{item_id}", created, read, created,
                ))  # fmt: skip
            for user, is_mention in readers.items():
                rows["inbox"].append((self._next("inbox"), str(user), item_id, kind, "t" if is_mention else "f"))
            for k in range(n_comments):
                at = min(created_at + timedelta(minutes=k + 1), self.now).isoformat(" ")
                author = reps[(other_rep + k) % n_reps]
                body = COMMENT_BODIES[(text_i + k) % len(COMMENT_BODIES)]
                rows["comments"].append((self._next("comment"), item_id, str(author), body, at))
            for k in range(n_likes):
                user = reps[(other_rep + 3 + k) % n_reps]
                rows["reactions"].append((self._next("reaction"), item_id, str(user), created))
        return rows


def seed_feed(*, items: int, reps: list[User], out=print) -> FeedSeedReport:
    """Replace the feed with `items` generated items over the seeded customers, and
    their placements, inbox entries, follows, comments, likes, mentions and
    notifications — loaded like the customers (COPY into bare tables on PostgreSQL)."""
    from django.core.cache import cache

    from collaboration import live
    from collaboration.models import (
        ApprovalRequest,
        Attachment,
        Comment,
        FeedItem,
        FeedPlacement,
        Follow,
        InboxEntry,
        Mention,
        Notification,
        Reaction,
    )

    feed_users = seed_feed_users()
    tables = {
        "items": Table(FeedItem, ITEM_COLUMNS),
        "placements": Table(FeedPlacement, PLACEMENT_COLUMNS),
        "inbox": Table(InboxEntry, INBOX_COLUMNS),
        "follows": Table(Follow, FOLLOW_COLUMNS),
        "comments": Table(Comment, COMMENT_COLUMNS),
        "reactions": Table(Reaction, REACTION_COLUMNS),
        "mentions": Table(Mention, MENTION_COLUMNS),
        "notices": Table(Notification, NOTIFICATION_COLUMNS),
    }
    models = [Notification, Mention, Reaction, Comment, Attachment, InboxEntry, FeedPlacement, Follow, FeedItem]
    use_copy = connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg2"
    strategy = (PostgresCopy if use_copy else BatchInsert)(list(tables.values()))
    customers = {pk: (name, owner) for pk, name, owner in Customer.objects.values_list("pk", "name", "owner_id")}
    report = FeedSeedReport(rows=dict.fromkeys(tables, 0))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(m._meta.db_table for m in [*models, ApprovalRequest])
            cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for model in [*models, ApprovalRequest]:
                cursor.execute(f"DELETE FROM {model._meta.db_table}")
        strategy.prepare(cursor)
        generator = FeedRows(
            customers=customers, reps=reps, feed_users=feed_users, now=datetime.now(UTC).replace(tzinfo=None)
        )
        follows = generator.follows()
        strategy.load(cursor, tables["follows"], follows)
        report.rows["follows"] = len(follows)
        while report.items < items:
            rows = generator.batch(items, BATCH_ITEMS)
            for name, batch in rows.items():
                if batch:
                    strategy.load(cursor, tables[name], batch)
                report.rows[name] += len(batch)
            report.items += len(rows["items"])
            out(f"  … {report.items:,} feed items ({time.perf_counter() - started:.1f} s)")
        strategy.finish(cursor)
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(t.name for t in tables.values())}")
    # The live checks answer from the cache: forget what an earlier seed left there.
    type_id = int(generator.customer_type)
    cache.delete_many(
        [live._record_key(type_id, pk) for pk in (*range(1, KEY_ACCOUNTS + 1), PUBLISH_CUSTOMER)]
        + [
            key
            for user in [*reps, *feed_users.values()]
            for key in (live._inbox_key(user.pk), live._unread_key(user.pk))
        ]
    )
    report.seconds = time.perf_counter() - started
    report.method = strategy.describe()
    return report


def seeded_feed_items() -> int:
    from collaboration.models import FeedItem

    return FeedItem.objects.count()


# --- selling history (issue 8): deals with lines, quotes and service cases ------------
# Every HISTORY_EVERY-th customer (1, 101, 201, … ≈ 1,000 at 100k) has a long history:
# 10 open deals, 6 won, 4 lost (3 lines each), 8 quotes and 5 service cases (2 open).
# Customer HOT_CUSTOMER (also the feed's key account) has HEAVY_FACTOR times that: the
# 360 page is measured on a 1× and on that 10× customer. The open deals (≈ 10,000) are
# what the pipeline board shows.

HISTORY_EVERY = 100
HEAVY_FACTOR = 10
OPEN_DEALS, WON_DEALS, LOST_DEALS = 10, 6, 4
LINES_PER_DEAL = 3
QUOTES_PER_CUSTOMER = 8
CASES_PER_CUSTOMER, OPEN_CASES_PER_CUSTOMER = 5, 2
# fmt: off
DEAL_NAMES = (
    "Renewal", "Expansion", "Pilot", "Rollout", "Support contract", "Migration", "Upgrade", "Framework agreement",
    "Spare parts", "Training", "Service level upgrade", "New site",
)
LINE_ITEMS = (
    ("Consulting day", "1200.00"), ("Licence, annual", "4800.00"), ("Support hours (10)", "950.00"),
    ("Installation", "2500.00"), ("Training seat", "450.00"), ("Hardware kit", "3100.00"),
)
LOST_REASONS = ("Price", "Went with a competitor", "No budget", "Timing", "No decision")
CASE_SUBJECTS = (
    "Delivery arrived damaged", "Invoice amount disputed", "Login does not work", "Missing items in shipment",
    "Service outage", "Wrong billing address", "Late delivery", "Feature not working as agreed",
)
# fmt: on
DEAL_COLUMNS = (
    "id",
    "customer_id",
    "name",
    "owner_id",
    "stage_id",
    "expected_close_date",
    "currency",
    "amount",
    "payment_terms",
    "payment_days",
    "next_step",
    "lost_reason",
    "closed_on",
    "created_at",
    "updated_at",
)  # fmt: skip
LINE_COLUMNS = (
    "id",
    "opportunity_id",
    "position",
    "description",
    "quantity",
    "unit_price",
    "discount_percent",
    "amount",
)
QUOTE_COLUMNS = (
    "id", "opportunity_id", "customer_id", "number", "status", "issue_date", "valid_until", "currency",
    "payment_terms", "payment_days", "subtotal", "tax_total", "total", "sent_at", "sent_to", "created_by_id",
    "created_at", "updated_at", "notes",
)  # fmt: skip
CASE_COLUMNS = (
    "id", "customer_id", "subject", "description", "severity", "status", "owner_id", "resolved_at", "created_by_id",
    "created_at", "updated_at", "invoice_number",
)  # fmt: skip


@dataclass
class SellingSeedReport:
    customers: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    method: str = ""


def history_customer_ids(customers: int) -> list[int]:
    return list(range(1, customers + 1, HISTORY_EVERY))


def seed_selling(*, out=print) -> SellingSeedReport:
    """Replace deals, lines, quotes, service cases (and leads) with a long history on
    every HISTORY_EVERY-th customer, loaded like the customers."""
    from decimal import Decimal

    from crm.models import Lead, Opportunity, OpportunityLine, Quote, ServiceCase, Stage

    tables = {
        "deals": Table(Opportunity, DEAL_COLUMNS),
        "lines": Table(OpportunityLine, LINE_COLUMNS),
        "quotes": Table(Quote, QUOTE_COLUMNS),
        "cases": Table(ServiceCase, CASE_COLUMNS),
    }
    stages = list(Stage.objects.order_by("order"))
    open_stages = [s.pk for s in stages if not s.is_closed]
    won = next(s.pk for s in stages if s.is_won)
    lost = next(s.pk for s in stages if s.is_lost)
    customer_ids = history_customer_ids(Customer.objects.count())
    customers = {
        pk: rest
        for pk, *rest in Customer.objects.filter(pk__in=customer_ids).values_list(
            "pk", "owner_id", "currency", "payment_terms", "payment_days", "email"
        )
    }
    use_copy = connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg2"
    strategy = (PostgresCopy if use_copy else BatchInsert)(list(tables.values()))
    report = SellingSeedReport(customers=len(customers), rows=dict.fromkeys(tables, 0))
    getrandbits = random.Random(2028).getrandbits
    now = datetime.now(UTC).replace(tzinfo=None)
    today = now.date()
    rows = {name: [] for name in tables}
    ids = dict.fromkeys(tables, 0)

    def next_id(table):
        ids[table] += 1
        return str(ids[table])

    started = time.perf_counter()
    for customer_id, (owner, currency, terms, days, email) in customers.items():
        factor = HEAVY_FACTOR if customer_id == HOT_CUSTOMER else 1
        owner = str(owner)
        deals = []
        for kind, count in (("open", OPEN_DEALS), ("won", WON_DEALS), ("lost", LOST_DEALS)):
            for _ in range(count * factor):
                bits = getrandbits(96)
                bits, name_i = divmod(bits, len(DEAL_NAMES))
                bits, stage_i = divmod(bits, len(open_stages))
                bits, days_off = divmod(bits, 540)
                bits, reason_i = divmod(bits, len(LOST_REASONS))
                deal_id = next_id("deals")
                amount = Decimal("0.00")
                for position in range(LINES_PER_DEAL):
                    bits, item_i = divmod(bits, len(LINE_ITEMS))
                    bits, quantity = divmod(bits, 5)
                    description, price = LINE_ITEMS[item_i]
                    line_amount = Decimal(price) * (quantity + 1)
                    amount += line_amount
                    rows["lines"].append((
                        next_id("lines"), deal_id, str(position), description, f"{quantity + 1}.000", price, "0.00",
                        f"{line_amount:.2f}",
                    ))  # fmt: skip
                created = now - timedelta(days=days_off + 30)
                if kind == "open":
                    stage, close, closed_on, reason = (
                        open_stages[stage_i],
                        today + timedelta(days=days_off % 180),
                        NULL,
                        "",
                    )
                else:
                    stage = won if kind == "won" else lost
                    close = (created + timedelta(days=20)).date()
                    closed_on, reason = close.isoformat(), (LOST_REASONS[reason_i] if kind == "lost" else "")
                rows["deals"].append((
                    deal_id, str(customer_id), f"{DEAL_NAMES[name_i]} {created.year}", owner, str(stage),
                    close.isoformat(), currency, f"{amount:.2f}", terms, str(days), "", reason, closed_on,
                    created.isoformat(" "), created.isoformat(" "),
                ))  # fmt: skip
                deals.append((deal_id, amount, created))
        for n in range(QUOTES_PER_CUSTOMER * factor):
            deal_id, amount, created = deals[n % len(deals)]
            quote_id = next_id("quotes")
            tax = (amount * Decimal("0.19")).quantize(Decimal("0.01"))
            issued = created + timedelta(days=n % 15)
            status = "sent" if n % 4 else "draft"
            rows["quotes"].append((
                quote_id, deal_id, str(customer_id), f"Q-{issued.year}-{int(quote_id):06d}", status,
                issued.date().isoformat(), (issued + timedelta(days=30)).date().isoformat(), currency, terms, str(days),
                f"{amount:.2f}", f"{tax:.2f}", f"{amount + tax:.2f}",
                issued.isoformat(" ") if status == "sent" else NULL, email if status == "sent" else "", owner,
                issued.isoformat(" "), issued.isoformat(" "), "",
            ))  # fmt: skip
        for n in range(CASES_PER_CUSTOMER * factor):
            bits = getrandbits(32)
            bits, subject_i = divmod(bits, len(CASE_SUBJECTS))
            bits, severity_i = divmod(bits, 4)
            bits, days_off = divmod(bits, 365)
            is_open = n % CASES_PER_CUSTOMER < OPEN_CASES_PER_CUSTOMER
            created = now - timedelta(days=days_off)
            rows["cases"].append((
                next_id("cases"), str(customer_id), CASE_SUBJECTS[subject_i], "", ("low", "normal", "high", "critical")[severity_i],
                "open" if is_open else "closed", owner, NULL if is_open else (created + timedelta(days=3)).isoformat(" "),
                owner, created.isoformat(" "), created.isoformat(" "), "",
            ))  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        models = [Quote, ServiceCase, OpportunityLine, Lead, Opportunity]
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(m._meta.db_table for m in models)} RESTART IDENTITY CASCADE")
        else:
            for model in models:
                cursor.execute(f"DELETE FROM {model._meta.db_table}")
        strategy.prepare(cursor)
        for name, table in tables.items():
            strategy.load(cursor, table, rows[name])
            report.rows[name] = len(rows[name])
        strategy.finish(cursor)
        for sql in connection.ops.sequence_reset_sql(no_style(), [Opportunity, OpportunityLine, Quote, ServiceCase]):
            cursor.execute(sql)
        continue_quote_numbers()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(t.name for t in tables.values())}")
    report.seconds = time.perf_counter() - started
    report.method = strategy.describe()
    out(f"  … {report.rows['deals']:,} deals on {report.customers:,} customers ({report.seconds:.1f} s)")
    return report


def seeded_deals() -> int:
    from crm.models import Opportunity

    return Opportunity.objects.count()


def expected_deals(customers: int) -> int:
    per_customer = OPEN_DEALS + WON_DEALS + LOST_DEALS
    count = len(history_customer_ids(customers))
    return per_customer * (count + (HEAVY_FACTOR - 1 if count else 0))


CONTACTS_PER_CUSTOMER_FOR_SEARCH = 3  # the search is measured over 100k customers + 300k contacts


def seed_more_contacts(*, per_customer: int = CONTACTS_PER_CUSTOMER_FOR_SEARCH, out=print) -> int:
    """Top the contacts up to `per_customer` × customers (the customers seed makes ≈ 2
    each): one more person at a customer in turn, at its domain. Returns how many were added."""
    customers = list(Customer.objects.order_by("pk").values_list("pk", "email", "phone", "created_at"))
    missing = per_customer * len(customers) - Contact.objects.count()
    if missing <= 0:
        return 0
    table = Table(Contact, CONTACT_COLUMNS)
    use_copy = connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg2"
    strategy = (PostgresCopy if use_copy else BatchInsert)([table])
    getrandbits = random.Random(2029).getrandbits
    next_id = (Contact.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    rows = []
    for n in range(missing):
        pk, email, phone, created = customers[n % len(customers)]
        bits = getrandbits(32)
        bits, first_i = divmod(bits, len(FIRST_NAMES))
        bits, last_i = divmod(bits, len(LAST_NAMES))
        bits, title_i = divmod(bits, len(JOB_TITLES))
        first, last = FIRST_NAMES[first_i], LAST_NAMES[last_i]
        at = created.replace(tzinfo=None).isoformat(" ")
        rows.append((
            str(next_id + n), str(pk), f"{first} {last}", f"{_slug(first)}.{_slug(last)}.{n}@{email.split('@')[-1]}",
            f"{phone[:-2]}{n % 100:02d}", JOB_TITLES[title_i], "f", at, at,
        ))  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        strategy.prepare(cursor)
        strategy.load(cursor, table, rows)
        strategy.finish(cursor)
        for sql in connection.ops.sequence_reset_sql(no_style(), [Contact]):
            cursor.execute(sql)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {table.name}")
    out(f"  … {missing:,} more contacts ({Contact.objects.count():,} in all)")
    return missing


def continue_quote_numbers() -> None:
    """The numbering counters (core.numbering) carry on from the seeded quotes'
    numbers (Q-<year>-<seq>), so a quote made afterwards takes the next one."""
    from core.models import Sequence
    from crm.models import Quote

    last: dict[int, int] = {}
    for number in Quote.objects.values_list("number", flat=True).iterator():
        _, year, seq = number.split("-")
        last[int(year)] = max(last.get(int(year), 0), int(seq))
    for year, seq in last.items():
        Sequence.objects.update_or_create(key="Q", year=year, defaults={"last": seq})
