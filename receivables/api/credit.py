"""REST API v1 for credit control: a customer's credit status
(`GET /customers/{id}/credit/`, routed here so that crm never imports receivables) and
manual credit holds (`/credit-holds/`: list, read, set, `POST /{id}/release/`).

The same services as the pages (receivables.credit): who may not gets a 403 with the
reason, bad input a 400, a second manual hold or a release of a released hold a 409.
"""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import TokenScopePermission
from core.api.errors import ERROR_SCHEMA, call_service
from core.api.json_types import StrictJSONTypesMixin
from core.api.permissions import ModelPermissions
from crm.api.customers import VisibleCustomerField
from crm.models import Customer

from .. import credit
from ..models import CreditHold
from ..permissions import can_view_standing

CONFLICT = OpenApiResponse(ERROR_SCHEMA, description="A manual hold is set already, or this one was released.")
FORBIDDEN = OpenApiResponse(ERROR_SCHEMA, description="You may not do this (only finance managers set holds).")
REFUSED = OpenApiResponse(ERROR_SCHEMA, description="Refused: see `error.message` and `error.fields`.")
NOT_FOUND = OpenApiResponse(ERROR_SCHEMA, description="No such customer, or not one whose standing you may see.")


def _id_or_none(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def _conflicts(operation):
    return call_service(operation, conflict=credit.CreditError)


# --- credit status ----------------------------------------------------------------------------


class ManualHoldSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    reason = serializers.CharField()
    until = serializers.DateField(allow_null=True, help_text="Inclusive; null: until released.")
    set_at = serializers.DateTimeField()
    set_by = serializers.CharField()


class CreditStatusSerializer(serializers.Serializer):
    """Amounts in the customer's currency; exposure = open_ar + won_not_invoiced − unapplied."""

    customer = serializers.IntegerField()
    currency = serializers.CharField()
    exposure = serializers.DecimalField(max_digits=16, decimal_places=2)
    limit = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True, help_text="null: no limit.")
    left = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text="limit − exposure (negative: over); null: no limit."
    )
    on_hold = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why it is on hold (empty: it is not).")
    open_ar = serializers.DecimalField(max_digits=16, decimal_places=2)
    overdue = serializers.DecimalField(max_digits=16, decimal_places=2)
    overdue_long = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="Overdue by more than the hold's number of days."
    )
    won_not_invoiced = serializers.DecimalField(max_digits=16, decimal_places=2)
    unapplied = serializers.DecimalField(max_digits=16, decimal_places=2)
    manual_hold = ManualHoldSerializer(allow_null=True)
    avg_days_late = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    dso = serializers.DecimalField(max_digits=7, decimal_places=1, allow_null=True)
    verdict = serializers.CharField(help_text="In plain words: how it pays, what is overdue, what credit is left.")


def credit_status_data(customer: Customer, figures: credit.ReceivablesFigures) -> dict:
    status_ = figures.credit
    return {
        "customer": customer.pk,
        "currency": status_.currency,
        "exposure": status_.exposure,
        "limit": status_.limit,
        "left": status_.left,
        "on_hold": status_.on_hold,
        "reasons": list(status_.reasons),
        "open_ar": status_.open_ar,
        "overdue": status_.overdue,
        "overdue_long": status_.overdue_long,
        "won_not_invoiced": status_.won_not_invoiced,
        "unapplied": status_.unapplied,
        "manual_hold": status_.manual_hold,
        "avg_days_late": figures.avg_days_late,
        "dso": figures.dso,
        "verdict": figures.verdict,
    }


@extend_schema(tags=["credit"])
class CustomerCreditViewSet(viewsets.GenericViewSet):
    """`GET /customers/{id}/credit/`: registered on the "customers" prefix with only this
    action, so that crm never imports receivables."""

    queryset = Customer.objects.all()
    serializer_class = CreditStatusSerializer
    permission_classes = [IsAuthenticated, TokenScopePermission]
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="A customer's credit status",
        description="Exposure, limit, credit left and whether the customer is on credit hold (and why), "
        "computed now. Sales reps read their own customers'; a customer whose standing you may not see is a 404.",
        responses={200: CreditStatusSerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path="credit")
    def credit(self, request, pk=None):
        customer = Customer.objects.visible_to(request.user).filter(pk=_id_or_none(pk)).first()
        if customer is None or not can_view_standing(request.user, customer):
            raise exceptions.NotFound()
        data = credit_status_data(customer, credit.receivables_figures(customer))
        return Response(CreditStatusSerializer(data).data)


# --- manual holds -------------------------------------------------------------------------------


class CreditHoldSerializer(serializers.ModelSerializer):
    set_by = serializers.StringRelatedField(allow_null=True)
    released_by = serializers.StringRelatedField(allow_null=True)
    is_active = serializers.SerializerMethodField(help_text="Not released, and `until` not passed.")

    class Meta:
        model = CreditHold
        fields = ["id", "customer", "reason", "until", "set_by", "set_at", "released_at", "released_by", "is_active"]
        read_only_fields = fields

    def get_is_active(self, hold) -> bool:
        return hold.released_at is None and (hold.until is None or hold.until >= self.context["today"])


@extend_schema_field(OpenApiTypes.INT)
class CustomerIdField(VisibleCustomerField):
    """A customer by id (the schema says integer: this serializer has no model to read it from)."""


class CreditHoldCreateSerializer(StrictJSONTypesMixin, serializers.Serializer):
    customer = CustomerIdField()
    reason = serializers.CharField(max_length=200)
    until = serializers.DateField(
        required=False, allow_null=True, help_text="Inclusive; leave out to hold until released."
    )


class CreditHoldPermissions(ModelPermissions):
    """Releasing needs read access here; the service decides who may (a 403 with its reason)."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}


@extend_schema(tags=["credit"])
@extend_schema_view(
    list=extend_schema(summary="List manual credit holds", description="Newest first; reps see their customers'."),
    retrieve=extend_schema(summary="Get a manual credit hold"),
    create=extend_schema(
        summary="Put a customer on manual credit hold",
        description="Finance managers only. One manual hold per customer at a time (else 409).",
        request=CreditHoldCreateSerializer,
        responses={201: CreditHoldSerializer, 400: REFUSED, 403: FORBIDDEN, 409: CONFLICT},
    ),
)
class CreditHoldViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = CreditHold.objects.all()  # names the model; get_queryset() narrows it per user
    serializer_class = CreditHoldSerializer
    ordering_fields = ["set_at"]
    ordering = ("-id",)
    filterset_fields = ["customer"]
    http_method_names = ["get", "post", "head", "options"]

    def get_permissions(self):
        return [IsAuthenticated(), TokenScopePermission(), CreditHoldPermissions()]

    def get_queryset(self):
        user = self.request.user
        holds = CreditHold.objects.select_related("set_by", "released_by")
        if user.has_perm("receivables.view_payment"):
            return holds
        return holds.filter(customer__owner=user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def create(self, request):
        if not request.user.has_perm("receivables.add_credithold"):
            raise exceptions.PermissionDenied("Only finance managers set credit holds.")
        serializer = CreditHoldCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        hold = _conflicts(
            lambda: credit.set_hold(
                customer=data["customer"], by=request.user, reason=data["reason"], until=data.get("until")
            )
        )
        hold = self.get_queryset().get(pk=hold.pk)
        return Response(self.get_serializer(hold).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Release the manual credit hold",
        request=None,
        responses={200: CreditHoldSerializer, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        hold = self.get_object()
        _conflicts(lambda: credit.release_hold(hold=hold, by=request.user))
        return Response(self.get_serializer(self.get_queryset().get(pk=hold.pk)).data)
