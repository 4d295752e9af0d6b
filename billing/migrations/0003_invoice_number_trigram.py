"""A trigram index on the invoice number for the global search on PostgreSQL.

The search finds an invoice by a part of its number OR by its customer's name
(`UPPER(number) LIKE UPPER('%…%') OR customer_id = ANY(…)`, billing.panels): with
this index and the customer_id one, each branch of the OR is an index and PostgreSQL
combines them (a bitmap OR) instead of reading a million invoices. SQLite (the
embedded set-up) searches without it.
"""

from django.db import migrations

INDEXES = (("billing_invoice", "number"),)


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
    dependencies = [("billing", "0002_role_permissions")]
    operations = [migrations.RunPython(create, drop)]
