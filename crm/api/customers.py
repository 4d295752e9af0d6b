"""REST API v1 for customers and contacts.

Thin on purpose: serializers check the shape of the input, and every change goes
through crm.services, which decide who may change which field and report
duplicates and forbidden changes as ValidationError / PermissionDenied (answered
400 and 403 by core.api.errors.exception_handler). Lists share the FilterSets of the
pages, so `?q=`, `?owner=` and `?updated_since=` mean the same everywhere.
"""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django_countries import countries
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from core.api.concurrency import ConcurrencyMixin, concurrency_schema
from core.api.errors import ConflictError
from core.api.filters import DjangoFilterBackend, OrderingFilter
from core.api.json_types import StrictJSONTypesMixin
from core.api.rows import RowSource, ValuesListMixin
from core.api.serializers import FastRepresentationMixin, IdentityUrlField

from .. import catalog, services
from ..fields import CUSTOMER_FIELD_ORDER
from ..filters import ContactFilterSet, CustomerFilterSet
from ..models import Contact, Customer, Product, Stage, TaxRate, billing_name, owner_choices, terms_label
from ..permissions import can_delete_customer, can_edit_contacts, can_edit_customer

User = get_user_model()


class OwnerField(serializers.PrimaryKeyRelatedField):
    """The owner by id, among the choices the form offers (crm.models.owner_choices):
    active sales users, plus the customer's current owner."""

    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": "The owner must be an active sales rep or sales manager.",
    }

    def get_queryset(self):
        instance = getattr(self.parent, "instance", None)
        return owner_choices(instance if isinstance(instance, Customer) else None)


class CountryCodeField(serializers.ChoiceField):
    """A country as its ISO 3166-1 alpha-2 code, exactly ("DE"): the API keeps codes;
    names ("Germany") are for people and depend on their language."""

    def __init__(self, **kwargs):
        super().__init__(choices=list(countries), **kwargs)

    def to_representation(self, value):
        return str(value or "")  # the model gives a django_countries Country


class VisibleCustomerField(serializers.PrimaryKeyRelatedField):
    """A customer by id, among those the requesting user may see."""

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Customer.objects.none()
        return Customer.objects.visible_to(request.user)


class CustomerContactSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    """A contact as listed inside its customer."""

    url = IdentityUrlField(view_name="api:contact-detail")

    class Meta:
        model = Contact
        fields = ["id", "url", "name", "email", "phone", "job_title", "is_primary"]


class CustomerSerializer(StrictJSONTypesMixin, FastRepresentationMixin, serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:customer-detail")
    owner = OwnerField(
        required=False,
        help_text="Id of the sales rep who owns the customer (an active sales rep or sales manager). "
        "Defaults to whoever creates it when they are in sales; anyone else must name one. "
        "Only managers may name or change it.",
    )
    owner_name = serializers.SerializerMethodField(help_text="The owner's full name (or username).")
    country = CountryCodeField(
        required=False, allow_blank=True, help_text="ISO 3166-1 alpha-2 code, e.g. DE; empty when unknown."
    )
    billing_name = serializers.CharField(read_only=True, help_text="Legal name, or the name when that is empty.")
    terms_label = serializers.CharField(
        read_only=True, help_text="The payment terms as people say them, e.g. “Net 30”."
    )
    credit_limit = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        allow_null=True,
        required=False,
        help_text="Most this customer may owe us, in its currency, as a decimal string; null for no limit. "
        "Only finance managers change it.",
    )

    class Meta:
        model = Customer
        # The customer's own fields as every surface lists them (crm.fields), then the derived ones.
        fields = [
            "id",
            "url",
            *CUSTOMER_FIELD_ORDER,
            "billing_name",
            "terms_label",
            "owner_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            # Tax ids are compared normalised ("de 123" == "DE123") by the service,
            # which reports a duplicate on this field; DRF's own unique check
            # would compare them raw.
            "tax_id": {"validators": []},
            # The column is a small integer on PostgreSQL; say so on every database.
            "payment_days": {"max_value": 32767},
        }
        # The list reads values() rows (core.api.rows): the derived fields from the
        # columns they are derived from, as the model and User.__str__ derive them.
        row_sources = {
            "billing_name": RowSource(("legal_name", "name"), billing_name),
            "terms_label": RowSource(("payment_terms", "payment_days"), terms_label),
            "owner_name": RowSource(("owner__first_name", "owner__last_name", "owner__username"), User.display_name),
        }

    def get_owner_name(self, customer) -> str:
        return str(customer.owner)


class CustomerDetailSerializer(CustomerSerializer):
    """A customer with its contacts; lists leave the contacts out to stay light."""

    contacts = CustomerContactSerializer(many=True, read_only=True)

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "contacts"]


class ContactSerializer(StrictJSONTypesMixin, FastRepresentationMixin, serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:contact-detail")
    customer = VisibleCustomerField(help_text="Id of the customer; a contact cannot move to another customer.")
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "url",
            "customer",
            "customer_name",
            "name",
            "email",
            "phone",
            "job_title",
            "is_primary",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # One primary contact per customer is kept by the service (naming a new
        # one demotes the old one); DRF's check would refuse it instead.
        validators = []


@extend_schema(tags=["customers"])
@extend_schema_view(
    list=extend_schema(
        summary="List customers",
        description="Newest changes first unless `ordering` says otherwise. A customer without a credit "
        "limit has no limit: `ordering=credit_limit` lists it after every limit, `-credit_limit` first "
        "(as the list page sorts it).",
    ),
    retrieve=extend_schema(summary="Get a customer with its contacts", **concurrency_schema(read=True)),
    create=extend_schema(
        summary="Create a customer",
        description="A sales rep becomes the owner; anyone else names the sales rep who owns it (`owner`).",
    ),
    update=extend_schema(summary="Replace a customer's fields", **concurrency_schema(write=CustomerDetailSerializer)),
    partial_update=extend_schema(
        summary="Change some of a customer's fields", **concurrency_schema(write=CustomerDetailSerializer)
    ),
    destroy=extend_schema(
        summary="Delete a customer (admins only)",
        **concurrency_schema(
            responses={
                204: None,
                409: OpenApiResponse(description="Other records (e.g. invoices) still point to the customer."),
            }
        ),
    ),
)
class CustomerViewSet(ValuesListMixin, ConcurrencyMixin, viewsets.ModelViewSet):
    """Customers: the master record shared by sales and finance.

    Who may change which field is decided by crm.services: reps their own
    customers, finance clerks billing details, managers everything, and only
    finance managers the credit limit. Sending a field back unchanged is never
    refused. A user who may not change a customer at all is refused 403 before
    the body is read, even when it would change nothing. `ETag`/`If-Match`
    guard against overwriting someone else's change (412). The list reads
    values() rows (core.api.rows.ValuesListMixin).
    """

    queryset = Customer.objects.all()  # names the model; get_queryset() narrows it per user
    serializer_class = CustomerSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = CustomerFilterSet
    ordering_fields = ["name", "created_at", "updated_at", "credit_limit"]
    ordering_aliases = {"credit_limit": "credit_limit_sort"}
    ordering = ("-updated_at", "-id")

    object_permission_messages = {
        "PUT": "You may not change this customer.",
        "PATCH": "You may not change this customer.",
        "DELETE": "Only administrators may delete customers; set the customer inactive instead.",
    }

    def get_queryset(self):
        customers = Customer.objects.visible_to(self.request.user)
        if self.action == "list":
            # values() rows join the owner by themselves. "No limit" sorts above every
            # limit, as on the list page (crm.models.NO_CREDIT_LIMIT_SORTS_AS), through an
            # annotation only a sort by credit limit needs.
            if "credit_limit" in self.request.query_params.get("ordering", ""):
                customers = customers.with_credit_limit_sort()
            return customers
        customers = customers.select_related("owner")
        if self.action == "retrieve":
            customers = customers.prefetch_related("contacts")
        return customers

    def get_serializer_class(self):
        if self.action in ("retrieve", "update", "partial_update"):
            return CustomerDetailSerializer  # a write answers with what a GET shows
        return CustomerSerializer

    def may_change(self, user, customer):
        return can_edit_customer(user, customer)

    def get_object(self):
        # update() and the check below both need it: read it once.
        if not hasattr(self, "_customer"):
            self._customer = super().get_object()
        return self._customer

    def create(self, request, *args, **kwargs):
        self._refuse_forbidden_changes(None)
        return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        self._refuse_forbidden_changes(self.get_object())
        return super().update(request, *args, **kwargs)

    def _refuse_forbidden_changes(self, customer):
        """A field the user may not change is refused (403) before the body is
        validated, as crm.services would refuse it, even if its value is not valid."""
        if isinstance(self.request.data, dict):
            services.refuse_forbidden_changes(by=self.request.user, customer=customer, data=self.request.data)

    def may_delete(self, user, customer):
        return can_delete_customer(user, customer)

    def perform_create(self, serializer):
        serializer.instance = services.create_customer(by=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer):
        customer = services.update_customer(
            customer=serializer.instance,
            by=self.request.user,
            data=serializer.validated_data,
            expected_version=self.expected_version(),
        )
        # Read back the way a GET reads it: same fields, same queries.
        serializer.instance = self.written(
            Customer.objects.select_related("owner").prefetch_related("contacts").get(pk=customer.pk)
        )

    def perform_destroy(self, instance):
        try:
            services.delete_customer(customer=instance, by=self.request.user, expected_version=self.expected_version())
        except services.CustomerInUse as error:
            raise ConflictError(str(error)) from error


@extend_schema(tags=["contacts"])
@extend_schema_view(
    list=extend_schema(summary="List contacts", description="Filter by `customer` to get one customer's contacts."),
    create=extend_schema(
        summary="Add a contact to a customer", description="A customer's first contact becomes its primary one."
    ),
    retrieve=extend_schema(summary="Get a contact", **concurrency_schema(read=True)),
    update=extend_schema(summary="Replace a contact's fields", **concurrency_schema(write=ContactSerializer)),
    partial_update=extend_schema(
        summary="Change some of a contact's fields", **concurrency_schema(write=ContactSerializer)
    ),
    destroy=extend_schema(summary="Delete a contact", **concurrency_schema(responses={204: None})),
)
class ContactViewSet(ConcurrencyMixin, viewsets.ModelViewSet):
    """People at customers; whoever may edit a customer keeps its contacts."""

    queryset = Contact.objects.all()  # names the model; get_queryset() narrows it per user
    serializer_class = ContactSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = ContactFilterSet
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ("-updated_at", "-id")

    object_permission_messages = {
        method: "You may not change this customer's contacts." for method in ("PUT", "PATCH", "DELETE")
    }

    def get_queryset(self):
        return Contact.objects.visible_to(self.request.user).select_related("customer")

    def may_change(self, user, contact):
        return can_edit_contacts(user, contact.customer)

    may_delete = may_change

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        customer = data.pop("customer")
        serializer.instance = services.create_contact(customer=customer, by=self.request.user, data=data)

    def perform_update(self, serializer):
        serializer.instance = self.written(
            services.update_contact(
                contact=serializer.instance,
                by=self.request.user,
                data=serializer.validated_data,
                expected_version=self.expected_version(),
            )
        )

    def perform_destroy(self, instance):
        services.delete_contact(contact=instance, by=self.request.user, expected_version=self.expected_version())


# --- The catalog and the stages ----------------------------------------------------------


class TaxRateSerializer(StrictJSONTypesMixin, serializers.ModelSerializer):
    percentage = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        help_text="0 to 100, as a decimal string, e.g. “19.00”.",
    )

    class Meta:
        model = TaxRate
        fields = ["id", "name", "percentage", "is_active"]


class ProductSerializer(StrictJSONTypesMixin, serializers.ModelSerializer):
    unit_price = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text="List price of one unit before discount and tax, in `currency`, as a decimal string.",
    )
    default_tax_rate = serializers.PrimaryKeyRelatedField(
        queryset=TaxRate.objects.all(), allow_null=True, required=False, help_text="Id of the tax rate lines get."
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "code",
            "name",
            "description",
            "unit_price",
            "currency",
            "default_tax_rate",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"code": {"validators": []}}  # reported on the field by crm.catalog, races included


class StageSerializer(StrictJSONTypesMixin, serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "name", "order", "probability", "is_won", "is_lost"]
        read_only_fields = ["is_won", "is_lost"]
        extra_kwargs = {
            "name": {"validators": []},
            "order": {"validators": [], "max_value": 32767},
            "probability": {"max_value": 100},
        }


class CatalogViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Read by every role; changed through crm.catalog by the roles that keep it.
    Nothing is deleted: set `is_active` false instead."""

    filter_backends = [OrderingFilter]

    def perform_create(self, serializer):
        keeper = catalog.KEEPERS[self.queryset.model]
        serializer.instance = keeper.create(by=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer):
        keeper = catalog.KEEPERS[self.queryset.model]
        serializer.instance = keeper.update(serializer.instance, by=self.request.user, data=serializer.validated_data)


@extend_schema(tags=["catalog"])
@extend_schema_view(
    list=extend_schema(summary="List products"),
    retrieve=extend_schema(summary="Get a product"),
    create=extend_schema(summary="Add a product (sales and finance managers)"),
    update=extend_schema(summary="Replace a product's fields"),
    partial_update=extend_schema(summary="Change some of a product's fields"),
)
class ProductViewSet(CatalogViewSet):
    """What we sell. Deals and invoices copy a product's price and tax rate onto their lines."""

    queryset = Product.objects.select_related("default_tax_rate")
    serializer_class = ProductSerializer
    ordering_fields = ["code", "name", "updated_at"]
    ordering = ("-updated_at", "-id")

    def may_change(self, user, product):
        return catalog.can_manage_products(user)


@extend_schema(tags=["catalog"])
@extend_schema_view(
    list=extend_schema(summary="List tax rates"),
    retrieve=extend_schema(summary="Get a tax rate"),
    create=extend_schema(summary="Add a tax rate (finance managers)"),
    update=extend_schema(summary="Replace a tax rate's fields"),
    partial_update=extend_schema(summary="Change some of a tax rate's fields"),
)
class TaxRateViewSet(CatalogViewSet):
    """Sales tax rates lines carry."""

    queryset = TaxRate.objects.all()
    serializer_class = TaxRateSerializer
    ordering_fields = ["id", "name"]
    ordering = ("id",)

    def may_change(self, user, tax_rate):
        return catalog.can_manage_tax_rates(user)


@extend_schema(tags=["catalog"])
@extend_schema_view(
    list=extend_schema(summary="List the pipeline's stages", description="In board order, left to right."),
    retrieve=extend_schema(summary="Get a stage"),
    create=extend_schema(summary="Add an open stage (sales managers)"),
    update=extend_schema(summary="Replace a stage's fields"),
    partial_update=extend_schema(
        summary="Rename, move or re-weigh a stage",
        description="Won stays 100% and Lost 0%; which stage wins or loses a deal cannot change.",
    ),
)
class StageViewSet(CatalogViewSet):
    """The pipeline's stages, as data."""

    queryset = Stage.objects.all()
    serializer_class = StageSerializer
    ordering_fields = ["order"]
    ordering = ("order", "id")

    def may_change(self, user, stage):
        return catalog.can_manage_stages(user)
