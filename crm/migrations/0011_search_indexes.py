"""Indexes for the global search (crm.search) on PostgreSQL.

Full text: a GIN index on exactly the expression crm.search.SearchFields.vector()
compiles to, `to_tsvector('simple', COALESCE(name, '') || ' ' || COALESCE(…, ''))`,
so `… @@ to_tsquery('simple', 'acme:*')` is answered from the index. Substrings of
identifiers (email, phone) are `UPPER(col) LIKE UPPER('%…%')`: GIN trigram indexes on
that expression, like the customers' in 0004, so each branch of the search's OR has an
index (one branch without would make PostgreSQL read the whole table).
SQLite (the embedded set-up) searches without them.
"""

from django.db import migrations

# (table, index name, the parts of the vector in order) — the order is part of the expression.
# A contact's email counts as words ("wile acme example"): the people at Acme are found by "acme".
EMAIL_WORDS = "translate(\"email\", '@.-_+', '     ')"
FULL_TEXT = (
    ("crm_customer", "crm_customer_search_fts", ("name", "legal_name")),
    ("crm_contact", "crm_contact_search_fts", ("name", EMAIL_WORDS)),
    ("crm_lead", "crm_lead_search_fts", ("name", "company")),
    ("crm_opportunity", "crm_opportunity_search_fts", ("name",)),
)
TRIGRAM = (
    ("crm_contact", "email"),
    ("crm_contact", "phone"),
    ("crm_lead", "email"),
    ("crm_lead", "phone"),
)


def _vector(parts) -> str:
    quoted = [part if "(" in part else f'"{part}"' for part in parts]
    text = " || ' ' || ".join(f"COALESCE({part}, '')" for part in quoted)
    return f"to_tsvector('simple'::regconfig, {text})"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, name, columns in FULL_TEXT:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({_vector(columns)}))")
    for table, column in TRIGRAM:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_{column}_trgm "
            f'ON {table} USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, name, _ in FULL_TEXT:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    for table, column in TRIGRAM:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("crm", "0010_selling_permissions")]
    operations = [migrations.RunPython(create, drop)]
