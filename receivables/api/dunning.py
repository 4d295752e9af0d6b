"""REST API v1 for dunning: policies (`/dunning-policies/`), runs (`/dunning-runs/`, with
`preview/` and progress), notices as sent (`/dunning-notices/`), manual holds
(`/dunning-holds/`, `release`), disputes (`/disputes/`, `resolve`), promises to pay
(`/payment-promises/`, `cancel`) and collection calls (`/collection-tasks/`, `complete` for a
call dunning asked of the owner, `log-call` for a call made without one).

The same services as the pages (receivables.dunning), which decide who may do what: bad
input is a 400 (by field), a user who may not a 403 with the reason, a state that forbids
it (a run in progress, a dispute resolved already, a hold released) a 409. A rep reads
the holds, disputes, promises and calls of their own customers only; finance reads all.
"""

from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import TokenScopePermission
from billing.models import CreditNote, Invoice
from core.api.concurrency import (
    ETAG_HEADER,
    IF_MATCH_HEADER,
    STALE_RESPONSE,
    ConcurrencyMixin,
    concurrency_schema,
    etag_of,
)
from core.api.errors import ERROR_SCHEMA, call_service
from core.api.filters import OrderingFilter
from core.api.json_types import StrictJSONTypesMixin
from core.api.permissions import ModelPermissions
from core.api.serializers import IdentityUrlField
from crm.api.customers import VisibleCustomerField
from crm.models import Customer

from .. import dunning
from ..dunning_filters import (
    CollectionTaskFilterSet,
    DisputeFilterSet,
    DunningHoldFilterSet,
    DunningNoticeFilterSet,
    DunningRunFilterSet,
    PaymentPromiseFilterSet,
)
from ..models import (
    CollectionTask,
    Dispute,
    DunningFee,
    DunningHold,
    DunningLevel,
    DunningNotice,
    DunningNoticeLine,
    DunningPolicy,
    DunningRun,
    PaymentPromise,
)

ID_PATTERN = "[0-9]{1,18}"  # ids in URLs: anything longer cannot be an id (404, never an overflow)
MAX_ID = 2**63 - 1
MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0"), "max_value": Decimal("999999999999.99")}

REFUSED = OpenApiResponse(ERROR_SCHEMA, description="Refused: see `error.message` and `error.fields`.")
FORBIDDEN = OpenApiResponse(ERROR_SCHEMA, description="You may not do this: `error.message` says who may.")
NOT_FOUND = OpenApiResponse(ERROR_SCHEMA, description="No such record, or not one you may see.")
CONFLICT = OpenApiResponse(ERROR_SCHEMA)


def _conflicts(operation):
    return call_service(operation, conflict=dunning.DunningConflict)


def _operation_schema(record_serializer, *, summary: str, description: str, request=None):
    """An operation on one record (release, resolve, cancel, complete) answers with the
    record as it is now; bad input (where it takes any) is a 400, who may not a 403, no
    such record a 404, a state that forbids it a 409."""
    refused = {} if request is None else {400: REFUSED}
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses={200: record_serializer, **refused, 403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT},
    )


def _sees_every_customer(user) -> bool:
    return user.has_perm("receivables.view_payment")


# --- fields -----------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class CustomerIdField(VisibleCustomerField):
    """A customer by id (the schema says integer: these serializers have no model to read it from)."""


@extend_schema_field(OpenApiTypes.INT)
class InvoiceIdField(serializers.PrimaryKeyRelatedField):
    """An invoice by id, among those the requesting user may see."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Invoice.objects.none()
        return Invoice.objects.visible_to(request.user).select_related("customer")

    def to_internal_value(self, data):
        if isinstance(data, int) and not 0 < data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.INT)
class CreditNoteIdField(serializers.PrimaryKeyRelatedField):
    queryset = CreditNote.objects.all()

    def to_internal_value(self, data):
        if isinstance(data, int) and not 0 < data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


# --- policies ---------------------------------------------------------------------------------


class DunningLevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = DunningLevel
        fields = [
            "id",
            "order",
            "days_after_due",
            "name",
            "channel",
            "subject_template",
            "body_template",
            "fee",
            "interest_rate",
            "task_days",
        ]
        read_only_fields = fields


class DunningPolicySerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:dunning-policy-detail")
    levels = DunningLevelSerializer(many=True, read_only=True)

    class Meta:
        model = DunningPolicy
        fields = ["id", "url", "name", "is_default", "active", "levels", "created_at", "updated_at"]
        read_only_fields = fields


class DunningLevelInputSerializer(StrictJSONTypesMixin, serializers.Serializer):
    name = serializers.CharField(max_length=100)
    days_after_due = serializers.IntegerField(
        min_value=-365, max_value=3650, help_text="Days after the due date (negative: before). Strictly increasing."
    )
    channel = serializers.ChoiceField(choices=DunningLevel.Channel.choices, default=DunningLevel.Channel.EMAIL)
    subject_template = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Fields in braces: " + ", ".join(f"{{{name}}}" for name in sorted(dunning.TEMPLATE_FIELDS)),
    )
    body_template = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    fee = serializers.DecimalField(
        max_digits=8, decimal_places=2, min_value=0, max_value=100000, required=False, allow_null=True
    )
    interest_rate = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, allow_null=True
    )
    task_days = serializers.IntegerField(
        min_value=1, max_value=90, required=False, allow_null=True, help_text="For a task level: days for the call."
    )


class DunningPolicyInputSerializer(StrictJSONTypesMixin, serializers.Serializer):
    name = serializers.CharField(max_length=100)
    is_default = serializers.BooleanField(required=False, default=False)
    active = serializers.BooleanField(required=False, default=True)
    levels = DunningLevelInputSerializer(
        many=True, allow_empty=False, max_length=50, help_text="In order of days after due; none on the same day."
    )


@extend_schema(tags=["dunning"])
@extend_schema_view(
    list=extend_schema(summary="List dunning policies", description="The default first, then by name."),
    retrieve=extend_schema(
        summary="Get a dunning policy with its levels",
        responses={200: DunningPolicySerializer},
        **concurrency_schema(read=True),
    ),
    create=extend_schema(
        summary="Create a dunning policy",
        description="Finance managers. Levels in strictly increasing days after due (overlapping or unordered "
        "levels, and templates naming an unknown field, are a 400).",
        request=DunningPolicyInputSerializer,
        responses={201: DunningPolicySerializer, 400: REFUSED, 403: FORBIDDEN},
    ),
    update=extend_schema(
        summary="Change a dunning policy and its levels",
        description="Finance managers. Levels are matched by position; a level sent already cannot be removed. "
        "Send the `ETag` you read as `If-Match`: 412 when someone changed the policy since.",
        request=DunningPolicyInputSerializer,
        parameters=[IF_MATCH_HEADER, ETAG_HEADER],
        responses={200: DunningPolicySerializer, 400: REFUSED, 403: FORBIDDEN, 404: NOT_FOUND, 412: STALE_RESPONSE},
    ),
)
class DunningPolicyViewSet(ConcurrencyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = DunningPolicy.objects.all()
    serializer_class = DunningPolicySerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["name", "created_at"]
    ordering = ("-id",)
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "put", "head", "options"]

    def get_queryset(self):
        return DunningPolicy.objects.prefetch_related("levels")

    def _save(self, request, policy=None):
        serializer = DunningPolicyInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return dunning.save_policy(
            by=request.user,
            name=data["name"],
            levels=[dict(level) for level in data["levels"]],
            policy=policy,
            is_default=data["is_default"],
            active=data["active"],
            expected_version=self.expected_version() if policy is not None else None,
        )

    def create(self, request):
        policy = self._save(request)
        return Response(self.get_serializer(self.get_queryset().get(pk=policy.pk)).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        policy = self._stale_is_412(self._save, request, self.get_object())
        response = Response(self.get_serializer(self.get_queryset().get(pk=policy.pk)).data)
        response["ETag"] = etag_of(policy)
        return response


# --- runs ----------------------------------------------------------------------------------------


class DunningRunSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:dunning-run-detail")
    started_by = serializers.StringRelatedField(allow_null=True)
    percent_done = serializers.IntegerField(read_only=True, help_text="0–100: notices made and sent of those planned.")
    summary = serializers.JSONField(
        read_only=True, help_text="{sent, failed, skipped: {reason: count}, skipped_at_send}."
    )

    class Meta:
        model = DunningRun
        fields = [
            "id",
            "url",
            "as_of",
            "status",
            "started_by",
            "progress_total",
            "progress_done",
            "percent_done",
            "notices_sent",
            "notices_failed",
            "notices_skipped",
            "summary",
            "totals",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class DunningRunInputSerializer(StrictJSONTypesMixin, serializers.Serializer):
    as_of = serializers.DateField(required=False, allow_null=True, help_text="Today or a past day; left out: today.")


class PlannedLineSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(source="invoice_id")
    number = serializers.CharField()
    due_date = serializers.DateField()
    days_overdue = serializers.IntegerField()
    balance = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    level = serializers.IntegerField(source="level.pk")
    level_name = serializers.CharField(source="level.name")


class SkipSerializer(serializers.Serializer):
    reason = serializers.CharField(
        help_text="deal, service_case, dispute, promise, manual_hold, recent_notice or waiting_for_task."
    )
    text = serializers.CharField()
    invoice = serializers.IntegerField(source="invoice_id", allow_null=True, help_text="null: the whole customer.")
    number = serializers.CharField()


class CustomerPlanSerializer(serializers.Serializer):
    customer = serializers.IntegerField(source="customer_id")
    name = serializers.CharField()
    owner = serializers.IntegerField(source="owner_id", allow_null=True)
    policy = serializers.IntegerField(source="policy_id")
    level = serializers.SerializerMethodField(help_text="The notice's level (the highest of its lines); null: none.")
    channel = serializers.CharField(help_text="email, letter or task; empty when nothing is sent.")
    lines = PlannedLineSerializer(many=True)
    skipped = SkipSerializer(many=True)

    def get_level(self, plan) -> str | None:
        return plan.level.name if plan.level else None


class DunningPlanSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    to_send = serializers.SerializerMethodField(help_text="How many customers get a notice.")
    skipped_by_reason = serializers.SerializerMethodField(help_text="{reason: count}.")
    customers = CustomerPlanSerializer(many=True, help_text="Each customer with something to send or skip.")

    def get_to_send(self, plan) -> int:
        return len(plan.to_send)

    def get_skipped_by_reason(self, plan) -> dict[str, int]:
        return plan.skipped_by_reason()


class RunPermissions(ModelPermissions):
    """Starting and previewing need read access here; the services decide who may (403)."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}


RUNNING = OpenApiResponse(ERROR_SCHEMA, description="A dunning run is in progress: wait for it to finish.")


@extend_schema(tags=["dunning"])
@extend_schema_view(
    list=extend_schema(summary="List dunning runs", description="Newest first, with their progress and summary."),
    retrieve=extend_schema(
        summary="Get a dunning run (poll it for its progress)", responses={200: DunningRunSerializer, 404: NOT_FOUND}
    ),
)
class DunningRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = DunningRun.objects.all()
    serializer_class = DunningRunSerializer
    filterset_class = DunningRunFilterSet
    ordering_fields = ["as_of", "created_at"]
    ordering = ("-id",)
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "head", "options"]

    def get_permissions(self):
        return [IsAuthenticated(), TokenScopePermission(), RunPermissions()]

    def get_queryset(self):
        return DunningRun.objects.select_related("started_by")

    def _as_of(self, request):
        serializer = DunningRunInputSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data.get("as_of")

    @extend_schema(
        summary="Start a dunning run",
        description="Clerks. Records the run and hands its customers to Celery; poll the run for its progress. "
        "A future day is a 400; a second run while one runs a 409.",
        request=DunningRunInputSerializer,
        responses={202: DunningRunSerializer, 400: REFUSED, 403: FORBIDDEN, 409: RUNNING},
    )
    def create(self, request):
        as_of = self._as_of(request)
        run = _conflicts(lambda: dunning.run_dunning(as_of=as_of, by=request.user))
        return Response(self.get_serializer(self.get_queryset().get(pk=run.pk)).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Preview a dunning run",
        description="Who would get what at which level as of the day, and who is skipped and why — what the run "
        "then sends. Nothing is written.",
        request=DunningRunInputSerializer,
        responses={200: DunningPlanSerializer, 400: REFUSED, 403: FORBIDDEN},
    )
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def preview(self, request):
        as_of = self._as_of(request)
        plan = dunning.preview_dunning(as_of=as_of, by=request.user)
        return Response(DunningPlanSerializer(plan).data)


# --- notices -------------------------------------------------------------------------------------


class DunningNoticeLineSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    level_name = serializers.CharField(source="level.name", read_only=True)

    class Meta:
        model = DunningNoticeLine
        fields = ["invoice", "invoice_number", "level", "level_name", "balance", "days_overdue"]
        read_only_fields = fields


class DunningFeeSerializer(serializers.ModelSerializer):
    class Meta:
        model = DunningFee
        fields = ["id", "kind", "amount", "currency", "status"]
        read_only_fields = fields


class DunningNoticeSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:dunning-notice-detail")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    level_name = serializers.CharField(source="level.name", read_only=True, allow_null=True, default=None)
    lines = DunningNoticeLineSerializer(many=True, read_only=True)
    fees = DunningFeeSerializer(many=True, read_only=True)

    class Meta:
        model = DunningNotice
        fields = [
            "id",
            "url",
            "run",
            "customer",
            "customer_name",
            "status",
            "channel",
            "level",
            "level_name",
            "sent_to",
            "subject",
            "body",
            "skip_reason",
            "error",
            "attempts",
            "sent_at",
            "created_at",
            "lines",
            "fees",
        ]
        read_only_fields = fields
        extra_kwargs = {"body": {"help_text": "The text as rendered and sent."}}


@extend_schema(tags=["dunning"])
@extend_schema_view(
    list=extend_schema(summary="List dunning notices", description="Newest first; filter by run, customer, status."),
    retrieve=extend_schema(summary="Get a dunning notice as sent", responses={200: DunningNoticeSerializer}),
)
class DunningNoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = DunningNotice.objects.all()
    serializer_class = DunningNoticeSerializer
    filterset_class = DunningNoticeFilterSet
    ordering_fields = ["created_at", "sent_at"]
    ordering = ("-id",)
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "head", "options"]

    def get_queryset(self):
        return DunningNotice.objects.select_related("customer", "level").prefetch_related(
            "lines__invoice", "lines__level", "fees"
        )


# --- manual holds --------------------------------------------------------------------------------


class DunningHoldSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:dunning-hold-detail")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    invoice_number = serializers.CharField(source="invoice.number", read_only=True, allow_null=True, default=None)
    set_by = serializers.StringRelatedField(allow_null=True)
    released_by = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = DunningHold
        fields = [
            "id",
            "url",
            "customer",
            "customer_name",
            "invoice",
            "invoice_number",
            "reason",
            "until",
            "set_by",
            "set_at",
            "released_at",
            "released_by",
        ]
        read_only_fields = fields


class HoldReasonSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="deal, service_case, dispute, promise or manual_hold.")
    text = serializers.CharField()
    invoice = serializers.IntegerField(allow_null=True, help_text="null: the whole customer is held.")


class HeldCustomerSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    customer_name = serializers.CharField()
    reasons = HoldReasonSerializer(many=True)


class HoldsInForceQuerySerializer(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="Only this customer.")


class DunningHoldCreateSerializer(StrictJSONTypesMixin, serializers.Serializer):
    customer = CustomerIdField()
    invoice = InvoiceIdField(required=False, allow_null=True, help_text="Hold one invoice only; left out: all.")
    reason = serializers.CharField(max_length=200, help_text="Why reminders are held (required).")
    until = serializers.DateField(required=False, allow_null=True, help_text="Inclusive; left out: until released.")


class WritePermissions(ModelPermissions):
    """Operations (`release`, `resolve`, `cancel`, `complete`) need read access here; the
    services decide who may (a 403 with their reason)."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}


class CustomerRecordsMixin:
    """Finance reads every customer's; a rep their own customers' only."""

    customer_path = "customer"
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "head", "options"]

    def get_permissions(self):
        return [IsAuthenticated(), TokenScopePermission(), WritePermissions()]

    def visible(self, queryset):
        user = self.request.user
        if _sees_every_customer(user):
            return queryset
        return queryset.filter(**{f"{self.customer_path}__owner": user})

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _answer(self, record, status_code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=record.pk)).data, status=status_code)

    def _operate(self, record, operation):
        """Run the dunning service `operation` on `record` and answer with the record as it is now."""
        _conflicts(operation)
        return self._answer(record)


@extend_schema(tags=["dunning"])
@extend_schema_view(
    list=extend_schema(summary="List manual dunning holds", description="Newest first; reps see their customers'."),
    retrieve=extend_schema(summary="Get a manual dunning hold", responses={200: DunningHoldSerializer}),
    create=extend_schema(
        summary="Hold reminders to a customer (or one invoice)",
        description="Clerks. A reason is required; `until` is today or later. Takes effect at once.",
        request=DunningHoldCreateSerializer,
        responses={201: DunningHoldSerializer, 400: REFUSED, 403: FORBIDDEN},
    ),
)
class DunningHoldViewSet(
    CustomerRecordsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = DunningHold.objects.all()
    serializer_class = DunningHoldSerializer
    filterset_class = DunningHoldFilterSet
    ordering_fields = ["set_at"]
    ordering = ("-id",)

    def get_queryset(self):
        return self.visible(DunningHold.objects.select_related("customer", "invoice", "set_by", "released_by"))

    def create(self, request):
        data = self._input(DunningHoldCreateSerializer)
        hold = dunning.set_dunning_hold(
            customer=data["customer"],
            by=request.user,
            reason=data["reason"],
            until=data.get("until"),
            invoice=data.get("invoice"),
        )
        return self._answer(hold, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Every hold in force now, of every kind",
        description="Why reminders wait today, read live: late-stage deals, open disputes and serious service "
        "cases, active promises and manual holds, per customer (only customers held). A rep sees their own "
        "customers'; finance every customer's.",
        parameters=[HoldsInForceQuerySerializer],
        responses={200: HeldCustomerSerializer(many=True), 400: REFUSED},
    )
    @action(detail=False, methods=["get"], url_path="in-force", pagination_class=None, filter_backends=[])
    def in_force(self, request):
        query = HoldsInForceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        customers = Customer.objects.visible_to(request.user)
        if not _sees_every_customer(request.user):
            customers = customers.filter(owner=request.user)
        if "customer" in query.validated_data:
            customers = customers.filter(pk=query.validated_data["customer"])
        ids = None if not customers.query.where else list(customers.values_list("pk", flat=True))
        held = dunning.holds_for(ids, timezone.localdate())
        names = dict(Customer.objects.filter(pk__in=list(held)).values_list("pk", "name"))
        rows = []
        for customer_id in sorted(held):
            holds = held[customer_id]
            reasons = [{"kind": kind, "text": text, "invoice": None} for kind, text in holds.customer]
            reasons += [
                {"kind": kind, "text": text, "invoice": invoice_id}
                for invoice_id, pairs in sorted(holds.invoices.items())
                for kind, text in pairs
            ]
            rows.append({"customer": customer_id, "customer_name": names.get(customer_id, ""), "reasons": reasons})
        return Response(HeldCustomerSerializer(rows, many=True).data)

    @_operation_schema(
        DunningHoldSerializer,
        summary="Release the dunning hold",
        description="Reminders resume with the next run. Released already: 409.",
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        hold = self.get_object()
        return self._operate(hold, lambda: dunning.release_dunning_hold(hold=hold, by=request.user))


# --- disputes -------------------------------------------------------------------------------------


class DisputeSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:dispute-detail")
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    customer = serializers.IntegerField(source="invoice.customer_id", read_only=True)
    customer_name = serializers.CharField(source="invoice.customer.name", read_only=True)
    opened_by = serializers.StringRelatedField(allow_null=True)
    resolved_by = serializers.StringRelatedField(allow_null=True)
    credit_note_number = serializers.CharField(
        source="credit_note.number", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Dispute
        fields = [
            "id",
            "url",
            "invoice",
            "invoice_number",
            "customer",
            "customer_name",
            "amount",
            "reason",
            "status",
            "opened_by",
            "opened_at",
            "resolved_by",
            "resolved_at",
            "resolution_note",
            "credit_note",
            "credit_note_number",
        ]
        read_only_fields = fields


class DisputeCreateSerializer(StrictJSONTypesMixin, serializers.Serializer):
    invoice = InvoiceIdField(help_text="An open invoice.")
    amount = serializers.DecimalField(**MONEY, help_text="More than 0; at most the invoice's balance due.")
    reason = serializers.CharField(max_length=300, help_text="What the customer disputes.")


class DisputeResolveSerializer(StrictJSONTypesMixin, serializers.Serializer):
    outcome = serializers.ChoiceField(choices=sorted(dunning.RESOLUTIONS))
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, help_text="Required to reject.")
    credit_note = CreditNoteIdField(
        required=False, allow_null=True, help_text="For credit or partial: a credit note on the disputed invoice."
    )


@extend_schema(tags=["dunning"])
@extend_schema_view(
    list=extend_schema(summary="List disputes", description="Newest first; reps see their customers'."),
    retrieve=extend_schema(summary="Get a dispute", responses={200: DisputeSerializer}),
    create=extend_schema(
        summary="Open a dispute on an invoice",
        description="Reps on their own customers' invoices, and finance. The invoice is not dunned until resolved. "
        "An amount above the balance due is a 400; a second open dispute on the invoice a 409.",
        request=DisputeCreateSerializer,
        responses={201: DisputeSerializer, 400: REFUSED, 403: FORBIDDEN, 409: CONFLICT},
    ),
)
class DisputeViewSet(CustomerRecordsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Dispute.objects.all()
    serializer_class = DisputeSerializer
    filterset_class = DisputeFilterSet
    ordering_fields = ["opened_at", "amount"]
    ordering = ("-id",)
    customer_path = "invoice__customer"

    def get_queryset(self):
        return self.visible(
            Dispute.objects.select_related("invoice__customer", "opened_by", "resolved_by", "credit_note")
        )

    def create(self, request):
        data = self._input(DisputeCreateSerializer)
        dispute = _conflicts(
            lambda: dunning.open_dispute(
                invoice=data["invoice"], by=request.user, amount=data["amount"], reason=data["reason"]
            )
        )
        return self._answer(dispute, status.HTTP_201_CREATED)

    @_operation_schema(
        DisputeSerializer,
        summary="Resolve the dispute",
        description="Finance: `credit` or `partial` with the credit note made on the invoice, or `rejected` with "
        "a note. Dunning of the invoice resumes. Resolved already: 409.",
        request=DisputeResolveSerializer,
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        dispute = self.get_object()
        data = self._input(DisputeResolveSerializer)
        return self._operate(
            dispute,
            lambda: dunning.resolve_dispute(
                dispute=dispute,
                by=request.user,
                outcome=data["outcome"],
                note=data.get("note", ""),
                credit_note=data.get("credit_note"),
            ),
        )


# --- promises -------------------------------------------------------------------------------------


class PaymentPromiseSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:payment-promise-detail")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    invoice_number = serializers.CharField(source="invoice.number", read_only=True, allow_null=True, default=None)
    taken_by = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = PaymentPromise
        fields = [
            "id",
            "url",
            "customer",
            "customer_name",
            "invoice",
            "invoice_number",
            "amount",
            "currency",
            "promised_for",
            "balance_when_taken",
            "status",
            "evaluated_on",
            "taken_by",
            "created_at",
        ]
        read_only_fields = fields


class PaymentPromiseCreateSerializer(StrictJSONTypesMixin, serializers.Serializer):
    customer = CustomerIdField()
    invoice = InvoiceIdField(required=False, allow_null=True, help_text="One invoice; left out: the account.")
    amount = serializers.DecimalField(**MONEY, help_text="More than 0; at most what is owed.")
    promised_for = serializers.DateField(help_text="Today or a later day.")


@extend_schema(tags=["dunning"])
@extend_schema_view(
    list=extend_schema(summary="List promises to pay", description="Newest promised day first; reps see their own."),
    retrieve=extend_schema(summary="Get a promise to pay", responses={200: PaymentPromiseSerializer}),
    create=extend_schema(
        summary="Record a promise to pay",
        description="Clerks. A day in the past, or more than is owed, is a 400. Dunning waits until that day.",
        request=PaymentPromiseCreateSerializer,
        responses={201: PaymentPromiseSerializer, 400: REFUSED, 403: FORBIDDEN},
    ),
)
class PaymentPromiseViewSet(
    CustomerRecordsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = PaymentPromise.objects.all()
    serializer_class = PaymentPromiseSerializer
    filterset_class = PaymentPromiseFilterSet
    ordering_fields = ["promised_for", "created_at"]
    ordering = ("-id",)

    def get_queryset(self):
        return self.visible(PaymentPromise.objects.select_related("customer", "invoice", "taken_by"))

    def create(self, request):
        data = self._input(PaymentPromiseCreateSerializer)
        promise = dunning.take_promise(
            customer=data["customer"],
            by=request.user,
            amount=data["amount"],
            promised_for=data["promised_for"],
            invoice=data.get("invoice"),
        )
        return self._answer(promise, status.HTTP_201_CREATED)

    @_operation_schema(
        PaymentPromiseSerializer,
        summary="Cancel the promise",
        description="An active promise taken in error: dunning resumes. Not active: 409.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        promise = self.get_object()
        return self._operate(promise, lambda: dunning.cancel_promise(promise=promise, by=request.user))


# --- the owners' collection calls ------------------------------------------------------------------


class CollectionTaskSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:collection-task-detail")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner = serializers.StringRelatedField(allow_null=True)
    done_by = serializers.StringRelatedField(allow_null=True)
    outcome = serializers.ChoiceField(
        choices=CollectionTask.Outcome.choices, allow_blank=True, read_only=True, help_text="Empty while open."
    )

    class Meta:
        model = CollectionTask
        fields = [
            "id",
            "url",
            "customer",
            "customer_name",
            "owner",
            "notice",
            "due",
            "status",
            "outcome",
            "note",
            "done_at",
            "done_by",
            "created_at",
        ]
        read_only_fields = fields


class CollectionTaskCompleteSerializer(StrictJSONTypesMixin, serializers.Serializer):
    outcome = serializers.ChoiceField(choices=CollectionTask.Outcome.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class CollectionCallLogSerializer(StrictJSONTypesMixin, serializers.Serializer):
    customer = CustomerIdField(help_text="The customer called.")
    outcome = serializers.ChoiceField(choices=CollectionTask.Outcome.choices)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


@extend_schema(tags=["dunning"])
@extend_schema_view(
    list=extend_schema(
        summary="List collection calls",
        description="Soonest due first; `mine=true`: the calls asked of me. Reps see their customers' and their own. "
        "A call logged without a dunning task has `notice` null and is done.",
    ),
    retrieve=extend_schema(summary="Get a collection call", responses={200: CollectionTaskSerializer}),
)
class CollectionTaskViewSet(
    CustomerRecordsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = CollectionTask.objects.all()
    serializer_class = CollectionTaskSerializer
    filterset_class = CollectionTaskFilterSet
    ordering_fields = ["due", "created_at"]
    ordering = ("-id",)

    def get_queryset(self):
        tasks = CollectionTask.objects.select_related("customer", "owner", "done_by")
        user = self.request.user
        if _sees_every_customer(user):
            return tasks
        return tasks.filter(Q(customer__owner=user) | Q(owner=user))

    @_operation_schema(
        CollectionTaskSerializer,
        summary="Log the call",
        description="The owner (or a clerk): called, promised or disputed, with a note. Logged already: 409.",
        request=CollectionTaskCompleteSerializer,
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self.get_object()
        data = self._input(CollectionTaskCompleteSerializer)
        return self._operate(
            task,
            lambda: dunning.complete_task(
                task=task, by=request.user, outcome=data["outcome"], note=data.get("note", "")
            ),
        )

    @extend_schema(
        summary="Log a call with a customer",
        description="Clerks, or the customer's account owner: called, promised or disputed, with a note, whether "
        "or not dunning asked for a call. An open call dunning asked of you for this customer is the one logged "
        "(200); otherwise a done call without a notice is recorded (201). It shows as the customer's last contact "
        "and on its feed; no dunning level ever waits for it.",
        request=CollectionCallLogSerializer,
        responses={200: CollectionTaskSerializer, 201: CollectionTaskSerializer, 400: REFUSED, 403: FORBIDDEN},
    )
    @action(detail=False, methods=["post"], url_path="log-call", pagination_class=None, filter_backends=[])
    def log_call(self, request):
        data = self._input(CollectionCallLogSerializer)
        call = dunning.log_call(
            customer=data["customer"], by=request.user, outcome=data["outcome"], note=data.get("note", "")
        )
        return self._answer(call, status.HTTP_201_CREATED if call.notice_id is None else status.HTTP_200_OK)
