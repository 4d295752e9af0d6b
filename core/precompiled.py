"""A read compiled to SQL once and run many times, for given primary keys.

For the hottest reads whose ORM building and compiling cost more than the database
takes to answer them: receivables' credit figures are a dozen scalar subqueries, ~2 ms
of Python to resolve and compile for a query PostgreSQL answers in well under that, on
every customer 360, deal and quote page and every credit check.

    FIGURES = Precompiled(Customer.objects.annotate(...).values("pk", "credit_limit", ...))
    rows = FIGURES.rows([12, 13])        # {12: {"id": 12, "credit_limit": ..., ...}, 13: ...}

The queryset is compiled when the Precompiled is made (keep one per set of parameters,
e.g. an lru_cache keyed by the day); each call wraps that SQL as
`SELECT * FROM (<sql>) WHERE <pk> IN (…)`, which PostgreSQL and SQLite both flatten into
the inner query, so the subqueries run for those rows only.

Values come as the database driver returns them: no field converters run (JSON may be
text, and SQLite gives numbers for decimals). The caller, which knows its columns,
converts them.
"""

from django.db import connections
from django.db.models import QuerySet


class Precompiled:
    def __init__(self, queryset: QuerySet):
        queryset = queryset.order_by()
        query = queryset.query
        pk = queryset.model._meta.pk
        if not query.values_select or query.values_select[0] not in ("pk", pk.name, pk.attname):
            raise ValueError("Precompiled needs a values() queryset that selects the primary key first.")
        self.key = query.values_select[0]  # the primary key's alias in the SELECT
        self.using = queryset.db
        self.sql, self.params = query.sql_with_params()

    def rows(self, ids) -> dict[object, dict]:
        """{pk: {column: value}} of the rows with these primary keys (missing ones left out)."""
        ids = list(ids)
        if not ids:
            return {}
        connection = connections[self.using]
        pk = connection.ops.quote_name(self.key)
        placeholders = ", ".join(["%s"] * len(ids))
        with connection.cursor() as cursor:
            cursor.execute(
                # Django compiled self.sql with its parameters apart; only placeholders are added.
                f"SELECT * FROM ({self.sql}) precompiled WHERE precompiled.{pk} IN ({placeholders})",  # noqa: S608
                [*self.params, *ids],
            )
            columns = [column[0] for column in cursor.description]
            return {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
