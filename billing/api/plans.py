"""REST API v1 for recurring billing: billing plans (`/billing-plans/`) and billing
runs (`/billing-runs/`).

Every change goes through billing.plans. Plans: everyone reads them, finance managers
create and change them (stop one with `is_active: false`); never deleted, stopped.
`ETag` / `If-Match` guard against overwriting someone else's change (412). Runs:
everyone reads them with their progress and summary; finance starts one with
`POST {"as_of": "2026-03-31"}` (202: it runs in the background; poll the run), and a
second while one is under way is refused with 409.
"""

from django.db import transaction
from django.db.models import Sum
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api.concurrency import ConcurrencyMixin, concurrency_schema, etag_of
from core.api.errors import ERROR_SCHEMA, error_body
from core.api.filters import DjangoFilterBackend, OrderingFilter
from core.api.json_types import StrictJSONTypesMixin
from core.api.serializers import IdentityUrlField
from crm.api.customers import VisibleCustomerField
from crm.api.opportunities import LineInputSerializer, OpportunityLineSerializer

from .. import plans
from ..models import BillingPlan, BillingPlanLine, BillingRun
from ..permissions import can_manage_plans
from ..plan_filters import BillingPlanFilterSet, BillingRunFilterSet


class BillingPlanLineSerializer(LineInputSerializer, serializers.ModelSerializer):
    """A line billed every period. Give a product (its name, list price and tax rate
    fill in what is left out) or a description and a unit price."""

    description = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        help_text="Left out: the product's name. Each invoice line adds its period (“… — March 2026”).",
    )

    class Meta(OpportunityLineSerializer.Meta):  # the fields of a deal line: build_line makes both
        model = BillingPlanLine


class BillingPlanSerializer(StrictJSONTypesMixin, serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:billing-plan-detail")
    customer = VisibleCustomerField(help_text="Id of the customer billed; a plan cannot move to another customer.")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    start_date = serializers.DateField(
        help_text="The day the first period starts; later periods start on the same day of the month "
        "(or the month's last day). Changes only while nothing was invoiced."
    )
    end_date = serializers.DateField(
        required=False, allow_null=True, help_text="No period starts after this day; null: until stopped."
    )
    next_invoice_date = serializers.DateField(
        read_only=True, help_text="The start of the first period not invoiced yet."
    )
    is_active = serializers.BooleanField(
        required=False, help_text="False: stopped, no more invoices until set true again."
    )
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, help_text="Net amount per period: the lines' sum."
    )
    lines = BillingPlanLineSerializer(
        many=True,
        required=False,
        help_text="The lines billed every period; needed to create a plan. "
        "Writing them replaces them all (all valid or none saved).",
    )

    class Meta:
        model = BillingPlan
        fields = [
            "id",
            "url",
            "customer",
            "customer_name",
            "name",
            "interval",
            "start_date",
            "end_date",
            "next_invoice_date",
            "auto_issue",
            "auto_send",
            "is_active",
            "currency",
            "amount",
            "lines",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["currency", "version", "created_by", "created_at", "updated_at"]


class BillingRunFailureSerializer(serializers.Serializer):
    """A period that could not be billed (or sent), and why."""

    plan = serializers.IntegerField(allow_null=True, help_text="Id of the plan; null for a failure of the run.")
    plan_name = serializers.CharField(allow_blank=True)
    customer = serializers.IntegerField(allow_null=True)
    customer_name = serializers.CharField(allow_blank=True)
    period = serializers.DateField(allow_null=True, help_text="Start of the period.")
    invoice = serializers.IntegerField(allow_null=True, help_text="Id of the invoice, when it was made but not sent.")
    invoice_number = serializers.CharField(allow_blank=True)
    message = serializers.CharField()

    EMPTY = {
        "plan": None,
        "plan_name": "",
        "customer": None,
        "customer_name": "",
        "period": None,
        "invoice": None,
        "invoice_number": "",
        "message": "",
    }

    def to_representation(self, instance):
        return super().to_representation({**self.EMPTY, **instance})


class BillingRunSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:billing-run-detail")
    percent_done = serializers.IntegerField(read_only=True, help_text="Plans done of plans due, 0 to 100.")
    failures = BillingRunFailureSerializer(many=True, read_only=True)
    started_by_name = serializers.SerializerMethodField(help_text="Who started it; empty for the daily run.")

    class Meta:
        model = BillingRun
        fields = [
            "id",
            "url",
            "as_of",
            "status",
            "plans_total",
            "plans_done",
            "percent_done",
            "invoices_created",
            "invoices_issued",
            "invoices_sent",
            "failures",
            "started_by",
            "started_by_name",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_started_by_name(self, run) -> str:
        return str(run.started_by) if run.started_by_id else ""


class BillingRunStartSerializer(StrictJSONTypesMixin, serializers.Serializer):
    as_of = serializers.DateField(
        required=False,
        help_text="Bill every period begun by this day (today or a day past); left out: today.",
    )


@extend_schema(tags=["billing plans"])
@extend_schema_view(
    list=extend_schema(
        summary="List billing plans",
        description="Newest changes first unless `ordering` says otherwise. `amount` is the net amount per period.",
    ),
    retrieve=extend_schema(summary="Get a billing plan with its lines", **concurrency_schema(read=True)),
    create=extend_schema(
        summary="Create a billing plan (finance managers)",
        description="In the customer's currency; its first invoice bills the period from `start_date`. "
        "`lines` are needed.",
    ),
    partial_update=extend_schema(
        summary="Change a billing plan; `lines` replaces its lines; `is_active: false` stops it",
        **concurrency_schema(write=BillingPlanSerializer),
    ),
)
class BillingPlanViewSet(
    ConcurrencyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Billing plans: a customer billed the same lines every month, quarter or year.
    Everyone reads them; finance managers keep them. Never deleted: stop a plan."""

    queryset = BillingPlan.objects.all()  # names the model; get_queryset() adds what is read
    serializer_class = BillingPlanSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = BillingPlanFilterSet
    ordering_fields = ["name", "next_invoice_date", "start_date", "created_at", "updated_at"]
    ordering = ("-updated_at", "-id")
    http_method_names = ["get", "post", "patch", "head", "options"]
    object_permission_messages = {"PATCH": "Only finance managers keep billing plans."}

    def get_queryset(self):
        return (
            BillingPlan.objects.select_related("customer")
            .annotate(amount=Sum("lines__amount"))
            .prefetch_related("lines")
        )

    def may_change(self, user, plan):
        return can_manage_plans(user)

    def _read_back(self, plan) -> BillingPlan:
        return self.written(self.get_queryset().get(pk=plan.pk))

    @staticmethod
    def _lines(lines):
        return [dict(line) for line in lines] if lines is not None else None

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        customer = data.pop("customer")
        lines = self._lines(data.pop("lines", None)) or []
        plan = plans.create_plan(by=self.request.user, customer=customer, data=data, lines=lines)
        serializer.instance = self._read_back(plan)

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response["ETag"] = etag_of(self._etag_record)
        return response

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        plan = serializer.instance
        if "customer" in data and data.pop("customer").pk != plan.customer_id:
            raise exceptions.ValidationError({"customer": ["A plan cannot move to another customer."]})
        lines = self._lines(data.pop("lines", None))
        with transaction.atomic():
            plan = plans.update_plan(
                plan=plan, by=self.request.user, data=data, lines=lines, expected_version=self.expected_version()
            )
        serializer.instance = self._read_back(plan)


RUN_CONFLICT = OpenApiResponse(
    ERROR_SCHEMA, description="A run is under way; `error.run` is its id: poll it, then start again."
)


@extend_schema(tags=["billing runs"])
@extend_schema_view(
    list=extend_schema(summary="List billing runs", description="Newest first."),
    retrieve=extend_schema(
        summary="Get a billing run: its progress while it runs, its summary when done",
        description="`status` goes pending → running → done (or failed). Poll it while it runs.",
    ),
)
class BillingRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Billing runs: every period of every active plan begun by `as_of`, invoiced once
    (and issued and sent as each plan says). The daily schedule starts one every
    morning; finance may start one at any time."""

    queryset = BillingRun.objects.all()
    serializer_class = BillingRunSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = BillingRunFilterSet
    ordering_fields = ["as_of", "started_at"]
    ordering = ("-started_at", "-id")
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return BillingRun.objects.select_related("started_by")

    @extend_schema(
        summary="Start a billing run (finance)",
        description="Answers 202 with the new run (pending) at once; a worker runs it. Poll "
        "`GET /billing-runs/{id}/` for its progress and summary. A second run while one is under way is "
        "refused with 409.",
        request=BillingRunStartSerializer,
        responses={
            202: BillingRunSerializer,
            400: OpenApiResponse(ERROR_SCHEMA, description="`as_of` is a day to come, or not a date."),
            409: RUN_CONFLICT,
        },
    )
    def create(self, request, *args, **kwargs):
        serializer = BillingRunStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            run = plans.start_billing_run(by=request.user, as_of=serializer.validated_data.get("as_of"))
        except plans.BillingRunConflict as conflict:
            body = error_body("run_in_progress", " ".join(conflict.messages))
            body["error"]["run"] = conflict.run.pk
            return Response(body, status=status.HTTP_409_CONFLICT)
        run = self.get_queryset().get(pk=run.pk)
        data = BillingRunSerializer(run, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})
