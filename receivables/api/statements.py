"""The customer statement in the API:

- `GET  /api/v1/customers/{id}/statement/?as_of=`: the open items at the end of the day
  with their running balance, per currency, the aging row and the totals;
- `GET  /api/v1/customers/{id}/statement/pdf/?as_of=`: its PDF, made anew from the
  ledger as it is now (409 with `Retry-After` until it is ready, as invoices' PDFs);
- `POST /api/v1/customers/{id}/statement/send/` `{as_of, to, resend}`: email it.

The same functions as the page (receivables.statements). A day in the future or that
cannot be read is a 400, a customer whose standing the user may not read a 403, an
unknown one a 404, sending again for the same day without `resend` a 409.
"""

from django.core.exceptions import PermissionDenied
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.authentication import TokenScopePermission
from core import documents
from core.api.documents import PDFErrorsAsJSON, PDFRenderer
from core.api.errors import ERROR_SCHEMA, call_service, error_body
from core.api.json_types import StrictJSONTypesMixin
from core.document_views import pdf_response
from crm.models import Customer

from .. import aging, statements
from ..models import Statement
from ..permissions import can_view_standing

MONEY = {"max_digits": 14, "decimal_places": 2, "coerce_to_string": True}

ITEM_FIELDS = {
    "kind": serializers.ChoiceField(choices=["invoice", "payment"]),
    "id": serializers.IntegerField(help_text="The invoice's or the payment's id."),
    "number": serializers.CharField(),
    "date": serializers.DateField(help_text="Issue date of an invoice, the day a payment was received."),
    "due_date": serializers.DateField(allow_null=True),
    "days_overdue": serializers.IntegerField(help_text="Days past due at the as-of day (0: not overdue)."),
    "bucket": serializers.CharField(allow_null=True, help_text="The aging bucket's key (invoices only)."),
    "reference": serializers.CharField(help_text="The payment's bank reference."),
    "amount": serializers.DecimalField(help_text="The invoice's total, the payment's amount.", **MONEY),
    "open_amount": serializers.DecimalField(
        help_text="What the invoice still owed then (positive), the payment's unapplied credit (negative).",
        **MONEY,
    ),
    "balance": serializers.DecimalField(help_text="Running balance, this item included.", **MONEY),
}


def _aging_fields() -> dict:
    return {bucket.key: serializers.DecimalField(help_text=bucket.label, **MONEY) for bucket in aging.buckets()}


CURRENCY_FIELDS = {
    "currency": serializers.CharField(),
    "items": inline_serializer("StatementItem", ITEM_FIELDS, many=True),
    "aging": inline_serializer("StatementAging", _aging_fields()),
    "invoiced": serializers.DecimalField(help_text="Open invoices.", **MONEY),
    "credit": serializers.DecimalField(help_text="Unapplied payments.", **MONEY),
    "balance": serializers.DecimalField(help_text="Open invoices less unapplied payments.", **MONEY),
    "overdue": serializers.DecimalField(help_text="Of the open invoices, what is past due.", **MONEY),
}

StatementSerializer = inline_serializer(
    "CustomerStatement",
    {
        "customer": serializers.IntegerField(),
        "customer_name": serializers.CharField(),
        "as_of": serializers.DateField(),
        "currencies": inline_serializer("StatementCurrency", CURRENCY_FIELDS, many=True),
    },
)


class StatementSendSerializer(StrictJSONTypesMixin, serializers.Serializer):
    """The day, where to send it, and whether to send it again."""

    as_of = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="The day (YYYY-MM-DD); today when left out."
    )
    to = serializers.EmailField(
        required=False,
        allow_blank=True,
        help_text="Address to send to; left out: the customer's invoice address, else its primary contact's.",
    )
    resend = serializers.BooleanField(
        required=False, default=False, help_text="Send a statement sent already for that day once more (else 409)."
    )


SentSerializer = inline_serializer(
    "StatementSent",
    {
        "customer": serializers.IntegerField(),
        "as_of": serializers.DateField(),
        "sent_to": serializers.EmailField(),
        "sent_at": serializers.DateTimeField(),
    },
)

AS_OF = OpenApiParameter(
    "as_of", OpenApiTypes.DATE, description="The day (YYYY-MM-DD); today when left out, never later."
)
CUSTOMER_ID = OpenApiParameter("customer_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The customer's id.")
ERROR = OpenApiResponse(ERROR_SCHEMA)
NOT_READY = OpenApiResponse(
    ERROR_SCHEMA, description="The PDF is being made (`error.status`: pending, rendering or failed); retry."
)


def _money(value) -> str:
    return f"{value.quantize(aging.CENT)}"


def _item(item: statements.StatementItem) -> dict:
    return {
        "kind": item.kind,
        "id": item.record.pk,
        "number": item.number,
        "date": item.date.isoformat(),
        "due_date": item.due_date.isoformat() if item.due_date else None,
        "days_overdue": item.days_overdue,
        "bucket": item.bucket.key if item.bucket else None,
        "reference": item.reference,
        "amount": _money(item.amount),
        "open_amount": _money(item.open_amount),
        "balance": _money(item.balance),
    }


def _report(report: statements.CustomerStatement) -> dict:
    return {
        "customer": report.customer.pk,
        "customer_name": report.customer.name,
        "as_of": report.as_of.isoformat(),
        "currencies": [
            {
                "currency": section.currency,
                "items": [_item(item) for item in section.items],
                "aging": {bucket.key: _money(amount) for bucket, amount in section.buckets},
                "invoiced": _money(section.invoiced),
                "credit": _money(section.credit),
                "balance": _money(section.balance),
                "overdue": _money(section.overdue),
            }
            for section in report.currencies
        ],
    }


def _id(value) -> int | None:
    text = str(value)
    return int(text) if text.isdigit() and 0 < len(text) < 19 else None


class OneStatementSchema(AutoSchema):
    """GET …/statement/ answers one statement, not a list of them (routed as `list`)."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


@extend_schema(tags=["receivables"], parameters=[CUSTOMER_ID])
class CustomerStatementViewSet(PDFErrorsAsJSON, viewsets.GenericViewSet):
    """A customer's statement of open items: read, as PDF, and sent by email."""

    permission_classes = [IsAuthenticated, TokenScopePermission]
    pagination_class = None
    filter_backends = []
    serializer_class = StatementSendSerializer  # what OPTIONS describes (the only thing posted here)
    queryset = Customer.objects.none()  # names the model; _customer() reads the one asked for
    schema = OneStatementSchema()

    def _customer(self) -> Customer:
        pk = _id(self.kwargs.get("customer_pk"))
        customer = Customer.objects.visible_to(self.request.user).filter(pk=pk).first() if pk else None
        if customer is None:
            raise exceptions.NotFound()
        if not can_view_standing(self.request.user, customer):
            raise PermissionDenied("You may not see this customer's receivables.")
        return customer

    @extend_schema(
        summary="A customer's statement of open items as of a day",
        description="Open invoices (what each still owed at the end of the day, due date, days overdue, aging "
        "bucket) and payments with unapplied credit (negative), oldest first, with the running balance; per "
        "currency, with the aging row and the totals. Only what was dated on or before the day counts.",
        parameters=[AS_OF],
        responses={200: StatementSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def list(self, request, customer_pk=None):
        customer = self._customer()
        as_of = aging.check_query_as_of(request.query_params)
        return Response(_report(statements.statement_for(customer, as_of)))

    @extend_schema(
        summary="Download the customer's statement as PDF",
        description="The stored PDF of the statement as of the day, made when first asked for; `refresh=true` "
        "makes it anew from the ledger as it is now. While it is being made the answer is 409 with its "
        "`status` (pending, rendering or failed) and `Retry-After`: ask again (without `refresh`) to get it.",
        parameters=[
            AS_OF,
            OpenApiParameter("refresh", OpenApiTypes.BOOL, description="Make the PDF anew (then 409 until ready)."),
        ],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 400: ERROR, 403: ERROR, 404: ERROR, 409: NOT_READY},
    )
    @action(detail=False, methods=["get"], renderer_classes=[renderers.JSONRenderer, PDFRenderer])
    def pdf(self, request, customer_pk=None):
        customer = self._customer()
        as_of = aging.check_query_as_of(request.query_params)
        refresh = request.query_params.get("refresh", "false").lower()  # sent empty: refused
        if refresh not in ("true", "false", "1", "0"):
            raise exceptions.ValidationError({"refresh": ["Enter true or false."]})
        statement = Statement.objects.filter(customer=customer, as_of=as_of).first()
        document = documents.document_for(statement, statements.STATEMENT_DOCUMENT) if statement else None
        if document is None or document.is_failed or refresh in ("true", "1"):
            statement = statements.request_statement(customer=customer, by=request.user, as_of=as_of)
            document = documents.document_for(statement, statements.STATEMENT_DOCUMENT)
        if document.is_ready:
            return pdf_response(document)
        body = error_body("pdf_not_ready", f"The PDF of the statement is {document.get_status_display().lower()}.")
        body["error"]["status"] = document.status
        return Response(body, status=status.HTTP_409_CONFLICT, headers={"Retry-After": "2"})

    @extend_schema(
        summary="Email the customer its statement (the PDF attached)",
        description="The email goes out after the request with the PDF made anew. Finance managers send "
        "statements; a statement sent already for that day is sent again only with `resend: true` (else 409).",
        request=StatementSendSerializer,
        responses={200: SentSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    )
    @action(detail=False, methods=["post"])
    def send(self, request, customer_pk=None):
        customer = self._customer()
        serializer = StatementSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        statement = call_service(
            lambda: statements.send_statement(
                customer=customer,
                by=request.user,
                as_of=data.get("as_of", ""),
                to=data.get("to", ""),
                resend=data.get("resend", False),
            ),
            conflict=statements.StatementConflict,
        )
        return Response(
            {
                "customer": customer.pk,
                "as_of": statement.as_of.isoformat(),
                "sent_to": statement.sent_to,
                "sent_at": serializers.DateTimeField().to_representation(statement.sent_at),
            }
        )
