"""The home page: what each role works on first, built from the CRM's own queries.

Sections appear by role and link only to pages that exist. Every figure is
counted in the database, so the page costs the same few queries however many
customers there are.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ADMIN, FINANCE_ROLES, SALES_MANAGER, SALES_REP
from crm.models import Customer
from crm.permissions import can_create_customer
from receivables.collections import owner_collections

LATEST = 10


@dataclass(frozen=True)
class CustomerDigest:
    """How many customers a query finds, and the most recently updated of them."""

    count: int
    latest: list[Customer]

    @classmethod
    def of(cls, customers: QuerySet) -> "CustomerDigest":
        latest = customers.select_related("owner").order_by("-updated_at", "-id")[:LATEST]
        return cls(count=customers.count(), latest=list(latest))


def customer_list_url(**filters) -> str:
    """The customer list filtered as a card's figure counts: the card's "See all"."""
    url = reverse("crm:customer_list")
    return f"{url}?{urlencode(filters)}" if filters else url


def home(request):
    """Each role's work first: a rep their own customers and those of them that cannot
    be invoiced yet; a sales manager the team's book by owner; finance the customers
    missing billing details and the credit granted; an admin all of these."""
    user = request.user
    is_admin = user.is_superuser or user.has_role(ADMIN)
    customers = Customer.objects.visible_to(user)
    context = {
        "can_view_customers": user.has_perm("crm.view_customer"),
        "can_create_customer": can_create_customer(user),
        # Sections a role does not get stay None, so the template leaves them out.
        "my_customers": None,
        "my_incomplete": None,
        "owners": None,
        "missing_billing": None,
        "credit_totals": None,
        "recent_customers": None,
        "my_collections": None,
        "today": timezone.localdate(),
        "links": {
            "mine": customer_list_url(mine=1),
            "my_incomplete": customer_list_url(mine=1, billing="incomplete"),
            "missing_billing": customer_list_url(billing="incomplete"),
            "by_credit_limit": customer_list_url(sort="-credit_limit"),
            "all": customer_list_url(),
        },
    }
    if user.has_role(SALES_REP):
        mine = customers.owned_by(user)
        context["my_customers"] = CustomerDigest.of(mine)
        context["my_incomplete"] = CustomerDigest.of(mine.missing_billing_details())
        if user.has_perm("receivables.view_collectiontask"):
            # The calls dunning asks of them, and why reminders to their customers wait.
            context["my_collections"] = owner_collections(user, timezone.localdate())
    if is_admin or user.has_role(SALES_MANAGER):
        owners = list(customers.owners_by_book_size()) if context["can_view_customers"] else []
        context["owners"] = owners
        # The team's totals: a sum over the few owners already read, not another query.
        context["team"] = {
            figure: sum(getattr(owner, figure) for owner in owners)
            for figure in ("customer_count", "active_count", "incomplete_count")
        }
    if is_admin or user.has_role(*FINANCE_ROLES):
        context["missing_billing"] = CustomerDigest.of(customers.missing_billing_details())
        context["credit_totals"] = list(customers.credit_totals())
        context["recent_customers"] = list(customers.select_related("owner").order_by("-updated_at", "-id")[:LATEST])
    return render(request, "dashboards/home.html", context)
