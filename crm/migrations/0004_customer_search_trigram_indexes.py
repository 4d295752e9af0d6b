"""Trigram indexes for the customer search on PostgreSQL.

The search is `icontains` on name, legal name, email and tax id, which Django
turns into `UPPER(col::text) LIKE UPPER('%term%')`; a GIN trigram index on that
same expression lets PostgreSQL answer it without reading every customer. SQLite
(the embedded set-up) has no such index and needs none at its scale.
"""

from django.db import migrations

COLUMNS = ("name", "legal_name", "email", "tax_id")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS crm_customer_{column}_trgm "
            f'ON crm_customer USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS crm_customer_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("crm", "0003_tax_id_error_on_its_field")]
    operations = [migrations.RunPython(create, drop)]
