"""REST API v1 for service cases: anyone with a role logs and works them (no delete:
close a case instead). Every change goes through crm.cases; lists share the page's
ServiceCaseFilterSet (`?open=true`, `?severity=`, `?customer=`…)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from core.api.concurrency import ConcurrencyMixin, concurrency_schema
from core.api.filters import DjangoFilterBackend, OrderingFilter
from core.api.json_types import StrictJSONTypesMixin
from core.api.serializers import FastRepresentationMixin, IdentityUrlField

from .. import cases
from ..filters import ServiceCaseFilterSet
from ..models import Opportunity, ServiceCase
from ..permissions import can_edit_case
from .customers import VisibleCustomerField


class CaseOwnerField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": cases.OWNER_NEEDS_ROLE,
    }

    def get_queryset(self):
        return cases.case_owner_choices()


class ServiceCaseSerializer(StrictJSONTypesMixin, FastRepresentationMixin, serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:service-case-detail")
    customer = VisibleCustomerField(help_text="Id of the customer; a case stays with its customer.")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    owner = CaseOwnerField(required=False, help_text="Id of the user who works the case; whoever logs it by default.")
    owner_name = serializers.CharField(source="owner.__str__", read_only=True)
    opportunity = serializers.PrimaryKeyRelatedField(
        queryset=Opportunity.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of a related deal of the same customer.",
    )
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = ServiceCase
        fields = [
            "id",
            "url",
            "customer",
            "customer_name",
            "subject",
            "description",
            "severity",
            "status",
            "is_open",
            "owner",
            "owner_name",
            "opportunity",
            "invoice_number",
            "resolved_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["resolved_at", "created_by", "created_at", "updated_at"]
        extra_kwargs = {
            "severity": {"help_text": "High and critical cases hold the customer's dunning while open."},
            "status": {"help_text": "Resolved or closed stamps `resolved_at`; reopening clears it."},
        }


@extend_schema(tags=["service cases"])
@extend_schema_view(
    list=extend_schema(summary="List service cases", description="Newest first unless `ordering` says otherwise."),
    retrieve=extend_schema(summary="Get a service case", **concurrency_schema(read=True)),
    create=extend_schema(summary="Log a service case on a customer"),
    update=extend_schema(summary="Replace a case's fields", **concurrency_schema(write=ServiceCaseSerializer)),
    partial_update=extend_schema(
        summary="Work a case (status, severity, owner…)", **concurrency_schema(write=ServiceCaseSerializer)
    ),
)
class ServiceCaseViewSet(
    ConcurrencyMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """A customer's problems: open cases show on the customer and hold dunning when serious."""

    # No delete (ConcurrencyMixin has a destroy; the route must not offer it).
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    queryset = ServiceCase.objects.all()  # names the model; get_queryset() narrows it per user
    serializer_class = ServiceCaseSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = ServiceCaseFilterSet
    ordering_fields = ["created_at", "updated_at"]
    ordering = ("-created_at", "-id")
    object_permission_messages = {method: "You may not change this case." for method in ("PUT", "PATCH")}

    def get_queryset(self):
        return ServiceCase.objects.visible_to(self.request.user).select_related("customer", "owner")

    def may_change(self, user, case):
        return can_edit_case(user, case)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        customer = data.pop("customer")
        serializer.instance = cases.log_case(by=self.request.user, customer=customer, data=data)

    def perform_update(self, serializer):
        serializer.instance = self.written(
            cases.update_case(
                case=serializer.instance,
                by=self.request.user,
                data=serializer.validated_data,
                expected_version=self.expected_version(),
            )
        )
