"""Trigram indexes on the payment number and bank reference for the global search on
PostgreSQL.

The search finds a payment by a part of its number or reference OR by its customer's
name (receivables.payment_panels): with these indexes and the customer_id one, each
branch of the OR is an index and PostgreSQL combines them (a bitmap OR) instead of
reading every payment. SQLite (the embedded set-up) searches without them.
"""

from django.db import migrations

INDEXES = (("receivables_payment", "number"), ("receivables_payment", "reference"))


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_{column}_trgm "
            f'ON {table} USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("receivables", "0005_dunning")]
    operations = [migrations.RunPython(create, drop)]
