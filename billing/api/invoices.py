"""REST API v1 for invoices and credit notes: list, read, draft, change a draft, the
operations (issue, void, send, credit), the PDFs, and "Invoice this deal"
(`POST /opportunities/{id}/invoice/`).

Every change goes through billing.services, which decides who may do what: bad input
is a 400 (unknown customers and products too, by field), a user who may not a 403, an
invoice whose state forbids the change (editing an issued invoice, voiding a paid one,
sending twice without `resend`, invoicing a deal that is not won) a 409. Nothing is
half-written and no number is taken by a refused request. `ETag` / `If-Match` guard a
draft against overwriting someone else's change (412). Invoices are never deleted:
void them, or correct them with a credit note.
"""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import TokenScopePermission
from core import documents
from core.api.concurrency import (
    ETAG_HEADER,
    IF_MATCH_HEADER,
    STALE_RESPONSE,
    ConcurrencyMixin,
    concurrency_schema,
    etag_of,
)
from core.api.documents import PDFErrorsAsJSON, PDFRenderer
from core.api.errors import ERROR_SCHEMA, call_service, error_body
from core.api.filters import DjangoFilterBackend, IdFilter, OrderingFilter
from core.api.json_types import StrictJSONTypesMixin
from core.api.permissions import ModelPermissions
from core.api.serializers import FastRepresentationMixin, IdentityUrlField
from core.document_views import pdf_response
from crm.api.customers import VisibleCustomerField
from crm.api.opportunities import LineInputSerializer
from crm.models import Opportunity, PaymentTerms

from .. import services
from ..filters import InvoiceFilterSet
from ..models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from ..permissions import can_create_invoice, can_view_invoices

# --- serializers: what is read ------------------------------------------------------------


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "position",
            "product",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "amount",
            "tax_rate",
            "tax_name",
            "tax_percent",
            "tax_amount",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "Name it as `invoice_line` to credit this line."},
            "tax_name": {"help_text": "The tax rate's name, copied when the invoice is issued."},
            "tax_percent": {"help_text": "The tax rate's percentage, copied when the invoice is issued."},
        }


class CreditNoteBriefSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:credit-note-detail")

    class Meta:
        model = CreditNote
        fields = ["id", "url", "number", "issue_date", "reason", "total"]
        read_only_fields = fields


class InvoiceSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:invoice-detail")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    terms_label = serializers.CharField(
        read_only=True, help_text="The payment terms as people say them, e.g. “Net 30”."
    )
    # Empty until sent: declared so the schema says so (a read-only model field would not).
    sent_to = serializers.EmailField(read_only=True, allow_blank=True, help_text="Where it was sent; empty until then.")

    class Meta:
        model = Invoice
        fields = [
            "id",
            "url",
            "number",
            "status",
            "customer",
            "customer_name",
            "opportunity",
            "billing_plan",
            "period_start",
            "issue_date",
            "due_date",
            "currency",
            "payment_terms",
            "payment_days",
            "terms_label",
            "notes",
            "subtotal",
            "tax_total",
            "total",
            "amount_credited",
            "amount_paid",
            "balance_due",
            "billing_name",
            "billing_address",
            "billing_tax_id",
            "sent_at",
            "sent_to",
            "voided_at",
            "void_reason",
            "created_by",
            "issued_by",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "number": {"help_text": "INV-<year>-<seq>, given when the invoice is issued; null while draft."},
            "opportunity": {"help_text": "The won deal the invoice was made from, if any."},
            "billing_plan": {"help_text": "The billing plan whose period (`period_start`) it bills, if any."},
            "balance_due": {"help_text": "total − amount_credited − amount_paid."},
            "billing_name": {"help_text": "Who is billed, as the customer was when the invoice was issued."},
        }


class InvoiceDetailSerializer(InvoiceSerializer):
    """An invoice with its lines, its credit notes and its PDF's state."""

    lines = InvoiceLineSerializer(many=True, read_only=True)
    credit_notes = CreditNoteBriefSerializer(many=True, read_only=True)
    pdf_status = serializers.SerializerMethodField(
        help_text="The PDF's state: pending, rendering, ready or failed; empty for a draft (no PDF yet)."
    )

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines", "credit_notes", "pdf_status"]
        read_only_fields = fields

    def get_pdf_status(self, invoice) -> str:
        document = documents.document_for(invoice, services.INVOICE_DOCUMENT)
        return document.status if document else ""


class CreditNoteLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditNoteLine
        fields = [
            "position",
            "invoice_line",
            "product",
            "description",
            "quantity",
            "unit_price",
            "discount_percent",
            "amount",
            "tax_name",
            "tax_percent",
            "tax_amount",
        ]
        read_only_fields = fields


class CreditNoteSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:credit-note-detail")
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "url",
            "number",
            "invoice",
            "invoice_number",
            "customer",
            "customer_name",
            "issue_date",
            "currency",
            "reason",
            "subtotal",
            "tax_total",
            "total",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"number": {"help_text": "CN-<year>-<seq>."}}


class CreditNoteDetailSerializer(CreditNoteSerializer):
    lines = CreditNoteLineSerializer(many=True, read_only=True)
    pdf_status = serializers.SerializerMethodField(help_text="The PDF's state: pending, rendering, ready or failed.")

    class Meta(CreditNoteSerializer.Meta):
        fields = [*CreditNoteSerializer.Meta.fields, "lines", "pdf_status"]
        read_only_fields = fields

    def get_pdf_status(self, note) -> str:
        document = documents.document_for(note, services.CREDIT_NOTE_DOCUMENT)
        return document.status if document else ""


# --- serializers: what is written ------------------------------------------------------------


class InvoiceLineInputSerializer(LineInputSerializer):
    """A draft's line. Give a product (its name, list price and tax rate fill in what is
    left out) or a description and a unit price."""


class InvoiceChangeSerializer(StrictJSONTypesMixin, serializers.Serializer):
    """A draft's terms, notes and lines; what is left out stays as it is."""

    payment_terms = serializers.ChoiceField(choices=PaymentTerms.choices, required=False)
    payment_days = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    notes = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, trim_whitespace=False, help_text="Printed under the lines."
    )
    lines = InvoiceLineInputSerializer(
        many=True, required=False, max_length=200, help_text="The draft's lines, in order; replaces them all."
    )


@extend_schema_field(OpenApiTypes.INT)
class CustomerIdField(VisibleCustomerField):
    """A customer by id (the schema says integer: this serializer has no model to read it from)."""


class InvoiceCreateSerializer(InvoiceChangeSerializer):
    """A new draft: the customer, optionally other terms than the customer's, notes and lines."""

    customer = CustomerIdField(
        help_text="Id of the customer; the invoice takes its currency and, unless given, its payment terms."
    )


class InvoiceVoidSerializer(StrictJSONTypesMixin, serializers.Serializer):
    """Why the invoice is void."""

    reason = serializers.CharField(max_length=200, help_text="Why the invoice is void.")


class InvoiceSendSerializer(StrictJSONTypesMixin, serializers.Serializer):
    """Where to send the invoice, and whether to send it again."""

    to = serializers.EmailField(
        required=False,
        allow_blank=True,
        help_text="Address to send to; left out: the customer's invoice address, else its primary contact's.",
    )
    resend = serializers.BooleanField(
        required=False, default=False, help_text="Send an invoice that was sent already once more (else 409)."
    )


class CreditLineSerializer(StrictJSONTypesMixin, serializers.Serializer):
    """A line of the invoice and how much of it to credit."""

    invoice_line = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="Id of a line of the invoice (`lines[].id`)."
    )
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=3, help_text="How much of the line to credit: more than 0, at most what is left."
    )


class InvoiceCreditSerializer(StrictJSONTypesMixin, serializers.Serializer):
    """Why, and which lines (all that is left when `lines` is left out)."""

    reason = serializers.CharField(max_length=300, help_text="Why the invoice is credited; printed on the note.")
    lines = CreditLineSerializer(
        many=True,
        required=False,
        allow_empty=False,
        max_length=200,
        help_text="The lines and quantities to credit; left out: everything not credited yet.",
    )


class OpportunityInvoiceSerializer(StrictJSONTypesMixin, serializers.Serializer):
    """The whole deal (nothing given), a share of it (`percent`) or what is left (`remaining`)."""

    percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        help_text='Invoice this share of the deal (a 30 % deposit: `"30"`), more than 0 and at most 100.',
    )
    remaining = serializers.BooleanField(
        required=False, default=False, help_text="Invoice what is left of the deal after its earlier invoices."
    )

    def validate(self, data):
        if data.get("percent") is not None and data.get("remaining"):
            raise serializers.ValidationError({"remaining": ["Give a percentage or the remaining balance, not both."]})
        return data


# --- filters ------------------------------------------------------------------------------------


class InvoiceAPIFilterSet(InvoiceFilterSet):
    """The invoice list page's filters (billing.filters), and the deal an invoice bills."""

    opportunity = IdFilter(field_name="opportunity_id", label="Deal")

    class Meta(InvoiceFilterSet.Meta):
        fields = [*InvoiceFilterSet.Meta.fields, "opportunity"]


class CreditNoteFilterSet(django_filters.FilterSet):
    invoice = IdFilter(field_name="invoice_id", label="Invoice")
    customer = IdFilter(field_name="customer_id", label="Customer")

    class Meta:
        model = CreditNote
        fields = ["invoice", "customer"]


# --- views --------------------------------------------------------------------------------------


class ActionPermissions(ModelPermissions):
    """The operations on one invoice (issue, void, send, credit) need read access here;
    the services decide who may do each (a 403 with their reason)."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.view_%(model_name)s"]}


CONFLICT = OpenApiResponse(ERROR_SCHEMA, description="The invoice's state forbids it (e.g. it is issued already).")
FORBIDDEN = OpenApiResponse(ERROR_SCHEMA, description="You may not do this to invoices (your role).")
REFUSED = OpenApiResponse(ERROR_SCHEMA, description="Refused: see `error.message` and `error.fields`.")
NOT_READY = OpenApiResponse(
    ERROR_SCHEMA,
    description="The PDF is not ready (`error.status`: pending, rendering or failed), or a draft has none.",
)
PDF_RESPONSES = {(200, "application/pdf"): OpenApiTypes.BINARY, 409: NOT_READY}


def _conflicts(operation):
    return call_service(operation, conflict=services.InvoiceConflict)


def _pdf(record, kind: str, label: str):
    document = documents.document_for(record, kind) or documents.request_document(record, kind)
    if document.is_ready:
        return pdf_response(document)
    body = error_body("pdf_not_ready", f"The PDF of {label} is {document.get_status_display().lower()}.")
    body["error"]["status"] = document.status
    if document.error:
        body["error"]["message"] += f" {document.error}"
    return Response(body, status=status.HTTP_409_CONFLICT, headers={"Retry-After": "2"})


def _lines(lines) -> list[dict]:
    return [dict(line) for line in lines]


@extend_schema(tags=["invoices"])
@extend_schema_view(
    list=extend_schema(
        summary="List invoices",
        description="Newest first unless `ordering` says otherwise. The filters of the invoice list page "
        "(status, customer, customer owner, issue and due date ranges, overdue, number or customer name, "
        "updated since), and `opportunity`.",
    ),
    retrieve=extend_schema(
        summary="Get an invoice with its lines, credit notes and PDF state", **concurrency_schema(read=True)
    ),
    create=extend_schema(
        summary="Draft an invoice",
        description="A draft (no number) for the customer, in its currency and, unless given, on its payment "
        "terms. Lines are priced like a deal's: rounded half-up per line. Issue it to number it.",
        request=InvoiceCreateSerializer,
        responses={201: InvoiceDetailSerializer, 400: REFUSED},
    ),
    partial_update=extend_schema(
        summary="Change a draft's terms, notes or lines",
        description="`lines` replaces all the lines. The fields and the lines change together or not at all. "
        "An issued invoice never changes (409): correct it with a credit note.",
        request=InvoiceChangeSerializer,
        parameters=concurrency_schema(write=InvoiceDetailSerializer)["parameters"],
        responses={**concurrency_schema(write=InvoiceDetailSerializer)["responses"], 400: REFUSED, 409: CONFLICT},
    ),
)
class InvoiceViewSet(
    PDFErrorsAsJSON, ConcurrencyMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Invoices: everyone reads them; finance drafts, issues, sends and credits them,
    finance managers void them; a rep drafts one from their own won deal."""

    queryset = Invoice.objects.all()  # names the model; get_queryset() narrows it per user
    serializer_class = InvoiceSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = InvoiceAPIFilterSet
    ordering_fields = ["created_at", "updated_at", "total", "balance_due"]
    ordering = ("-id",)
    http_method_names = ["get", "post", "patch", "head", "options"]
    object_permission_messages = {"PATCH": "Only finance edits draft invoices."}
    OPERATIONS = frozenset({"issue", "void", "send", "credit"})

    def get_permissions(self):
        if self.action in self.OPERATIONS:
            return [IsAuthenticated(), TokenScopePermission(), ActionPermissions()]
        return super().get_permissions()

    def get_queryset(self):
        queryset = Invoice.objects.visible_to(self.request.user).select_related("customer")
        if self.action != "list":
            queryset = queryset.prefetch_related("lines", "credit_notes")
        return queryset

    def get_serializer_class(self):
        return InvoiceSerializer if self.action == "list" else InvoiceDetailSerializer

    def may_change(self, user, invoice):
        if self.request.method == "PATCH":
            return user.has_perm("billing.change_invoice")
        return True  # the operations: their services decide

    def _answer(self, invoice, status_code=status.HTTP_200_OK):
        record = self.written(self.get_queryset().get(pk=invoice.pk))
        response = Response(
            InvoiceDetailSerializer(record, context=self.get_serializer_context()).data, status=status_code
        )
        response["ETag"] = etag_of(record)
        return response

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def create(self, request, *args, **kwargs):
        data = self._input(InvoiceCreateSerializer)
        customer = data.pop("customer")
        lines = _lines(data.pop("lines", []))
        invoice = services.create_invoice(by=request.user, customer=customer, data=data, lines=lines)
        return self._answer(invoice, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        invoice = self.get_object()
        data = self._input(InvoiceChangeSerializer)
        lines = data.pop("lines", None)
        version = self.expected_version()

        def change():
            if not data and lines is None:  # nothing to change: still only a draft may be patched
                if not invoice.is_draft:
                    raise services.InvoiceConflict("An issued invoice cannot change: correct it with a credit note.")
                return invoice
            changed, expected = invoice, version
            with transaction.atomic():  # the fields and the lines together, or neither
                if data:
                    changed = services.update_draft(
                        invoice=changed, by=request.user, data=data, expected_version=expected
                    )
                    expected = changed.version
                if lines is not None:
                    changed = services.set_invoice_lines(
                        invoice=changed, by=request.user, lines=_lines(lines), expected_version=expected
                    )
            return changed

        return self._answer(_conflicts(change))

    @extend_schema(
        summary="Issue the invoice",
        description="The draft gets the next INV-<year>-<seq> number and its due date from its payment terms, "
        "and never changes again; its PDF is made in the background. An empty invoice, a total of 0 or a "
        "customer without billing details is refused (400) and takes no number.",
        request=None,
        parameters=[IF_MATCH_HEADER, ETAG_HEADER],
        responses={200: InvoiceDetailSerializer, 400: REFUSED, 403: FORBIDDEN, 409: CONFLICT, 412: STALE_RESPONSE},
    )
    @action(detail=True, methods=["post"])
    def issue(self, request, pk=None):
        invoice = self.get_object()
        version = self.expected_version()
        return self._answer(
            _conflicts(lambda: services.issue_invoice(invoice=invoice, by=request.user, expected_version=version))
        )

    @extend_schema(
        summary="Void the invoice",
        description="Only an issued invoice nothing was paid or credited on (else 409); it keeps its number.",
        request=InvoiceVoidSerializer,
        responses={200: InvoiceDetailSerializer, 400: REFUSED, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        invoice = self.get_object()
        reason = self._input(InvoiceVoidSerializer)["reason"]
        return self._answer(_conflicts(lambda: services.void_invoice(invoice=invoice, by=request.user, reason=reason)))

    @extend_schema(
        summary="Send the invoice by email (the PDF attached)",
        description="The email goes out after the request, with the PDF made once on issue. An invoice sent "
        "already is sent again only with `resend: true` (else 409).",
        request=InvoiceSendSerializer,
        responses={200: InvoiceDetailSerializer, 400: REFUSED, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        invoice = self.get_object()
        data = self._input(InvoiceSendSerializer)
        return self._answer(
            _conflicts(
                lambda: services.send_invoice(
                    invoice=invoice, by=request.user, to=data.get("to", ""), resend=data.get("resend", False)
                )
            )
        )

    @extend_schema(
        summary="Credit the invoice",
        description="A credit note (CN-<year>-<seq>) for the given lines and quantities, or for everything not "
        "credited yet. Never more than the invoice's balance due (400), which it reduces.",
        request=InvoiceCreditSerializer,
        responses={201: CreditNoteDetailSerializer, 400: REFUSED, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def credit(self, request, pk=None):
        invoice = self.get_object()
        data = self._input(InvoiceCreditSerializer)
        lines = _lines(data["lines"]) if "lines" in data else None
        note = _conflicts(
            lambda: services.credit_invoice(invoice=invoice, by=request.user, reason=data["reason"], lines=lines)
        )
        note = CreditNote.objects.select_related("invoice", "customer").prefetch_related("lines").get(pk=note.pk)
        return Response(
            CreditNoteDetailSerializer(note, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Download the invoice's PDF",
        description="The stored PDF, made once when the invoice was issued. While it is being made the answer "
        "is 409 with its `status` (pending, rendering or failed) and `Retry-After`; a draft has no PDF (409).",
        responses=PDF_RESPONSES,
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, PDFRenderer])
    def pdf(self, request, pk=None):
        invoice = self.get_object()
        if invoice.is_draft:
            body = error_body("not_issued", "A draft invoice has no PDF yet: issue it first.")
            return Response(body, status=status.HTTP_409_CONFLICT)
        return _pdf(invoice, services.INVOICE_DOCUMENT, invoice.number)


@extend_schema(tags=["invoices"])
@extend_schema_view(
    list=extend_schema(summary="List credit notes", description="Filter by `invoice` or `customer`."),
    retrieve=extend_schema(summary="Get a credit note with its lines and PDF state"),
)
class CreditNoteViewSet(PDFErrorsAsJSON, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Credit notes: made by crediting an invoice (`POST /invoices/{id}/credit/`); read here."""

    queryset = CreditNote.objects.all()
    serializer_class = CreditNoteSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = CreditNoteFilterSet
    ordering_fields = ["created_at", "total"]
    ordering = ("-id",)

    def get_queryset(self):
        queryset = CreditNote.objects.select_related("invoice", "customer")
        if not can_view_invoices(self.request.user):
            return queryset.none()
        if self.action != "list":
            queryset = queryset.prefetch_related("lines")
        return queryset

    def get_serializer_class(self):
        return CreditNoteSerializer if self.action == "list" else CreditNoteDetailSerializer

    @extend_schema(
        summary="Download the credit note's PDF",
        description="While it is being made the answer is 409 with its `status` and `Retry-After`.",
        responses=PDF_RESPONSES,
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, PDFRenderer])
    def pdf(self, request, pk=None):
        note = self.get_object()
        return _pdf(note, services.CREDIT_NOTE_DOCUMENT, note.number)


DEAL_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the won deal.")


@extend_schema(tags=["invoices"])
@extend_schema_view(
    create=extend_schema(
        operation_id="opportunities_invoice_create",
        summary="Invoice a won deal",
        description="“Invoice this deal”: a draft invoice with the deal's lines, prices, discounts and payment "
        "terms unchanged, linked both ways. `percent` invoices a share of the deal (a deposit), `remaining` "
        "what is left after earlier invoices. A deal that is not won (or invoiced in full) is a 409; more "
        "than is left to invoice a 400. Finance, or the deal's owner, may.",
        parameters=[DEAL_ID],
        request=OpportunityInvoiceSerializer,
        responses={201: InvoiceDetailSerializer, 400: REFUSED, 403: FORBIDDEN, 409: CONFLICT},
    ),
)
class OpportunityInvoiceViewSet(viewsets.GenericViewSet):
    """`POST /opportunities/{id}/invoice/`, routed here so that crm never imports billing."""

    queryset = Opportunity.objects.all()
    serializer_class = OpportunityInvoiceSerializer
    # Reps hold no billing.add_invoice, finance no crm.add_opportunity: the service decides (403).
    permission_classes = [IsAuthenticated, TokenScopePermission]
    pagination_class = None
    filter_backends = []

    def create(self, request, pk=None):
        user = request.user
        if not (can_create_invoice(user) or user.has_perm("billing.invoice_own_deal")):
            raise PermissionDenied("Only finance, or the deal's owner, invoices a deal.")
        opportunity = Opportunity.objects.visible_to(user).filter(pk=_id_or_none(pk)).first()
        if opportunity is None:
            raise exceptions.NotFound()
        serializer = OpportunityInvoiceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        invoice = _conflicts(
            lambda: services.invoice_opportunity(
                opportunity=opportunity, by=request.user, percent=data.get("percent"), remaining=data["remaining"]
            )
        )
        invoice = (
            Invoice.objects.select_related("customer").prefetch_related("lines", "credit_notes").get(pk=invoice.pk)
        )
        response = Response(
            InvoiceDetailSerializer(invoice, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )
        response["ETag"] = etag_of(invoice)
        return response


def _id_or_none(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None
