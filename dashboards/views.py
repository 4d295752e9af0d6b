"""The home page: what each role works on first, built from the CRM's own queries.

Sections appear by role and link only to pages that exist. Every figure is
counted in the database, so the page costs the same few queries however many
customers there are.
"""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.shortcuts import render

from accounts.roles import ADMIN, FINANCE_ROLES, SALES_MANAGER, SALES_REP
from crm.models import Customer
from crm.permissions import can_create_customer

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


def home(request):
    user = request.user
    is_admin = user.is_superuser or user.has_role(ADMIN)
    customers = Customer.objects.visible_to(user)
    context = {
        "can_view_customers": user.has_perm("crm.view_customer"),
        "can_create_customer": can_create_customer(user),
        # Sections a role does not get stay None, so the template leaves them out.
        "my_customers": None,
        "owners": None,
        "missing_billing": None,
        "recent_customers": None,
    }
    if user.has_role(SALES_REP):
        context["my_customers"] = CustomerDigest.of(customers.owned_by(user))
    if is_admin or user.has_role(SALES_MANAGER):
        context["owners"] = list(customers.owners_by_book_size()) if context["can_view_customers"] else []
    if is_admin or user.has_role(*FINANCE_ROLES):
        context["missing_billing"] = CustomerDigest.of(customers.missing_billing_details())
        context["recent_customers"] = list(customers.select_related("owner").order_by("-updated_at", "-id")[:LATEST])
    return render(request, "dashboards/home.html", context)
