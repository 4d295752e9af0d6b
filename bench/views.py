"""The hand-written baseline the API is measured against.

The least a JSON list of customers can cost in Django: one query with `values()`,
no serializer, no framework. It returns what the API's first page returns — the
same rows in the same order (the API's cursor ordering), the same page size, and
the same fields, including the derived ones (`url`, `billing_name`, `owner_name`,
`terms_label`), computed the cheap way. The ratio API ÷ baseline shows what DRF,
its serializers, filtering and pagination add on top.
"""

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse

from core.api.pagination import CursorPagination
from crm.models import Customer, billing_name, terms_label

COLUMNS = (
    "id",
    "name",
    "legal_name",
    "tax_id",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "currency",
    "payment_terms",
    "payment_days",
    "credit_limit",
    "owner_id",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "status",
    "created_at",
    "updated_at",
)


def customer_list_baseline(request):
    page_size = settings.REST_FRAMEWORK["PAGE_SIZE"]
    rows = Customer.objects.select_related("owner").order_by(*CursorPagination.ordering)[:page_size].values(*COLUMNS)
    # One reverse() for the page, not one per row.
    url_prefix = request.build_absolute_uri(reverse("api:customer-list"))
    results = []
    for row in rows:
        username, first, last = row.pop("owner__username"), row.pop("owner__first_name"), row.pop("owner__last_name")
        row["url"] = f"{url_prefix}{row['id']}/"
        row["billing_name"] = billing_name(row["legal_name"], row["name"])
        row["terms_label"] = terms_label(row["payment_terms"], row["payment_days"])
        row["owner"] = row.pop("owner_id")
        row["owner_name"] = f"{first} {last}".strip() or username
        results.append(row)
    return JsonResponse({"next": None, "previous": None, "results": results})
