"""Junk in every field of every HTML form never gets a 5xx.

The forms are found, not listed: every named page of the URLconf (admin and API
aside: the admin has its own tests, the API its schemathesis run) is opened as
each role, and each form the page holds is filled with junk — very long strings,
NUL bytes, bidi controls, huge and negative numbers, non-numbers, unknown choices,
SQL and HTML snippets, several values where one is expected, invalid UTF-8 — all
fields at once, and one field at a time on top of what the page filled in (so the
junk reaches the services, disabled fields included). Any answer of 500 or more fails.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.services import create_api_token
from tests.factories import ContactFactory, CustomerFactory
from tests.html import Element, parse

pytestmark = pytest.mark.django_db

JUNK = [
    "x" * 10_000,
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",
    "\u2066isolated\u2069",
    "9" * 40,
    "-" + "9" * 40,
    "-1",
    "0",
    "1e309",
    "NaN",
    "-Infinity",
    "12.345678901234567890",
    "not a number",
    "bogus-choice",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "💥" * 300,
    "2026-02-30T25:61:00+99:00",
    " ",
]
INVALID_UTF8 = "%ff%fe%c0%af%ed%a0%80"
# What a person would type, used where a page leaves a field blank, so that one junk
# field on top of otherwise valid values gets past validation to the services.
PLAUSIBLE = {
    "name": "Fuzz GmbH",
    "email": "fuzz@example.com",
    "country": "DE",
    "currency": "EUR",
    "payment_days": "30",
}
LIST_PARAMS = ("page", "per_page", "sort", "_part", "_export")
ROLES = [None, "rep", "sales_manager", "clerk", "finance_manager", "admin", "outsider"]
SKIPPED_NAMESPACES = ("admin", "api")
SKIPPED_NAMES = {"healthz", "api_schema", "api_docs", "api_redoc", "logout"}


def _page_names(patterns=None, namespace=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in SKIPPED_NAMESPACES or str(pattern.pattern).startswith("admin/"):
                continue
            yield from _page_names(pattern.url_patterns, f"{pattern.namespace}:" if pattern.namespace else namespace)
        elif isinstance(pattern, URLPattern) and pattern.name and pattern.name not in SKIPPED_NAMES:
            yield namespace + pattern.name


PAGE_NAMES = sorted(set(_page_names()))


@pytest.fixture
def world(actors, rep):
    customer = CustomerFactory(owner=rep, name="Acme Industries GmbH")
    contact = ContactFactory(customer=customer)
    token, _ = create_api_token(user=rep, name="Sync")
    return {
        "pk": customer.pk,
        "contact_pk": contact.pk,
        "token_pk": token.pk,
        "uidb64": urlsafe_base64_encode(force_bytes(rep.pk)),
        "token": default_token_generator.make_token(rep),
        **records_of(customer, actors),
    }


def records_of(customer, actors) -> dict:
    """Records whose pages hold a form, for the names of RECORD_PAGES: an open dispute on
    an issued invoice of the customer (the Resolve form), the default dunning policy."""
    from billing import services as billing
    from receivables import dunning

    clerk = actors["clerk"]
    invoice = billing.create_invoice(
        by=clerk,
        customer=customer,
        data={"payment_days": 30},
        lines=[{"description": "Services", "quantity": "1", "unit_price": "100.00"}],
    )
    invoice = billing.issue_invoice(invoice=invoice, by=clerk, render=False)
    dispute = dunning.open_dispute(invoice=invoice, by=clerk, amount="10.00", reason="Price")
    return {"dispute_pk": dispute.pk, "policy_pk": dunning.get_default_policy().pk}


# Pages of a record other than the customer: the world's key holding its pk.
RECORD_PAGES = {"receivables:dispute_detail": "dispute_pk", "receivables:dunning_policy_detail": "policy_pk"}


def reverse_with(name: str, world: dict) -> str:
    if name in RECORD_PAGES:
        return reverse(name, kwargs={"pk": world[RECORD_PAGES[name]]})
    for kwargs in (
        {},
        {"pk": world["pk"]},
        {"pk": world["pk"], "contact_pk": world["contact_pk"]},
        {"pk": world["pk"], "key": "invoices"},  # a lazy panel of the 360
        {"pk": world["token_pk"]},
        {"uidb64": world["uidb64"], "token": world["token"]},
    ):
        try:
            return reverse(name, kwargs=kwargs)
        except Exception:  # noqa: BLE001 -- try the next set of arguments
            continue
    raise AssertionError(f"cannot build a URL for {name}")


def fields_of(form: Element) -> dict[str, str]:
    """The form's fields with the values the page filled in (disabled ones too)."""
    values: dict[str, str] = {}
    for element in form.iter():
        name = element.attrs.get("name")
        if not name or name == "csrfmiddlewaretoken":
            continue
        if element.tag == "select":
            options = element.find_all(tag="option")
            chosen = [o for o in options if "selected" in o.attrs] or [o for o in options if o.attrs.get("value")]
            values[name] = chosen[0].attrs.get("value", "") if chosen else ""
        elif element.tag == "textarea":
            values[name] = element.text
        elif element.tag == "input" and element.attrs.get("type") in ("checkbox", "radio"):
            if "checked" in element.attrs or name not in values:
                values[name] = element.attrs.get("value", "on")
        elif element.tag == "input" and element.attrs.get("type") not in ("submit", "button", "image", "reset"):
            values[name] = element.attrs.get("value", "")
        if not values.get(name) and name in PLAUSIBLE:
            values[name] = PLAUSIBLE[name]
    return values


def junk_submissions(fields: dict[str, str], share: int, shares: int):
    """(what, data) to post. The roles that reach a form share the work: each posts its
    share of the junk into every field at once and, over the page's own values, one
    junk value into each field (a different one per role); the first also posts lists
    for scalars and leaves each field out in turn. Together every junk value goes into
    every form."""
    for junk in JUNK[share::shares]:
        yield f"every field = {junk[:20]!r}", dict.fromkeys(fields, junk)
    for index, name in enumerate(fields):
        junk = JUNK[(index + share * 7) % len(JUNK)]
        yield f"{name} = {junk[:20]!r}", {**fields, name: junk}
    if share == 0:
        yield "lists for every field", {name: [JUNK[0], JUNK[5], "bogus-choice"] for name in fields}
        for name in fields:
            yield f"without {name}", {key: value for key, value in fields.items() if key != name}


class Fuzzer:
    def __init__(self, client: Client):
        self.client = client
        self.failures: list[str] = []

    def check(self, response, what: str):
        if response.status_code < 500 and getattr(response, "streaming", False):
            b"".join(response.streaming_content)  # a CSV export fails while streaming, if at all
        if response.status_code >= 500:
            error = response.exc_info[1] if getattr(response, "exc_info", None) else ""
            self.failures.append(f"{response.status_code} {what}: {error!r}"[:400])

    def post(self, url, data, what, **extra):
        self.check(self.client.post(url, data, **extra), f"POST {url} {what}")

    def get(self, url, what):
        self.check(self.client.get(url), f"GET {url} {what}")


def forms_on(page: Element, url: str):
    for form in page.find_all(tag="form"):
        method = form.attrs.get("method", "get").lower()
        action = form.attrs.get("action") or url
        fields = fields_of(form)
        if not fields:
            continue  # nothing to type into (sign out, delete, revoke)
        if method == "get" and action.split("?")[0] != url.split("?")[0]:
            continue  # the shell's search box: fuzzed on the page it belongs to
        yield method, action, fields, "hx-post" in form.attrs


def encode(data: dict) -> str:
    return "&".join(
        f"{quote(key)}={quote(str(value))}"
        for key, values in data.items()
        for value in (values if isinstance(values, list) else [values])
    )


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_junk_in_any_form_of_the_page_is_never_a_server_error(name, world, actors):
    url = reverse_with(name, world)
    failures, reached = [], []
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if role:
            client.force_login(actors[role])
        fuzzer = Fuzzer(client)
        fuzzer.get(f"{url}?{INVALID_UTF8[1:]}=1&q={INVALID_UTF8}&page={INVALID_UTF8}", "invalid UTF-8")
        failures += [f"as {role or 'anonymous'}: {failure}" for failure in fuzzer.failures]
        response = client.get(url, follow=True)
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            page_path = response.redirect_chain[-1][0] if response.redirect_chain else url
            forms = list(forms_on(parse(response.content.decode()), page_path))
            if forms:
                reached.append((role, fuzzer, forms))
    for share, (role, fuzzer, forms) in enumerate(reached):
        fuzzer.failures = []
        for method, action, fields, htmx in forms:
            if method == "get":
                params = {**fields, **dict.fromkeys(LIST_PARAMS, "")}
                for what, data in junk_submissions(params, share, len(reached)):
                    fuzzer.get(f"{action}?{encode(data)}", what)
                continue
            for what, data in junk_submissions(fields, share, len(reached)):
                fuzzer.post(action, data, what)
                if htmx and what.startswith("every field"):
                    fuzzer.post(action, data, f"{what} (htmx)", headers={"HX-Request": "true"})
            body = "&".join(f"{quote(key)}={INVALID_UTF8}" for key in fields)
            fuzzer.post(action, body, "invalid UTF-8", content_type="application/x-www-form-urlencoded")
        failures += [f"as {role or 'anonymous'}: {failure}" for failure in fuzzer.failures]
    assert not failures, "\n".join(failures[:30])
    # A page known to hold a form must still be reached with one (a renamed URL
    # keyword or a broken page would otherwise pass unfuzzed).
    assert reached or name not in FORM_PAGES, f"{name}: no form found to fuzz"


# Pages known to hold a form: the test fails if it stops finding one there.
FORM_PAGES = {
    "login",
    "password_change",
    "password_reset",
    "password_reset_confirm",
    "token_list",
    "preferences",
    "crm:customer_list",
    "crm:customer_create",
    "crm:customer_edit",
    "crm:contact_create",
    "crm:contact_edit",
    "receivables:dispute_list",
    "receivables:dispute_detail",
    "receivables:dunning_policy_create",
    "receivables:dunning_policy_detail",
}
