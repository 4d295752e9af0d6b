"""The customer 360: the record page is made of panels that apps register.

crm owns the page and its own panels; apps above it (billing: invoices and balance,
receivables: aging, payment behaviour, holds) add theirs from their AppConfig.ready()
and crm never imports them:

    from crm.panels import Badge, Panel, register_badge, register_panel

    register_panel(Panel(
        key="invoices",                       # unique; registering the key again replaces the panel
        title="Invoices",
        template="billing/panels/invoices.html",
        context=lambda request, customer: {"invoices": ...},  # a dict, or None to hide the panel
        order=35,                             # place in its column, lowest first (crm's: see below)
        column="main",                        # "main" (wide, left), "side" (right; below on a phone)
                                              # or "top" (full width, first under the header)
        permission="billing.view_invoice",    # optional: shown only to users with this permission
        lazy=True,                            # optional: rendered after the page (see below)
    ))
    register_badge("credit_hold", lambda request, customer: [Badge("On credit hold", "danger")] if ... else [])

The contract:
- `context(request, customer)` returns the panel's template context, or None to leave
  the panel out (nothing to show, or not for this person). It is called once per page.
- The template is rendered with the page's context plus that dict, plus `panel` (the
  Panel). It draws one `<section class="card mb-3">` with an `<h2>` heading.
- A panel reads a bounded slice: a LIMITed query with select_related, or one aggregate;
  one or two queries, never one per row. The whole page stays ≤ 15 queries however
  long the customer's history is (tests/crm/test_customer_360.py pins it).
- crm's panels, by order: main: billing details 10, contacts 20, open deals 30,
  open cases 40, quotes 50, won and lost deals 60; side: about the record 10, feed 100.
- A `lazy` panel is left out of the page's own response: a placeholder with its title
  asks for it by htmx once the page is shown (`crm:customer_panel`, one request per
  panel), like the feed. For panels below the fold whose reads cost more than the rest
  of the page (a key account's invoices); its context gets the customer without the
  apps' annotations, and its template only `customer`, `panel`, the request's context
  processors and its own context.
- Badge providers return a list of Badge (label, Bootstrap colour) for the header;
  they are called after the panels, so a provider may reuse what a panel read.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

COLUMNS = ("top", "main", "side")


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    context: Callable[[HttpRequest, Any], dict | None]
    order: int = 100
    column: str = "main"
    permission: str | None = None
    lazy: bool = False

    def __post_init__(self):
        if self.column not in COLUMNS:
            raise ValueError(f"Panel {self.key!r}: column must be one of {COLUMNS}, not {self.column!r}")


@dataclass(frozen=True)
class Badge:
    label: str
    tone: str = "secondary"  # a Bootstrap colour: danger, warning, info, success, secondary
    title: str = ""  # a longer explanation, shown on hover and read by screen readers
    url: str = ""


@dataclass(frozen=True)
class ShownPanel:
    panel: Panel
    context: dict
    lazy_url: str = ""  # a lazy panel: its placeholder asks this URL for it


_panels: dict[str, Panel] = {}
_badges: dict[str, Callable[[HttpRequest, Any], Iterable[Badge]]] = {}


def register_panel(panel: Panel) -> None:
    """Add a panel to the customer page (again with the same key replaces it)."""
    _panels[panel.key] = panel


def unregister_panel(key: str) -> None:
    _panels.pop(key, None)


def register_badge(key: str, badges: Callable[[HttpRequest, Any], Iterable[Badge]]) -> None:
    """Add header badges: `badges(request, customer)` returns the ones that apply (maybe none)."""
    _badges[key] = badges


def unregister_badge(key: str) -> None:
    _badges.pop(key, None)


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.key))


def may_see(request, panel: Panel) -> bool:
    return not panel.permission or request.user.has_perm(panel.permission)


def customer_panel(key: str) -> Panel | None:
    return _panels.get(key)


def shown_panels(request, customer, *, overrides: dict[str, dict] | None = None) -> dict[str, list[ShownPanel]]:
    """The panels this person sees on this customer's page, by column, in order.
    `overrides` gives a panel's context directly (the contacts panel with its form open)."""
    overrides = overrides or {}
    columns: dict[str, list[ShownPanel]] = {column: [] for column in COLUMNS}
    for panel in panels():
        if not may_see(request, panel):
            continue
        # ?<key>=1 draws a lazy panel in the page: its placeholder's link without JavaScript.
        if panel.lazy and panel.key not in overrides and not request.GET.get(panel.key):
            url = reverse("crm:customer_panel", args=[customer.pk, panel.key])
            columns[panel.column].append(ShownPanel(panel, {}, lazy_url=url))
            continue
        context = overrides[panel.key] if panel.key in overrides else panel.context(request, customer)
        if context is not None:
            columns[panel.column].append(ShownPanel(panel, context))
    return columns


def header_badges(request, customer) -> list[Badge]:
    return [badge for provider in _badges.values() for badge in provider(request, customer)]


# --- deal panels (issue 9) ---------------------------------------------------------------
# The deal's record page takes panels from apps above crm the same way (billing: how
# much of a won deal is invoiced, and its "Invoice this deal" buttons):
#
#     register_deal_panel(Panel("invoicing", "Invoicing", "billing/panels/deal_invoicing.html",
#                               context=lambda request, opportunity: {...} or None, order=10))
#
# Same contract as the customer's panels: `context(request, opportunity)` returns the
# template's context or None to leave the panel out; "main" panels follow the deal's
# lines and quotes, "side" panels come before the feed; one or two queries each.

_deal_panels: dict[str, Panel] = {}


def register_deal_panel(panel: Panel) -> None:
    """Add a panel to the deal page (again with the same key replaces it)."""
    _deal_panels[panel.key] = panel


def unregister_deal_panel(key: str) -> None:
    _deal_panels.pop(key, None)


def shown_in(registry: dict[str, Panel], request, record) -> dict[str, list[ShownPanel]]:
    """The panels of `registry` this person sees on `record`'s page, by column, in order
    (the deal's and the quote's pages here; billing's invoice page uses it too)."""
    columns: dict[str, list[ShownPanel]] = {column: [] for column in COLUMNS}
    for panel in sorted(registry.values(), key=lambda panel: (panel.order, panel.key)):
        if not may_see(request, panel):
            continue
        context = panel.context(request, record)
        if context is not None:
            columns[panel.column].append(ShownPanel(panel, context))
    return columns


def shown_deal_panels(request, opportunity) -> dict[str, list[ShownPanel]]:
    """The panels this person sees on this deal's page, by column, in order ("top"
    panels come first under the header: receivables' payment-risk card)."""
    return shown_in(_deal_panels, request, opportunity)


# --- quote panels (issue 10) --------------------------------------------------------------
# The quote's page takes panels the same way (receivables: the payment-risk card, "top").

_quote_panels: dict[str, Panel] = {}


def register_quote_panel(panel: Panel) -> None:
    """Add a panel to the quote page (again with the same key replaces it)."""
    _quote_panels[panel.key] = panel


def unregister_quote_panel(key: str) -> None:
    _quote_panels.pop(key, None)


def shown_quote_panels(request, quote) -> dict[str, list[ShownPanel]]:
    return shown_in(_quote_panels, request, quote)
