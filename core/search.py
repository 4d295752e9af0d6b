"""The header's global search: one box that finds records of every kind.

Core knows no app, so apps register what they can be searched for, once, in their
AppConfig.ready():

    register(SearchProvider(
        key="customers", label="Customers", noun="customer",
        permission="crm.view_customer",
        find=lambda user, query: Customer.objects.visible_to(user).search(query),
        result=lambda customer: SearchResult(customer.name, customer.get_absolute_url(), customer.email),
        see_all_url=lambda query: f"{reverse('crm:customer_list')}?{urlencode({'q': query})}",
    ))

A search costs two queries per provider (a count and the first few rows), however
many records match, and providers the user may not read cost nothing. The count
stops at COUNT_LIMIT ("1,000+"): counting all 40,000 invoices of the customers a
common word names costs more than the rest of the search.
"""

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet

# Longer queries are cut: nobody types more, and every provider runs LIKE '%…%' with it.
MAX_QUERY_LENGTH = 100
RESULTS_PER_KIND = 5
COUNT_LIMIT = 1000


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    detail: str = ""


@dataclass(frozen=True)
class SearchProvider:
    """What one kind of record contributes to the global search."""

    key: str  # unique, e.g. "customers"
    label: str  # the group's heading, e.g. "Customers"
    noun: str  # one of them, e.g. "customer" ("See all 12 customers")
    permission: str | tuple[str, ...]  # who may search them: a Django permission (or any of several)
    find: Callable[[object, str], QuerySet]  # (user, query) → the matching rows the user may see, ordered
    result: Callable[[object], SearchResult]
    see_all_url: Callable[[str], str] | None = None  # the list page filtered with the query, if there is one


@dataclass(frozen=True)
class SearchGroup:
    provider: SearchProvider
    query: str
    count: int
    results: list[SearchResult]
    more: bool = False  # more than `count` match (the count stopped at COUNT_LIMIT)

    @property
    def see_all_url(self) -> str | None:
        return self.provider.see_all_url(self.query) if self.provider.see_all_url else None


_providers: dict[str, SearchProvider] = {}


def register(provider: SearchProvider) -> None:
    """Add a kind of record to the global search (again with the same key replaces it)."""
    _providers[provider.key] = provider


def providers() -> list[SearchProvider]:
    return list(_providers.values())


def clean_query(raw: str) -> str:
    """The query as the providers get it: control characters (NUL, which PostgreSQL
    refuses in a string, among them) removed, whitespace collapsed, at most
    MAX_QUERY_LENGTH characters."""
    text = "".join(" " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in raw)
    return " ".join(text.split())[:MAX_QUERY_LENGTH].strip()


def _may_search(user, provider: SearchProvider) -> bool:
    permissions = (provider.permission,) if isinstance(provider.permission, str) else provider.permission
    return any(user.has_perm(permission) for permission in permissions)


def search(user, query: str, *, limit: int = RESULTS_PER_KIND) -> list[SearchGroup]:
    """Every kind of record the user may read that matches `query`, in registration
    order, each with how many match and the first `limit` of them; kinds without a
    match are left out."""
    groups = []
    if not query:
        return groups
    for provider in _providers.values():
        if not _may_search(user, provider):
            continue
        found = provider.find(user, query)
        count = found.order_by()[: COUNT_LIMIT + 1].count()
        if count:
            results = [provider.result(row) for row in found[:limit]]
            groups.append(
                SearchGroup(
                    provider=provider,
                    query=query,
                    count=min(count, COUNT_LIMIT),
                    results=results,
                    more=count > COUNT_LIMIT,
                )
            )
    return groups


# --- indexes -----------------------------------------------------------------------------


def trigram_indexes(*columns: tuple[str, str]):
    """A migration operation that indexes `UPPER(column) LIKE UPPER('%…%')` (Django's
    `icontains`) with GIN trigram indexes on PostgreSQL, one per (table, column); SQLite
    (the embedded set-up) searches without them.

        operations = [trigram_indexes(("billing_invoice", "number"))]
    """
    from django.db import migrations

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table, column in columns:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_{column}_trgm "
                f'ON {table} USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, column in columns:
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_{column}_trgm")

    return migrations.RunPython(create, drop)
