"""REST API v1 for leads: list, read, create, change (no delete: disqualify instead),
the customers a lead may already be (`matches`), and `convert`.

Every change goes through crm.leads; ValidationError is a 400, PermissionDenied a 403,
converting a lead twice a 409. Lists share the page's LeadFilterSet.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.concurrency import (
    IF_MATCH_HEADER,
    STALE_RESPONSE,
    ConcurrencyMixin,
    concurrency_schema,
    etag_of,
)
from core.api.errors import call_service
from core.api.filters import DjangoFilterBackend, OrderingFilter
from core.api.json_types import StrictJSONTypesMixin
from core.api.serializers import FastRepresentationMixin, IdentityUrlField

from .. import leads
from ..filters import LeadFilterSet
from ..models import Lead, PaymentTerms, possible_owners
from ..permissions import can_edit_lead
from .customers import CountryCodeField, VisibleCustomerField

User = get_user_model()


class LeadOwnerField(serializers.PrimaryKeyRelatedField):
    """The owner by id: an active sales rep or manager (or the lead's current owner)."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": leads.OWNER_NOT_IN_SALES,
    }

    def get_queryset(self):
        instance = getattr(self.parent, "instance", None)
        owners = possible_owners()
        if isinstance(instance, Lead):
            return User.objects.filter(Q(pk__in=owners.values("pk")) | Q(pk=instance.owner_id))
        return owners


class LeadSerializer(StrictJSONTypesMixin, FastRepresentationMixin, serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:lead-detail")
    owner = LeadOwnerField(
        required=False,
        help_text="Id of the sales rep who owns the lead. Defaults to whoever creates it when they sell; "
        "only sales managers name or change another.",
    )
    owner_name = serializers.CharField(source="owner.__str__", read_only=True)
    is_converted = serializers.BooleanField(read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "url",
            "name",
            "company",
            "email",
            "phone",
            "tax_id",
            "source",
            "status",
            "disqualified_reason",
            "owner",
            "owner_name",
            "notes",
            "is_converted",
            "customer",
            "contact",
            "opportunity",
            "converted_at",
            "converted_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "customer",
            "contact",
            "opportunity",
            "converted_at",
            "converted_by",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "disqualified_reason": {"help_text": "Why the lead is disqualified; required with that status."},
            "status": {"help_text": "Converting sets it to qualified; a disqualified lead needs a reason."},
        }
        # The model's constraints are checked by crm.leads, which names the field.
        validators = []


class MatchSerializer(serializers.Serializer):
    customer = serializers.IntegerField(source="customer.pk", help_text="Id of the existing customer.")
    customer_name = serializers.CharField(source="customer.name")
    tax_id = serializers.CharField(source="customer.tax_id")
    owner_name = serializers.CharField(source="customer.owner.__str__")
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=list(leads.REASON_LABELS)),
        help_text="Why it matched, strongest first: tax_id, email_domain, name.",
    )
    details = serializers.DictField(child=serializers.CharField(), help_text="What matched, per reason.")


class ConvertCustomerDataSerializer(StrictJSONTypesMixin, serializers.Serializer):
    """A new customer, as crm.services.create_customer takes it (billing details optional)."""

    name = serializers.CharField(max_length=200)
    legal_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    tax_id = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = CountryCodeField(required=False, allow_blank=True)
    currency = serializers.CharField(max_length=3, required=False)
    payment_terms = serializers.ChoiceField(choices=PaymentTerms.choices, required=False)
    payment_days = serializers.IntegerField(min_value=0, max_value=32767, required=False)


class ConvertOpportunitySerializer(StrictJSONTypesMixin, serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, help_text="Defaults to the lead's company.")
    expected_close_date = serializers.DateField()


@extend_schema_field(OpenApiTypes.INT)
class ExistingCustomerField(VisibleCustomerField):
    """A customer by id (the schema says integer: this serializer has no model to read it from)."""


class LeadConvertSerializer(StrictJSONTypesMixin, serializers.Serializer):
    customer = ExistingCustomerField(
        required=False, allow_null=True, help_text="Id of an existing customer (e.g. one of `matches`)."
    )
    customer_data = ConvertCustomerDataSerializer(required=False, help_text="A new customer, instead of `customer`.")
    create_opportunity = serializers.BooleanField(default=False)
    opportunity = ConvertOpportunitySerializer(required=False, help_text="The deal, with `create_opportunity`.")

    def validate(self, attrs):
        if (attrs.get("customer") is None) == ("customer_data" not in attrs):
            raise serializers.ValidationError(
                {"customer": ["Send either `customer` (an existing customer) or `customer_data` (a new one)."]}
            )
        if attrs.get("create_opportunity") and "opportunity" not in attrs:
            raise serializers.ValidationError({"opportunity": ["Send the deal's expected_close_date (and name)."]})
        return attrs


@extend_schema(tags=["leads"])
@extend_schema_view(
    list=extend_schema(summary="List leads", description="Newest first unless `ordering` says otherwise."),
    retrieve=extend_schema(summary="Get a lead", **concurrency_schema(read=True)),
    create=extend_schema(summary="Create a lead"),
    update=extend_schema(summary="Replace a lead's fields", **concurrency_schema(write=LeadSerializer)),
    partial_update=extend_schema(
        summary="Change some of a lead's fields (status, owner…)", **concurrency_schema(write=LeadSerializer)
    ),
)
class LeadViewSet(
    ConcurrencyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Leads: reps manage their own, sales managers all; everyone reads them. A
    converted lead is read-only (400 on change)."""

    # No delete (ConcurrencyMixin has a destroy; the route must not offer it).
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    queryset = Lead.objects.all()  # names the model; get_queryset() narrows it per user
    serializer_class = LeadSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = LeadFilterSet
    ordering_fields = ["name", "company", "created_at", "updated_at"]
    ordering = ("-created_at", "-id")
    object_permission_messages = {method: "You may not change this lead." for method in ("PUT", "PATCH", "POST")}

    def get_queryset(self):
        return Lead.objects.visible_to(self.request.user).select_related("owner")

    def may_change(self, user, lead):
        return can_edit_lead(user, lead)

    def perform_create(self, serializer):
        serializer.instance = leads.create_lead(by=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self.written(
            leads.update_lead(
                lead=serializer.instance,
                by=self.request.user,
                data=serializer.validated_data,
                expected_version=self.expected_version(),
            )
        )

    @extend_schema(
        summary="Customers this lead may already be",
        description="By tax ID, company email domain (free-mail ignored) or name (ignoring the legal form).",
        responses={200: MatchSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def matches(self, request, pk=None):
        lead = self.get_object()
        return Response(MatchSerializer(leads.find_matches(lead), many=True).data)

    @extend_schema(
        summary="Convert a lead into a customer, a contact and optionally a deal",
        description="All or nothing. `customer` joins an existing customer (typically one of `matches`); "
        "`customer_data` creates one. The lead's person becomes a contact unless the customer has one with "
        "that email (or you may not keep its contacts). A disqualified lead is refused (400); a converted "
        "one too (409).",
        request=LeadConvertSerializer,
        parameters=[IF_MATCH_HEADER],
        responses={
            200: LeadSerializer,
            409: OpenApiResponse(description="The lead is converted already."),
            412: STALE_RESPONSE,
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def convert(self, request, pk=None):
        lead = self.get_object()
        body = LeadConvertSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        lead = call_service(
            lambda: leads.convert_lead(
                lead=lead,
                by=request.user,
                customer=data.get("customer"),
                customer_data=dict(data["customer_data"]) if "customer_data" in data else None,
                create_opportunity=data["create_opportunity"],
                opportunity_data=dict(data.get("opportunity") or {}),
                expected_version=self.expected_version(),
            ),
            conflict=leads.LeadAlreadyConverted,
        )
        lead = Lead.objects.select_related("owner").get(pk=lead.pk)
        response = Response(LeadSerializer(lead, context=self.get_serializer_context()).data)
        response["ETag"] = etag_of(lead)
        return response
