"""Trigram indexes on the payment number and bank reference for the global search on
PostgreSQL.

The search finds a payment by a part of its number or reference OR by the customers a
query names (receivables.payment_panels): with these indexes and the customer_id one,
each branch of the OR is an index and PostgreSQL combines them (a bitmap OR) instead of
reading every payment.
"""

from django.db import migrations

from core.search import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("receivables", "0005_dunning")]
    operations = [trigram_indexes(("receivables_payment", "number"), ("receivables_payment", "reference"))]
