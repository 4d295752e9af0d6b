"""What the header's global search finds in the CRM (core.search): customers,
contacts, leads and deals, best match first.

On PostgreSQL a record matches when every word typed starts a word of its names
(full-text search, `to_tsquery('simple', 'acme:* & logi:*')`, answered by the GIN
expression indexes of migration 0011), or, when the query holds more than words
(a digit, "@", "."), when it appears inside one of its identifiers (email, tax ID,
phone: `icontains`, trigram-indexed). Elsewhere (SQLite, the embedded set-up) every
word must appear somewhere in the names, or the query in an identifier likewise.

Ranking, in every database: an exact name first, then names starting with what was
typed, then names with a word starting with it, then the rest (a match in the legal
name, the company or an identifier only); by name within each. PostgreSQL's ts_rank
was measured and dropped: it computes the weighted vectors of every matching row
again (not from the index), 25–50 ms for a word that 4% of 100,000 customers share,
where these tiers cost a few; for names, frequency-based ranking adds nothing a
person notices over "exact, starts with, contains the word".
"""

import re
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_
from urllib.parse import urlencode

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Case, F, Func, IntegerField, Prefetch, Q, Value, When
from django.urls import reverse

from core.cache import cached_result
from core.search import SearchProvider, SearchResult

from .models import Contact, Customer, Lead, Opportunity

# The text search configuration of the indexes: no stemming, no stop words, so names
# match as typed in any language.
CONFIG = "simple"
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 8
SEPARATORS = "@.-_+"  # what splits an email address into words in the search vector


@dataclass(frozen=True)
class SearchFields:
    """How one model is searched: `names` are words (full text, ranked; the first is
    the record's name), `identifiers` are matched as substrings (email, tax ID, phone)."""

    names: tuple[str, ...]
    identifiers: tuple[str, ...] = ()
    compact: tuple[str, ...] = ()  # identifiers also matched with the query's spaces removed (tax IDs)
    # Identifiers whose parts are words too: a person's email holds the company's domain
    # ("acme" finds the people at Acme), which is in no name of theirs. In the vector as
    # translate(email, '@.-_+', '     '): "wile acme example".
    worded: tuple[str, ...] = ()

    def vector(self):
        """The indexed expression (migration 0011 creates the same):
        to_tsvector('simple', COALESCE(a, '') || ' ' || COALESCE(translate(b, '@.-_+', '     '), '') …)."""
        parts = [
            *self.names,
            *(
                Func(F(field), Value(SEPARATORS), Value(" " * len(SEPARATORS)), function="translate")
                for field in self.worded
            ),
        ]
        return SearchVector(*parts, config=CONFIG)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())[:MAX_WORDS]


def prefix_terms(text: str) -> str:
    """`Acme logi` → `acme:* & logi:*`, to_tsquery's syntax; "" when nothing word-like was typed.
    Only \\w characters reach to_tsquery: its operators (& | ! : * ( ) <->) cannot be injected."""
    return " & ".join(f"{word}:*" for word in words(text))


def prefix_query(text: str) -> SearchQuery | None:
    """to_tsquery('simple', 'acme:* & logi:*'), or None when nothing word-like was typed."""
    terms = prefix_terms(text)
    return SearchQuery(terms, search_type="raw", config=CONFIG) if terms else None


# Shorter fragments of an email or phone number match nearly everything, and a trigram
# index cannot narrow them down (it reads all of itself): names only, then.
MIN_IDENTIFIER_LENGTH = 3


def looks_like_identifier(text: str) -> bool:
    """Does the query hold more than words: a digit, "@", ".", "+" (part of an email,
    a tax ID, a phone number)? Only then are identifiers searched: OR-ing their
    trigram indexes with the full-text one makes PostgreSQL recheck every matching
    row against every condition, to_tsvector included (30 ms instead of 10 for a word
    4% of customers share), and a plain word is in the names anyway."""
    return any(not (char.isalpha() or char.isspace()) for char in text)


def _identifier_match(fields: SearchFields, text: str) -> Q:
    match = Q()
    if len(text) < MIN_IDENTIFIER_LENGTH:
        return match
    if not looks_like_identifier(text):
        return match
    for field in fields.identifiers:
        match |= Q(**{f"{field}__icontains": text})
    compact = text.replace(" ", "")
    if compact != text:
        for field in fields.compact:
            match |= Q(**{f"{field}__icontains": compact})
    return match


def ranked_search(queryset, fields: SearchFields, text: str):
    """`queryset` narrowed to the records matching `text`, best first (see the module's docstring)."""
    text = text.strip()
    if not text:
        return queryset.none()
    name = fields.names[0]
    closeness = Case(
        When(**{f"{name}__iexact": text}, then=Value(0)),
        When(**{f"{name}__istartswith": text}, then=Value(1)),
        When(**{f"{name}__icontains": f" {text}"}, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    identifiers = _identifier_match(fields, text)
    if connection.vendor == "postgresql":
        query = prefix_query(text)
        if query is None:
            if not identifiers:
                return queryset.none()
            return queryset.filter(identifiers).annotate(closeness=closeness).order_by("closeness", name, "pk")
        match = Q(search_vector=query)
        return (
            queryset.alias(search_vector=fields.vector())
            .filter(match | identifiers if identifiers else match)
            .annotate(closeness=closeness)
            .order_by("closeness", name, "pk")
        )
    # Elsewhere: every word somewhere in the names, or the whole query in an identifier.
    found = words(text) or [text]
    searched = (*fields.names, *fields.worded)
    every_word = reduce(and_, (reduce(or_, (Q(**{f"{f}__icontains": w}) for f in searched)) for w in found))
    return (
        queryset.filter(every_word | identifiers if identifiers else every_word)
        .annotate(closeness=closeness)
        .order_by("closeness", name, "pk")
    )


CUSTOMER_FIELDS = SearchFields(names=("name", "legal_name"), identifiers=("email", "tax_id"), compact=("tax_id",))
CONTACT_FIELDS = SearchFields(names=("name",), identifiers=("email", "phone"), worded=("email",))
LEAD_FIELDS = SearchFields(names=("name", "company"), identifiers=("email", "phone"))
OPPORTUNITY_FIELDS = SearchFields(names=("name",))


# At most this many customers may name the records "of a customer" a search finds (an
# invoice, a payment): a word that more customers share says nothing about which
# invoice is meant (the customers' own group lists them), and fetching the invoices of
# 4,000 customers to show five cost 130 ms at 1M invoices.
CUSTOMERS_FOR_RECORDS = 25


def customer_ids_named(text: str) -> list[int]:
    """Ids of the customers whose name holds `text`, or none when more than
    CUSTOMERS_FOR_RECORDS do: the apps that find their records by the customer's
    name as well as by their own number use it. As a short list, `customer_id =
    ANY(…)` is answered by the customer_id index and OR-ed with a trigram index on the
    number (a bitmap OR); a join, or a subquery, in an OR makes PostgreSQL read every
    row (2.4 s over 1M invoices). Cached until a customer changes (core.cache), so the
    kinds of one search share it."""
    text = text.strip()
    if not text:
        return []
    named = Customer.objects.filter(name__icontains=text).order_by("pk")

    def ids():
        found = list(named.values_list("pk", flat=True)[: CUSTOMERS_FOR_RECORDS + 1])
        return found if len(found) <= CUSTOMERS_FOR_RECORDS else []

    return cached_result(named, "ids", ids)


def _customer_result(customer: Customer) -> SearchResult:
    detail = " · ".join(part for part in (customer.legal_name, customer.tax_id, customer.email) if part)
    return SearchResult(customer.name, customer.get_absolute_url(), detail)


def _contact_result(contact: Contact) -> SearchResult:
    detail = " · ".join(part for part in (contact.customer.name, contact.email, contact.phone) if part)
    return SearchResult(contact.name, f"{contact.customer.get_absolute_url()}#contact-{contact.pk}", detail)


def _lead_result(lead: Lead) -> SearchResult:
    detail = " · ".join(part for part in (lead.company, lead.get_status_display(), lead.email) if part)
    return SearchResult(lead.name, lead.get_absolute_url(), detail)


def _opportunity_result(deal: Opportunity) -> SearchResult:
    from core.money import format_amount

    # Plain text (the template escapes it): the amount in the reader's format, then the code.
    amount = f"{format_amount(deal.amount)} {deal.currency}"
    detail = " · ".join((deal.customer.name, deal.stage.name, amount))
    return SearchResult(deal.name, deal.get_absolute_url(), detail)


def _list_url(name: str, query: str) -> str:
    return f"{reverse(name)}?{urlencode({'q': query})}"


CUSTOMERS = SearchProvider(
    key="customers",
    label="Customers",
    noun="customer",
    permission="crm.view_customer",
    find=lambda user, query: ranked_search(Customer.objects.visible_to(user), CUSTOMER_FIELDS, query),
    result=_customer_result,
    see_all_url=lambda query: _list_url("crm:customer_list", query),
)

CONTACTS = SearchProvider(
    key="contacts",
    label="Contacts",
    noun="contact",
    permission="crm.view_customer",
    # The customers of the five shown only, in a query of their own: joined before the
    # ranking, PostgreSQL may hash every customer to rank 12,000 contacts sharing a word
    # (107 ms instead of 25 at 100k customers).
    find=lambda user, query: ranked_search(
        Contact.objects.visible_to(user).prefetch_related(Prefetch("customer", Customer.objects.only("pk", "name"))),
        CONTACT_FIELDS,
        query,
    ),
    result=_contact_result,
)

LEADS = SearchProvider(
    key="leads",
    label="Leads",
    noun="lead",
    permission="crm.view_lead",
    find=lambda user, query: ranked_search(Lead.objects.visible_to(user), LEAD_FIELDS, query),
    result=_lead_result,
    see_all_url=lambda query: _list_url("crm:lead_list", query),
)

OPPORTUNITIES = SearchProvider(
    key="opportunities",
    label="Deals",
    noun="deal",
    permission="crm.view_opportunity",
    find=lambda user, query: ranked_search(
        Opportunity.objects.visible_to(user).select_related("customer", "stage"), OPPORTUNITY_FIELDS, query
    ),
    result=_opportunity_result,
    see_all_url=lambda query: _list_url("crm:opportunity_list", query),
)
