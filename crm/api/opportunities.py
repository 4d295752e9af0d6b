"""REST API v1 for deals (`/opportunities/`).

Thin, as the customers' API: serializers check the shape of the input and every
change goes through crm.opportunities, which decides who may change what and
refuses bad lines, winning without lines and losing without a reason
(ValidationError → 400, PermissionDenied → 403). A deal moves between stages only
through its actions (`move`, `win`, `lose`); moving a won deal is a state conflict
(409). Lists share the pages' OpportunityFilterSet. `ETag` / `If-Match` guard
against overwriting someone else's change (412). Deals are never deleted: they are
lost.
"""

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.concurrency import ConcurrencyMixin, PreconditionFailed, concurrency_schema, etag_of
from core.api.errors import ERROR_SCHEMA
from core.api.filters import DjangoFilterBackend, OrderingFilter
from core.api.json_types import StrictJSONTypesMixin
from core.api.serializers import IdentityUrlField
from core.concurrency import StaleVersion

from .. import opportunities as deals
from ..filters import OpportunityFilterSet
from ..models import Opportunity, OpportunityLine, Product, Stage, TaxRate, possible_owners
from ..permissions import can_edit_opportunity
from .customers import VisibleCustomerField


class StateConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = deals.WON_IS_CLOSED
    default_code = "conflict"


class LineInputSerializer(StrictJSONTypesMixin, serializers.Serializer):
    """A priced line as crm.opportunities.build_line reads it, the same for a deal, an
    invoice and a billing plan: the fields each line serializer takes."""

    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(), allow_null=True, required=False, help_text="Id of a product, or null."
    )
    tax_rate = serializers.PrimaryKeyRelatedField(
        queryset=TaxRate.objects.all(),
        allow_null=True,
        required=False,
        help_text="Id of the tax rate; left out, the product's; null for none.",
    )
    description = serializers.CharField(
        max_length=300, required=False, allow_blank=True, help_text="Left out: the product's name."
    )
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, help_text="More than 0.")
    unit_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, help_text="Left out: the product's list price."
    )
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, help_text="0 to 100; left out: 0."
    )


class OpportunityLineSerializer(LineInputSerializer, serializers.ModelSerializer):
    """A deal line. Give a product (its name, list price and tax rate fill in what is
    left out) or a description and a unit price."""

    class Meta:
        model = OpportunityLine
        fields = [
            "id",
            "position",
            "product",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "tax_rate",
            "amount",
        ]
        read_only_fields = ["id", "position", "amount"]


class OwnerField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": "The owner must be an active sales rep or sales manager.",
    }

    def get_queryset(self):
        return possible_owners()


class OpportunitySerializer(StrictJSONTypesMixin, serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:opportunity-detail")
    customer = VisibleCustomerField(help_text="Id of the customer; a deal cannot move to another customer.")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner = OwnerField(
        required=False, help_text="Id of the sales rep who owns the deal; defaults to you. Only managers change it."
    )
    owner_name = serializers.SerializerMethodField(help_text="The owner's full name (or username).")
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.all(),
        required=False,
        help_text="Id of the stage. On create an open stage (default: the first); afterwards read-only: "
        "use the `move`, `win` and `lose` actions.",
    )
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    probability = serializers.IntegerField(source="stage.probability", read_only=True)
    terms_label = serializers.CharField(read_only=True, help_text="The payment terms as people say them.")
    terms_differ_from_customer = serializers.BooleanField(
        read_only=True, help_text="True when the deal's terms are not the customer's."
    )

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "url",
            "customer",
            "customer_name",
            "name",
            "owner",
            "owner_name",
            "stage",
            "stage_name",
            "probability",
            "expected_close_date",
            "currency",
            "amount",
            "payment_terms",
            "payment_days",
            "terms_label",
            "terms_differ_from_customer",
            "next_step",
            "lost_reason",
            "closed_on",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["currency", "amount", "lost_reason", "closed_on", "version", "created_at", "updated_at"]
        extra_kwargs = {"payment_days": {"max_value": 32767}, "payment_terms": {"required": False}}

    def get_owner_name(self, opportunity) -> str:
        return str(opportunity.owner)


class OpportunityDetailSerializer(OpportunitySerializer):
    """A deal with its lines. Writing `lines` replaces them all (all valid or none saved)."""

    lines = OpportunityLineSerializer(many=True, required=False, help_text="The deal's lines, in order.")

    class Meta(OpportunitySerializer.Meta):
        fields = [*OpportunitySerializer.Meta.fields, "lines"]


class MoveSerializer(StrictJSONTypesMixin, serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.all(), help_text="Id of the stage.")
    lost_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Why the deal was lost; needed for the Lost stage."
    )


class LoseSerializer(StrictJSONTypesMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="Why the deal was lost.")


ACTION_RESPONSES = {
    200: OpportunityDetailSerializer,
    400: OpenApiResponse(
        response=ERROR_SCHEMA, description="Refused: e.g. winning without lines, losing without a reason."
    ),
    403: OpenApiResponse(response=ERROR_SCHEMA, description="You may not change this deal."),
    409: OpenApiResponse(response=ERROR_SCHEMA, description="The deal is won and closed."),
    412: OpenApiResponse(response=ERROR_SCHEMA, description="`If-Match` is stale."),
}
IF_MATCH = concurrency_schema(write=OpportunityDetailSerializer)["parameters"]


def _line_data(lines) -> list[dict]:
    return [dict(line) for line in lines]


@extend_schema(tags=["opportunities"])
@extend_schema_view(
    list=extend_schema(
        summary="List deals",
        description="Newest changes first unless `ordering` says otherwise. Filters as on the pipeline board.",
    ),
    retrieve=extend_schema(summary="Get a deal with its lines", **concurrency_schema(read=True)),
    create=extend_schema(
        summary="Create a deal, optionally with its lines",
        description="The currency and, unless given, the payment terms are the customer's.",
    ),
    partial_update=extend_schema(
        summary="Change a deal's fields; `lines` replaces its lines",
        description="The stage moves only through the `move`, `win` and `lose` actions.",
        **concurrency_schema(write=OpportunityDetailSerializer),
    ),
)
class OpportunityViewSet(
    ConcurrencyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Deals: reps change their own, sales managers all (and reassign owners);
    everyone else reads them. Never deleted: lose a deal instead."""

    queryset = Opportunity.objects.all()  # names the model; get_queryset() narrows it per user
    serializer_class = OpportunitySerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = OpportunityFilterSet
    ordering_fields = ["name", "expected_close_date", "amount", "created_at", "updated_at"]
    ordering = ("-updated_at", "-id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    object_permission_messages = {method: "You may not change this deal." for method in ("PATCH", "POST")}

    def get_queryset(self):
        opportunities = Opportunity.objects.visible_to(self.request.user).select_related("customer", "owner", "stage")
        if self.action != "list":
            opportunities = opportunities.prefetch_related("lines")
        return opportunities

    def get_serializer_class(self):
        if self.action == "list":
            return OpportunitySerializer
        if self.action == "move":
            return MoveSerializer
        if self.action == "lose":
            return LoseSerializer
        return OpportunityDetailSerializer

    def may_change(self, user, opportunity):
        return can_edit_opportunity(user, opportunity)

    def _read_back(self, opportunity) -> Opportunity:
        return self.written(self.get_queryset().get(pk=opportunity.pk))

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        customer = data.pop("customer")
        lines = data.pop("lines", None)
        opportunity = deals.create_opportunity(
            by=self.request.user, customer=customer, data=data, lines=_line_data(lines) if lines else None
        )
        serializer.instance = self._read_back(opportunity)

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        response["ETag"] = etag_of(self._etag_record)
        return response

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        opportunity = serializer.instance
        if "stage" in data and data["stage"].pk != opportunity.stage_id:
            raise exceptions.ValidationError(
                {"stage": ["Move a deal with POST /opportunities/{id}/move/ (or win/lose)."]}
            )
        data.pop("stage", None)
        if "customer" in data and data.pop("customer").pk != opportunity.customer_id:
            raise exceptions.ValidationError({"customer": ["A deal cannot move to another customer."]})
        lines = data.pop("lines", None)
        version = self.expected_version()
        with transaction.atomic():  # the fields and the lines together, or neither
            if data:
                opportunity = deals.update_opportunity(
                    opportunity=opportunity, by=self.request.user, data=data, expected_version=version
                )
                version = opportunity.version
            if lines is not None:
                opportunity = deals.set_lines(
                    opportunity=opportunity, by=self.request.user, lines=_line_data(lines), expected_version=version
                )
        serializer.instance = self._read_back(opportunity)

    # --- actions: the stage ---------------------------------------------------------

    def _move(self, request, **arguments):
        opportunity = self.get_object()
        target = arguments.get("stage")
        if opportunity.stage.is_won and getattr(target, "pk", None) != opportunity.stage_id:
            raise StateConflict()
        try:
            opportunity = deals.move_stage(
                opportunity=opportunity, by=request.user, expected_version=self.expected_version(), **arguments
            )
        except StaleVersion as error:
            raise PreconditionFailed() from error
        record = self._read_back(opportunity)
        response = Response(OpportunityDetailSerializer(record, context=self.get_serializer_context()).data)
        response["ETag"] = etag_of(record)
        return response

    @extend_schema(
        summary="Move a deal to a stage",
        description="The board's drag and drop. Winning needs at least one line; the Lost stage needs `lost_reason`.",
        request=MoveSerializer,
        responses=ACTION_RESPONSES,
        parameters=IF_MATCH,
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        serializer = MoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._move(
            request,
            stage=serializer.validated_data["stage"],
            lost_reason=serializer.validated_data.get("lost_reason", ""),
        )

    @extend_schema(
        summary="Win a deal",
        description="Needs at least one line; billing then invoices it as won.",
        request=None,
        responses=ACTION_RESPONSES,
        parameters=IF_MATCH,
    )
    @action(detail=True, methods=["post"])
    def win(self, request, pk=None):
        return self._move(request, stage=deals.won_stage())

    @extend_schema(
        summary="Lose a deal",
        description="Say why in `reason`. A lost deal may be reopened by moving it to an open stage.",
        request=LoseSerializer,
        responses=ACTION_RESPONSES,
        parameters=IF_MATCH,
    )
    @action(detail=True, methods=["post"])
    def lose(self, request, pk=None):
        serializer = LoseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._move(request, stage=deals.lost_stage(), lost_reason=serializer.validated_data["reason"])
