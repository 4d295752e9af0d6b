"""`GET /api/v1/aging/?as_of=&owner=&customer=`: what customers owed as of a day, in
buckets by days past due (settings.RECEIVABLES["AGING_BUCKETS"]) — totals per currency,
unapplied credit apart, and a page of rows per customer and currency.

The same queries as the aging page (receivables.aging), the same filters (its form):
a date in the future or that cannot be read is a 400; a rep gets their own customers
only; someone who reads no receivables a 403.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import exceptions, pagination, serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import TokenScopePermission
from core.api.errors import ERROR_SCHEMA
from crm.models import Customer

from .. import aging
from ..forms_aging import AgingFilterForm
from ..permissions import can_view_book, can_view_payments

MONEY = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}


def _bucket_fields() -> dict:
    return {
        bucket.key: serializers.DecimalField(help_text=f"Owed {bucket.label} days past due", **MONEY)
        for bucket in aging.buckets()
    }


class AgingBucketSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The name of this bucket's amount in the rows.")
    label = serializers.CharField()
    low = serializers.IntegerField(allow_null=True, help_text="Days past due above this (none for the first).")
    high = serializers.IntegerField(allow_null=True, help_text="Days past due up to this (none for the last).")


TOTAL_FIELDS = {
    "currency": serializers.CharField(),
    **_bucket_fields(),
    "total": serializers.DecimalField(**MONEY),
    "unapplied": serializers.DecimalField(
        help_text="Credit received and not applied at the day; not subtracted from the buckets.", **MONEY
    ),
}

CUSTOMER_FIELDS = {
    "customer": serializers.IntegerField(),
    "customer_name": serializers.CharField(),
    "currency": serializers.CharField(),
    **_bucket_fields(),
    "total": serializers.DecimalField(**MONEY),
    "unapplied": serializers.DecimalField(**MONEY),
}

# One object, not a list: the page of rows sits inside it (many=False keeps the schema from wrapping it).
AgingSerializer = extend_schema_serializer(many=False)(
    inline_serializer(
        "Aging",
        {
            "as_of": serializers.DateField(),
            "buckets": AgingBucketSerializer(many=True),
            "totals": inline_serializer("AgingTotal", TOTAL_FIELDS, many=True),
            "count": serializers.IntegerField(help_text="Rows (customer and currency) owing something."),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": inline_serializer("AgingCustomer", CUSTOMER_FIELDS, many=True),
        },
    )
)


class AgingPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_number(self, request, paginator):
        value = request.query_params.get(self.page_query_param, "1")  # sent empty: refused
        if not value.isdigit() or len(value) > 9 or int(value) < 1:
            raise exceptions.ValidationError({"page": ["Enter a page number from 1."]})
        return value

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not value.isdigit() or not 1 <= int(value) <= self.max_page_size:
            raise exceptions.ValidationError({"page_size": [f"Enter a whole number from 1 to {self.max_page_size}."]})
        return int(value)


ERROR = OpenApiResponse(response=ERROR_SCHEMA)


def _money(value) -> str:
    return f"{value.quantize(aging.CENT)}"


@extend_schema(tags=["receivables"])
class AgingViewSet(viewsets.GenericViewSet):
    """Aging as of a day: one aggregate query per answer, never a Python loop over invoices."""

    permission_classes = [IsAuthenticated, TokenScopePermission]
    # Paginated by hand (self.paginator below): the answer wraps the page in the day's
    # buckets and totals, which the schema's own "paginated list" could not describe.
    pagination_class = None
    filter_backends = []
    queryset = Customer.objects.none()  # names nothing: the rows are aggregates

    @extend_schema(
        summary="Aging as of a day",
        parameters=[
            OpenApiParameter(
                "as_of", OpenApiTypes.DATE, description="The day (YYYY-MM-DD); today when empty, never later."
            ),
            OpenApiParameter(
                "owner", OpenApiTypes.INT, description="Customers of this owner only (finance and managers)."
            ),
            OpenApiParameter("customer", OpenApiTypes.INT, description="One customer only."),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Rows per page, 1 to 200; 50 by default."),
        ],
        responses={200: AgingSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def list(self, request):
        if not can_view_payments(request.user):
            raise PermissionDenied("You may not see receivables.")
        params = {name: request.query_params.get(name) for name in ("as_of", "owner", "customer")}
        if params["as_of"] is not None and not params["as_of"].strip():
            raise exceptions.ValidationError(
                {"as_of": ["Enter a date such as 2026-03-31, or leave as_of out for today."]}
            )
        if params["owner"] is not None and not can_view_book(request.user):
            raise exceptions.ValidationError({"owner": ["You see your own customers only: leave the owner out."]})
        form = AgingFilterForm(
            {k: v for k, v in params.items() if v is not None}, with_owner=can_view_book(request.user)
        )
        if not form.is_valid():
            errors = form.errors.get_json_data()
            raise exceptions.ValidationError({name: [e["message"] for e in found] for name, found in errors.items()})
        cleaned = form.cleaned_data
        as_of = cleaned.get("as_of") or timezone.localdate()
        customer = cleaned.get("customer")
        where = aging.scope(request.user, owner=cleaned.get("owner"), customer=customer)
        invoices = aging.book_for(request.user, owner=cleaned.get("owner"), customer=customer)
        paginator = AgingPagination()
        page = paginator.paginate_queryset(aging.customer_rows(as_of, invoices), request, view=self)
        on_page = [row["customer_id"] for row in page]
        credit = {
            (row["customer_id"], row["currency"]): row["unapplied"]
            for row in (aging.unapplied_credit(as_of, Q(customer__in=on_page), per_customer=True) if on_page else [])
        }
        unapplied = {row["currency"]: row["unapplied"] for row in aging.unapplied_credit(as_of, where)}
        keys = [bucket.key for bucket in aging.buckets()]

        def amounts(row):
            row = aging.in_cents(row)
            return {key: _money(row[key]) for key in [*keys, "total"]}

        results = [
            {
                "customer": row["customer_id"],
                "customer_name": row["customer__name"],
                "currency": row["currency"],
                **amounts(row),
                "unapplied": _money(credit.get((row["customer_id"], row["currency"]), aging.ZERO)),
            }
            for row in page
        ]
        totals = [
            {
                "currency": row["currency"],
                **amounts(row),
                "unapplied": _money(unapplied.pop(row["currency"], aging.ZERO)),
            }
            for row in aging.totals(as_of, invoices)
        ]
        # Credit in a currency nothing is owed in still shows.
        totals += [
            {"currency": currency, **{key: "0.00" for key in [*keys, "total"]}, "unapplied": _money(amount)}
            for currency, amount in sorted(unapplied.items())
        ]
        return Response(
            {
                "as_of": as_of.isoformat(),
                "buckets": [{"key": b.key, "label": b.label, "low": b.low, "high": b.high} for b in aging.buckets()],
                "totals": totals,
                "count": paginator.page.paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": results,
            }
        )
