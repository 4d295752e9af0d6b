"""The bench's own database, made with Django's test-database machinery.

On PostgreSQL it is `<name>_bench` next to the database DATABASE_URL names (so
`concord_perf` gets `concord_perf_bench`, and two people sharing a server never share
a bench database); on SQLite the file var/bench.sqlite3. Either way the configured (development) database is never
read or written: Django switches the connection to the bench database before
migrating, and back when the bench is done.
"""

from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

POSTGRES_SUFFIX = "_bench"
SQLITE_FILE = "bench.sqlite3"


@dataclass
class BenchDatabase:
    vendor: str
    name: str
    server_version: str
    reused: bool


def bench_database_name() -> str:
    if connection.vendor == "sqlite":
        return str(settings.BASE_DIR / "var" / SQLITE_FILE)
    return connection.settings_dict["NAME"] + POSTGRES_SUFFIX


def server_version() -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return "PostgreSQL " + cursor.fetchone()[0]
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return "SQLite " + cursor.fetchone()[0]
    return connection.vendor


@contextmanager
def bench_database(*, reuse: bool, keep: bool):
    """Create (or, with `reuse`, open) the bench database, migrate it, and drop it
    afterwards unless `keep`."""
    name = bench_database_name()
    (settings.BASE_DIR / "var").mkdir(exist_ok=True)
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    # keepdb=True opens an existing database (and creates it if missing);
    # autoclobber drops a leftover bench database without asking.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=reuse)
    try:
        yield BenchDatabase(vendor=connection.vendor, name=name, server_version=server_version(), reused=reuse)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=keep)
