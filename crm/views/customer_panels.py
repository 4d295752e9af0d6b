"""crm's own panels and badges on the customer 360 (crm.panels), registered from CrmConfig.ready().

Each panel reads one LIMITed query with select_related; the lists that show a total
("3 of 12 open deals") take it in the same query (COUNT(*) OVER ()), so a customer
with ten years of history costs what a new one does.
"""

from django.db.models import Case, Count, IntegerField, Q, Value, When, Window
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import User

from ..models import BILLING_DETAILS_REQUIRED, Customer, Opportunity, Quote, ServiceCase
from ..panels import Badge, Panel, customer_panel, may_see, register_badge, register_panel
from ..permissions import can_create_opportunity, can_log_case

TEMPLATE = "crm/customer_detail.html"
OPEN_DEALS_SHOWN = 10
CLOSED_DEALS_SHOWN = 5
QUOTES_SHOWN = 5
OPEN_CASES_SHOWN = 5
DEALS, CASES = "crm.view_opportunity", "crm.view_servicecase"


def _with_total(queryset, limit: int) -> tuple[list, int]:
    """The first `limit` rows and how many there are in all, in one query."""
    rows = list(queryset.annotate(total_count=Window(Count("id")))[:limit])
    return rows, (rows[0].total_count if rows else 0)


def _with_owners(rows: list, customer: Customer) -> list:
    """Each row's owner, without a join per list: the customer's own owner (read with the
    customer) for the rows it owns — most of them — and the others in one query, if any.
    Joining the user table cost a list more to build than the database took to read it."""
    known = {customer.owner_id: customer.owner}
    others = {row.owner_id for row in rows} - known.keys() - {None}
    if others:
        known.update(User.objects.in_bulk(others))
    for row in rows:
        if row.owner_id is not None:
            row.owner = known[row.owner_id]
    return rows


def open_cases(customer: Customer) -> tuple[list[ServiceCase], int]:
    """The customer's open cases, most severe first, and their number; read once per
    page (the cases panel and the header's badge both ask)."""
    cached = getattr(customer, "_open_cases", None)
    if cached is None:
        severity_rank = [ServiceCase.Severity.CRITICAL, ServiceCase.Severity.HIGH, ServiceCase.Severity.NORMAL]
        rank = Case(
            *(When(severity=severity, then=Value(position)) for position, severity in enumerate(severity_rank)),
            default=Value(len(severity_rank)),
            output_field=IntegerField(),
        )
        queryset = ServiceCase.objects.filter(customer=customer).open().order_by(rank, "-created_at", "-id")
        cases, count = _with_total(queryset, OPEN_CASES_SHOWN)
        cached = customer._open_cases = (_with_owners(cases, customer), count)
    return cached


def contacts_panel(request, customer):
    from .customers import contacts_context

    return contacts_context(request, customer)


def billing_details_panel(request, customer):
    return {}


def about_panel(request, customer):
    return {}


def feed_panel(request, customer):
    return {}


def open_deals_panel(request, customer):
    deals, count = _with_total(
        Opportunity.objects.filter(customer=customer)
        .open()
        .select_related("stage")
        .order_by("expected_close_date", "id"),
        OPEN_DEALS_SHOWN,
    )
    return {
        "open_deals": _with_owners(deals, customer),
        "open_deal_count": count,
        "today": timezone.localdate(),
        "can_create_deal": can_create_opportunity(request.user),
    }


def closed_deals_panel(request, customer):
    deals = list(
        Opportunity.objects.filter(customer=customer)
        .filter(Q(stage__is_won=True) | Q(stage__is_lost=True))
        .select_related("stage")
        .order_by("-closed_on", "-id")[:CLOSED_DEALS_SHOWN]
    )
    return {"closed_deals": deals} if deals else None


def quotes_panel(request, customer):
    quotes = list(
        Quote.objects.filter(customer=customer)
        .select_related("opportunity")
        .order_by("-issue_date", "-id")[:QUOTES_SHOWN]
    )
    return {"quotes": quotes} if quotes else None


def open_cases_panel(request, customer):
    cases, count = open_cases(customer)
    return {
        "open_cases": [(case, ServiceCase.SEVERITY_BADGES.get(case.severity, "secondary")) for case in cases],
        "open_case_count": count,
        "can_log_case": can_log_case(request.user),
    }


@require_GET
def lazy_panel(request, pk: int, key: str):
    """GET /customers/<pk>/panels/<key>/: a lazy panel of the 360 (crm.panels), asked for
    by its placeholder once the page is shown; empty when it has nothing to show."""
    panel = customer_panel(key)
    if panel is None or not panel.lazy or not may_see(request, panel):
        raise Http404("No such panel.")
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    context = panel.context(request, customer)
    if context is None:
        return HttpResponse("")  # htmx swaps the placeholder for nothing
    return render(request, panel.template, {"customer": customer, "object": customer, "panel": panel, **context})


def customer_badges(request, customer):
    badges = []
    if any(getattr(customer, field) == "" for field in BILLING_DETAILS_REQUIRED):
        badges.append(
            Badge(
                "Billing details incomplete",
                "warning",
                title="A tax ID or part of the billing address is missing: the customer cannot be invoiced yet.",
            )
        )
    if request.user.has_perm(CASES):
        _, count = open_cases(customer)
        if count:
            badges.append(Badge(f"{count} open case{'' if count == 1 else 's'}", "info", url="#cases-panel"))
    return badges


def register_customer_panels() -> None:
    for panel in (
        Panel("billing", "Billing details", f"{TEMPLATE}#billing_panel", billing_details_panel, order=10),
        Panel("contacts", "Contacts", f"{TEMPLATE}#contacts", contacts_panel, order=20),
        Panel("open_deals", "Open deals", f"{TEMPLATE}#open_deals_panel", open_deals_panel, 30, permission=DEALS),
        Panel("open_cases", "Open service cases", f"{TEMPLATE}#cases_panel", open_cases_panel, 40, permission=CASES),
        # Below the fold: after the page (crm.panels, lazy).
        Panel("quotes", "Quotes", f"{TEMPLATE}#quotes_panel", quotes_panel, 50, "main", "crm.view_quote", lazy=True),
        Panel(
            "closed_deals",
            "Won and lost",
            f"{TEMPLATE}#closed_deals_panel",
            closed_deals_panel,
            60,
            permission=DEALS,
            lazy=True,
        ),
        Panel("about", "About this record", f"{TEMPLATE}#about_panel", about_panel, order=10, column="side"),
        # Lazy, like Chatter and Odoo's chatter: the follow button, the composer, the
        # approvals and the items come in one request once the page is shown.
        Panel("feed", "Feed", f"{TEMPLATE}#feed_panel", feed_panel, order=100, column="side", lazy=True),
    ):
        register_panel(panel)
    register_badge("crm", customer_badges)
