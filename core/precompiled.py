"""A read compiled to SQL once and run many times, for given keys.

For the hottest reads whose ORM building and compiling cost more than the database
takes to answer them: receivables' credit figures are a dozen scalar subqueries, ~2 ms
of Python to resolve and compile for a query PostgreSQL answers in well under that, on
every customer 360, deal and quote page and every credit check; the worklist's holds
are five such reads for each page.

    FIGURES = Precompiled(Customer.objects.annotate(...).values("pk", "credit_limit", ...))
    FIGURES.by_key([12, 13])      # {12: {"pk": 12, "credit_limit": ..., ...}, 13: ...}
    DEALS = Precompiled(Opportunity.objects.open().values("customer_id", "name"), key="customer_id")
    DEALS.rows([12, 13])          # [{"customer_id": 12, "name": ...}, ...]; rows(None): all

The queryset is compiled when the Precompiled is made (keep one per set of parameters,
e.g. in an lru_cache keyed by the day); each call wraps that SQL as
`SELECT * FROM (<sql>) WHERE <key> IN (…)`, which PostgreSQL and SQLite both flatten
into the inner query, so it reads those rows only. Values go through the fields'
converters as the ORM's would (dates, decimals and JSON on SQLite too).
"""

from django.db import connections
from django.db.models import QuerySet


class Precompiled:
    def __init__(self, queryset: QuerySet, key: str | None = None):
        queryset = queryset.order_by()
        query = queryset.query
        if not query.values_select:
            raise ValueError("Precompiled needs a values() queryset.")
        pk = queryset.model._meta.pk
        if key is None:
            if query.values_select[0] not in ("pk", pk.name, pk.attname):
                raise ValueError("Precompiled needs a values() queryset that selects the primary key first.")
            key = query.values_select[0]
        if key not in (*query.values_select, *query.annotation_select):
            raise ValueError(f"Precompiled: the key {key!r} is not one of the selected columns.")
        self.key = key  # the alias of the column rows are picked by
        self.using = queryset.db
        compiler = query.get_compiler(using=self.using)
        self.sql, self.params = compiler.as_sql()
        self.columns = [alias for _, _, alias in compiler.select[: compiler.col_count]]
        # {position: (converters, expression)}, as the compiler applies them to its rows.
        self.converters = list(compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]]).items())

    def rows(self, keys=None) -> list[dict]:
        """The rows whose key is one of `keys` (None: every row)."""
        connection = connections[self.using]
        sql, params = self.sql, list(self.params)
        if keys is not None:
            keys = list(keys)
            if not keys:
                return []
            placeholders = ", ".join(["%s"] * len(keys))
            # Django compiled self.sql with its parameters apart; only placeholders are added.
            sql = f"SELECT * FROM ({sql}) precompiled WHERE precompiled.{connection.ops.quote_name(self.key)} IN ({placeholders})"  # noqa: S608, E501
            params += keys
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        made = []
        for row in fetched:
            row = list(row)
            for position, (converters, expression) in self.converters:
                for convert in converters:
                    row[position] = convert(row[position], expression, connection)
            made.append(dict(zip(self.columns, row, strict=True)))
        return made

    def by_key(self, keys) -> dict[object, dict]:
        """{key: row} of the rows with these keys (a unique key: the primary key)."""
        return {row[self.key]: row for row in self.rows(keys)}
