"""REST API v1 for payments and their allocations: list and read, record a payment
(allocated oldest due first, or as given), allocate what is unapplied, take an
allocation back, void a payment.

Every change goes through receivables.services, which decides who may do what: bad
input is a 400 (by field), a user who may not a 403, a state that forbids it (a void
payment, a paid invoice, an allocation taken back already) a 409, and a stale
`If-Match` a 412. A rep reads only their own customers' payments (others are 404).
Unsafe requests may carry an `Idempotency-Key`: the same key and body within a day
answer what the first request answered, without doing it twice.
"""

from decimal import Decimal

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import TokenScopePermission
from billing.api.invoices import CustomerIdField
from core.api.concurrency import (
    ETAG_HEADER,
    IF_MATCH_HEADER,
    STALE_RESPONSE,
    ConcurrencyMixin,
    concurrency_schema,
    etag_of,
)
from core.api.errors import ERROR_SCHEMA, call_service
from core.api.filters import DjangoFilterBackend, OrderingFilter
from core.api.idempotency import IDEMPOTENCY_HEADER, IdempotentMixin
from core.api.json_types import StrictJSONTypesMixin
from core.api.serializers import IdentityUrlField
from core.concurrency import StaleVersion

from .. import services
from ..models import Allocation, Payment
from ..payment_filters import AllocationFilterSet, PaymentFilterSet
from ..permissions import can_view_payments

MAX_ID = 2**63 - 1
MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0"), "max_value": Decimal("999999999999.99")}

# --- serializers: what is read ------------------------------------------------------------


class AllocationSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:allocation-detail")
    payment_number = serializers.CharField(source="payment.number", read_only=True)
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    is_live = serializers.BooleanField(read_only=True, help_text="Still applied: not taken back.")

    class Meta:
        model = Allocation
        fields = [
            "id",
            "url",
            "payment",
            "payment_number",
            "invoice",
            "invoice_number",
            "amount",
            "applied_on",
            "reversed_on",
            "is_live",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "applied_on": {"help_text": "The day it counts from: the later of the payment's and the invoice's date."},
            "reversed_on": {
                "help_text": "The day it was taken back (unallocated, or the payment voided); null while live."
            },
        }


class PaymentSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:payment-detail")
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "url",
            "number",
            "status",
            "customer",
            "customer_name",
            "received_on",
            "amount",
            "currency",
            "method",
            "reference",
            "notes",
            "amount_allocated",
            "unapplied",
            "voided_on",
            "void_reason",
            "created_by",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "number": {"help_text": "PAY-<year>-<seq>, given when the payment is recorded."},
            "unapplied": {"help_text": "amount − amount_allocated: credit usable for later invoices; 0 once void."},
        }


class PaymentDetailSerializer(PaymentSerializer):
    """A payment with its allocations (taken-back ones too)."""

    allocations = AllocationSerializer(many=True, read_only=True)

    class Meta(PaymentSerializer.Meta):
        fields = [*PaymentSerializer.Meta.fields, "allocations"]
        read_only_fields = fields


# --- serializers: what is written ------------------------------------------------------------


class AllocationInputSerializer(StrictJSONTypesMixin, serializers.Serializer):
    invoice = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="Id of an open invoice of the customer."
    )
    amount = serializers.DecimalField(**MONEY, help_text="More than 0; at most the invoice's balance due.")


class PaymentCreateSerializer(StrictJSONTypesMixin, serializers.Serializer):
    """Money received from a customer, and how to apply it."""

    customer = CustomerIdField(help_text="Id of the customer who paid.")
    received_on = serializers.DateField(help_text="The day the money arrived; not in the future.")
    amount = serializers.DecimalField(**MONEY, help_text="More than 0.")
    currency = serializers.ChoiceField(
        choices=Payment._meta.get_field("currency").choices,
        required=False,
        help_text="Left out: the customer's currency. Only invoices in this currency are paid from it.",
    )
    method = serializers.ChoiceField(
        choices=Payment.Method.choices, required=False, default=Payment.Method.BANK_TRANSFER
    )
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    allocations = AllocationInputSerializer(
        many=True,
        required=False,
        max_length=500,
        help_text="How to apply it: [{invoice, amount}] (an empty list keeps it all as unapplied credit). "
        "Left out: to the customer's open invoices, oldest due first.",
    )


class AllocateSerializer(StrictJSONTypesMixin, serializers.Serializer):
    """Amounts for some invoices, or `auto`: oldest due first."""

    allocations = AllocationInputSerializer(
        many=True, required=False, allow_empty=False, max_length=500, help_text="[{invoice, amount}]."
    )
    auto = serializers.BooleanField(
        required=False, default=False, help_text="Apply what is unapplied to the open invoices, oldest due first."
    )

    def validate(self, data):
        if bool(data.get("allocations")) == bool(data.get("auto")):
            raise serializers.ValidationError("Give either `allocations` or `auto: true`.")
        return data


class PaymentVoidSerializer(StrictJSONTypesMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="Why the payment is void (a bounced cheque…).")


class PaymentUnallocateSerializer(StrictJSONTypesMixin, serializers.Serializer):
    allocation = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Id of a live allocation of it.")


# --- views --------------------------------------------------------------------------------------


class ReadsPayments(permissions.BasePermission):
    """Finance reads every payment, a rep their own customers'; anyone else gets 403.
    What each may change is decided by the services (a 403 with their reason)."""

    message = "You may not see payments."

    def has_permission(self, request, view):
        return can_view_payments(request.user)


FORBIDDEN = OpenApiResponse(ERROR_SCHEMA, description="Only finance records, allocates and voids payments.")
REFUSED = OpenApiResponse(ERROR_SCHEMA, description="Refused: see `error.message` and `error.fields`.")
CONFLICT = OpenApiResponse(
    ERROR_SCHEMA,
    description="The payment's or invoice's state forbids it (void, paid, taken back already), or the "
    "Idempotency-Key was used for another request.",
)
NOT_FOUND = OpenApiResponse(ERROR_SCHEMA, description="No such payment, or not one of your customers'.")
# What an operation on one payment answers: the payment as it is now, or why not.
ON_A_PAYMENT = {200: PaymentDetailSerializer, 400: REFUSED, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}


def _conflicts(operation):
    return call_service(operation, conflict=services.LedgerConflict)


def _pairs(allocations) -> list[tuple[int, object]]:
    return [(item["invoice"], item["amount"]) for item in allocations]


@extend_schema(tags=["payments"])
@extend_schema_view(
    list=extend_schema(
        summary="List payments",
        description="Newest first unless `ordering` says otherwise. The filters of the payment list page "
        "(customer, method, status, received date range, number / reference / customer name) and `updated_since`. "
        "A rep sees their own customers' payments only.",
    ),
    retrieve=extend_schema(
        summary="Get a payment with its allocations",
        responses={200: PaymentDetailSerializer, 404: NOT_FOUND},
        **concurrency_schema(read=True),
    ),
    create=extend_schema(
        summary="Record a payment",
        description="Numbered PAY-<year>-<seq>. Without `allocations` it pays the customer's open invoices in its "
        "currency oldest due first; with them exactly so (all or nothing). What is left is unapplied credit. "
        "A zero or negative amount, a date in the future, more than an invoice's balance, another customer's "
        "invoice or one in another currency: 400.",
        request=PaymentCreateSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: PaymentDetailSerializer, 400: REFUSED, 403: FORBIDDEN, 409: CONFLICT},
    ),
)
class PaymentViewSet(
    IdempotentMixin, ConcurrencyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Payments: finance reads all and records, allocates and voids them; reps read
    their own customers'. Never edited or deleted: void one recorded in error."""

    queryset = Payment.objects.all()  # names the model; get_queryset() narrows it per user
    serializer_class = PaymentSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission, ReadsPayments]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = PaymentFilterSet
    ordering_fields = ["received_on", "created_at", "updated_at", "amount", "unapplied"]
    ordering = ("-id",)
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        queryset = Payment.objects.visible_to(self.request.user).select_related("customer")
        if self.action != "list":
            queryset = queryset.prefetch_related("allocations__invoice", "allocations__payment")
        return queryset

    def get_serializer_class(self):
        return PaymentSerializer if self.action == "list" else PaymentDetailSerializer

    def _answer(self, payment, status_code=status.HTTP_200_OK):
        record = self.get_queryset().get(pk=payment.pk)
        response = Response(
            PaymentDetailSerializer(record, context=self.get_serializer_context()).data, status=status_code
        )
        response["ETag"] = etag_of(record)
        return response

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def create(self, request, *args, **kwargs):
        def record():
            data = self._input(PaymentCreateSerializer)
            customer = data.pop("customer")
            allocations = data.pop("allocations", None)
            payment = _conflicts(
                lambda: services.record_payment(
                    customer=customer,
                    by=request.user,
                    data=data,
                    allocations=None if allocations is None else _pairs(allocations),
                )
            )
            return self._answer(payment, status.HTTP_201_CREATED)

        return self.idempotent(request, record)

    def _operate(self, request, operation):
        """Run `operation(payment)`, which reads the body and calls a service, once per
        Idempotency-Key; answer with the payment as it is now."""
        payment = self.get_object()

        def run():
            _conflicts(lambda: operation(payment))
            return self._answer(payment)

        return self.idempotent(request, run)

    @extend_schema(
        summary="Allocate what is unapplied",
        description="`allocations`: [{invoice, amount}], all or nothing; or `auto: true`: to the open invoices, "
        "oldest due first. Never more than the payment has left or an invoice's balance due (400).",
        request=AllocateSerializer,
        parameters=[IF_MATCH_HEADER, ETAG_HEADER, IDEMPOTENCY_HEADER],
        responses={**ON_A_PAYMENT, 412: STALE_RESPONSE},
    )
    @action(detail=True, methods=["post"])
    def allocate(self, request, pk=None):
        def allocate(payment):
            data = self._input(AllocateSerializer)
            version = self.expected_version()
            if not data.get("auto"):
                allocations = _pairs(data["allocations"])
                return services.allocate(
                    payment=payment, by=request.user, allocations=allocations, expected_version=version
                )
            if version is not None and version != payment.version:
                raise StaleVersion(payment.version)
            return services.auto_allocate(payment=payment, by=request.user)

        return self._operate(request, allocate)

    @extend_schema(
        summary="Take an allocation back",
        description="`allocation`: a live allocation of this payment. The invoice owes it again; the payment has "
        "it unapplied. The allocation is kept, marked taken back (`reversed_on`).",
        request=PaymentUnallocateSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        responses=ON_A_PAYMENT,
    )
    @action(detail=True, methods=["post"])
    def unallocate(self, request, pk=None):
        def unallocate(payment):
            allocation_id = self._input(PaymentUnallocateSerializer)["allocation"]
            allocation = payment.allocations.filter(pk=allocation_id).first()
            if allocation is None:
                raise serializers.ValidationError({"allocation": ["No allocation of this payment has this id."]})
            return services.unallocate(allocation=allocation, by=request.user)

        return self._operate(request, unallocate)

    @extend_schema(
        summary="Void the payment",
        description="For a payment recorded in error (a bounced cheque): its allocations are taken back, its "
        "invoices owe again, and it keeps its number. Voiding twice is a 409.",
        request=PaymentVoidSerializer,
        parameters=[IF_MATCH_HEADER, ETAG_HEADER, IDEMPOTENCY_HEADER],
        responses={**ON_A_PAYMENT, 412: STALE_RESPONSE},
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        def void(payment):
            reason = self._input(PaymentVoidSerializer)["reason"]
            version = self.expected_version()
            return services.void_payment(payment=payment, by=request.user, reason=reason, expected_version=version)

        return self._operate(request, void)


@extend_schema(tags=["payments"])
@extend_schema_view(
    list=extend_schema(
        summary="List allocations",
        description="Parts of payments applied to invoices, taken-back ones too (`live=false`). Filter by "
        "`invoice`, `payment` or `customer`.",
    ),
    retrieve=extend_schema(summary="Get an allocation", responses={200: AllocationSerializer, 404: NOT_FOUND}),
)
class AllocationViewSet(IdempotentMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Allocations: read here; made by recording or allocating a payment."""

    queryset = Allocation.objects.all()
    serializer_class = AllocationSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission, ReadsPayments]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = AllocationFilterSet
    ordering_fields = ["applied_on", "created_at", "amount"]
    ordering = ("-id",)
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        visible = Payment.objects.visible_to(self.request.user)
        return Allocation.objects.filter(payment__in=visible).select_related("payment", "invoice")

    @extend_schema(
        summary="Take the allocation back",
        description="The invoice owes it again; the payment has it unapplied. Taken back already: 409.",
        request=None,
        parameters=[IDEMPOTENCY_HEADER],
        responses={200: AllocationSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def unallocate(self, request, pk=None):
        allocation = self.get_object()

        def unallocate():
            taken = _conflicts(lambda: services.unallocate(allocation=allocation, by=request.user))
            record = self.get_queryset().get(pk=taken.pk)
            return Response(AllocationSerializer(record, context=self.get_serializer_context()).data)

        return self.idempotent(request, unallocate)
