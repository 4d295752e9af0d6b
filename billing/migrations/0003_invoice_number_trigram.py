"""A trigram index on the invoice number for the global search on PostgreSQL.

The search finds an invoice by a part of its number OR by the customers a query names
(`UPPER(number) LIKE UPPER('%…%') OR customer_id = ANY(…)`, billing.panels): with this
index and the customer_id one, each branch of the OR is an index and PostgreSQL
combines them (a bitmap OR) instead of reading a million invoices.
"""

from django.db import migrations

from core.search import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_role_permissions")]
    operations = [trigram_indexes(("billing_invoice", "number"))]
