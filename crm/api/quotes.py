"""REST API v1 for quotes: list, read, make from a deal, change a draft, and the
operations (send, accept, decline, revise) and the PDF.

Every change goes through crm.quotes. A quote whose state forbids the change (a sent
quote edited, a draft accepted) answers 409; bad input 400; a user who may not quote
the deal 403.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core import documents
from core.api.documents import PDFErrorsAsJSON, PDFRenderer
from core.api.errors import ERROR_SCHEMA, call_service, error_body
from core.api.filters import DjangoFilterBackend, OrderingFilter
from core.api.json_types import StrictJSONTypesMixin
from core.api.serializers import IdentityUrlField
from core.document_views import pdf_response

from .. import quotes
from ..filters import QuoteFilterSet
from ..models import Contact, Opportunity, Quote, QuoteLine
from ..permissions import can_quote


class QuoteLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuoteLine
        fields = [
            "position",
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


class QuoteSerializer(serializers.ModelSerializer):
    url = IdentityUrlField(view_name="api:quote-detail")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    terms_label = serializers.CharField(
        read_only=True, help_text="The payment terms as people say them, e.g. “Net 30”."
    )
    # Empty until sent: declared so the schema says so (a read-only model field would not).
    sent_to = serializers.EmailField(read_only=True, allow_blank=True, help_text="Where it was sent; empty until then.")

    class Meta:
        model = Quote
        fields = [
            "id",
            "url",
            "number",
            "revision",
            "supersedes",
            "status",
            "opportunity",
            "customer",
            "customer_name",
            "issue_date",
            "valid_until",
            "currency",
            "payment_terms",
            "payment_days",
            "terms_label",
            "notes",
            "contact",
            "subtotal",
            "tax_total",
            "total",
            "sent_at",
            "sent_to",
            "decided_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class QuoteDetailSerializer(QuoteSerializer):
    """A quote with its lines and its PDF's state."""

    lines = QuoteLineSerializer(many=True, read_only=True)
    pdf_status = serializers.SerializerMethodField(
        help_text="The PDF's state: pending, rendering, ready or failed; empty when none was asked for."
    )

    class Meta(QuoteSerializer.Meta):
        fields = [*QuoteSerializer.Meta.fields, "lines", "pdf_status"]
        read_only_fields = fields

    def get_pdf_status(self, quote) -> str:
        document = documents.document_for(quote, quotes.QUOTE_DOCUMENT)
        return document.status if document else ""


@extend_schema_field(OpenApiTypes.INT)
class VisibleOpportunityField(serializers.PrimaryKeyRelatedField):
    def get_queryset(self):
        request = self.context.get("request")
        return Opportunity.objects.visible_to(request.user) if request else Opportunity.objects.none()


class QuoteChangeSerializer(StrictJSONTypesMixin, serializers.Serializer):
    valid_until = serializers.DateField(
        required=False, allow_null=True, help_text="Last day the offer holds; 30 days after issue when empty."
    )
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, help_text="Printed under the lines."
    )
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True, help_text="Id of a contact of the customer."
    )


class QuoteCreateSerializer(QuoteChangeSerializer):
    opportunity = VisibleOpportunityField(help_text="Id of the deal whose lines and terms the quote copies.")


class QuoteSendSerializer(StrictJSONTypesMixin, serializers.Serializer):
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of a contact of the customer with an email address; or give `email`.",
    )
    email = serializers.EmailField(required=False, allow_blank=True, help_text="Address to send to, without a contact.")
    resend = serializers.BooleanField(
        required=False, default=False, help_text="Send a quote that was sent already once more (else 409)."
    )


class QuoteDeclineSerializer(StrictJSONTypesMixin, serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


CONFLICT = OpenApiResponse(ERROR_SCHEMA, description="The quote's state forbids it (e.g. it was sent already).")


def _conflicts(operation):
    return call_service(operation, conflict=quotes.QuoteConflict)


@extend_schema(tags=["quotes"])
@extend_schema_view(
    list=extend_schema(summary="List quotes", description="Filter by `opportunity`, `customer` or `status`."),
    retrieve=extend_schema(summary="Get a quote with its lines and its PDF's state"),
    create=extend_schema(
        summary="Make a quote from a deal",
        description="Copies the deal's lines (taxed per line) and terms as they are now; numbered Q-<year>-<seq>. "
        "A deal without lines is refused (400).",
        request=QuoteCreateSerializer,
        responses={201: QuoteDetailSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a draft quote's validity, notes or contact",
        request=QuoteChangeSerializer,
        responses={200: QuoteDetailSerializer, 409: CONFLICT},
    ),
)
class QuoteViewSet(PDFErrorsAsJSON, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Quotes: snapshots of a deal's lines and terms, sent to the customer as a PDF.
    Everyone reads them; whoever may change the deal makes, sends and answers them."""

    queryset = Quote.objects.all()  # names the model; get_queryset() narrows it
    serializer_class = QuoteSerializer
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = QuoteFilterSet
    ordering_fields = ["issue_date", "created_at", "updated_at", "total"]
    ordering = ("-id",)
    http_method_names = ["get", "post", "patch", "head", "options"]
    object_permission_messages = {"PATCH": "Only the deal's owner (or a sales manager) changes its quotes."}

    def get_queryset(self):
        queryset = Quote.objects.select_related("customer")
        if self.action != "list":
            queryset = queryset.select_related("opportunity").prefetch_related("lines")
        return queryset

    def get_serializer_class(self):
        return QuoteSerializer if self.action == "list" else QuoteDetailSerializer

    def may_change(self, user, quote):
        return can_quote(user, quote.opportunity)

    def _answer(self, quote, status_code=status.HTTP_200_OK):
        quote = self.get_queryset().get(pk=quote.pk)
        return Response(QuoteDetailSerializer(quote, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = QuoteCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        opportunity = data.pop("opportunity")
        quote = quotes.create_quote(opportunity=opportunity, by=request.user, data=data)
        return self._answer(quote, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        quote = self.get_object()
        serializer = QuoteChangeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        quote = _conflicts(lambda: quotes.update_quote(quote=quote, by=request.user, data=serializer.validated_data))
        return self._answer(quote)

    @extend_schema(
        summary="Send the quote by email (the PDF attached)",
        description="A draft becomes sent and never changes again. The email goes out after the request; "
        "a quote sent already is sent again only with `resend: true` (else 409).",
        request=QuoteSendSerializer,
        responses={200: QuoteDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        quote = self.get_object()
        serializer = QuoteSendSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        quote = _conflicts(
            lambda: quotes.send_quote(
                quote=quote,
                by=request.user,
                contact=data.get("contact"),
                email=data.get("email", ""),
                resend=data.get("resend", False),
            )
        )
        return self._answer(quote)

    @extend_schema(
        summary="Record that the customer accepted the quote",
        request=None,
        responses={200: QuoteDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        quote = self.get_object()
        return self._answer(_conflicts(lambda: quotes.mark_accepted(quote=quote, by=request.user)))

    @extend_schema(
        summary="Record that the customer declined the quote",
        request=QuoteDeclineSerializer,
        responses={200: QuoteDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        quote = self.get_object()
        serializer = QuoteDeclineSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data.get("reason", "")
        return self._answer(_conflicts(lambda: quotes.mark_declined(quote=quote, by=request.user, reason=reason)))

    @extend_schema(
        summary="Make a new version of the quote",
        description="A new draft of the deal's lines and terms as they are now, with the next revision and its own "
        "number; the old quote becomes superseded.",
        request=None,
        responses={201: QuoteDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        quote = self.get_object()
        return self._answer(_conflicts(lambda: quotes.revise_quote(quote=quote, by=request.user)), 201)

    @extend_schema(
        summary="Download the quote's PDF",
        description="The stored PDF. While it is being made the answer is 409 with its `status` "
        "(pending, rendering or failed) and `Retry-After`.",
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            409: OpenApiResponse(ERROR_SCHEMA, description="The PDF is not ready; `error.status` says why."),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, PDFRenderer])
    def pdf(self, request, pk=None):
        quote = self.get_object()
        document = documents.document_for(quote, quotes.QUOTE_DOCUMENT) or documents.request_document(
            quote, quotes.QUOTE_DOCUMENT
        )
        if document.is_ready:
            return pdf_response(document)
        body = error_body("pdf_not_ready", f"The PDF of {quote.number} is {document.get_status_display().lower()}.")
        body["error"]["status"] = document.status
        if document.error:
            body["error"]["message"] += f" {document.error}"
        return Response(body, status=status.HTTP_409_CONFLICT, headers={"Retry-After": "2"})
