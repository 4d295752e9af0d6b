"""Invoice and credit-note pages: the list (filters, totals of the filtered set, CSV),
a new draft for a customer, the invoice's page (header and totals, the draft's lines
editor, terms, and the actions the person's role allows: issue, PDF, send, void,
credit), credit notes, and "Invoice this deal" from a won deal's page.

Views parse the request, call billing.services and render; who may do what comes
from billing.permissions. A refusal (an empty invoice issued, a paid one voided, more
credited than is left) is a message or a field error, never a 500. The lines editor
answers htmx with a partial of the same template and works without JavaScript.
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core import documents
from core.concurrency import StaleVersion
from core.document_views import pdf_response
from core.lists import FilteredListMixin, ListPageMixin, active_filter_count, mark_invalid_filters
from core.money import round_money, tax_amount, tax_summary
from core.search import clean_query
from core.tables import CappedPaginator
from crm.forms import FastSelect
from crm.forms_opportunities import check_rows, choices_for_lines, fill_from_product, rows_from_lines, rows_from_post
from crm.models import Customer, Opportunity
from crm.search import CUSTOMER_FIELDS, ranked_search

from .. import services
from ..filters import InvoiceFilterSet
from ..forms import (
    CreditNoteForm,
    DealInvoiceForm,
    InvoiceCreateForm,
    InvoiceDraftForm,
    InvoiceSendForm,
    InvoiceVoidForm,
)
from ..models import CreditNote, CreditNoteLine, Invoice
from ..panels import shown_invoice_panels
from ..permissions import (
    can_create_invoice,
    can_credit,
    can_edit_draft,
    can_invoice_deal,
    can_issue,
    can_send,
    can_view_invoices,
    can_void,
)
from ..tables import InvoiceTable

DETAIL_TEMPLATE = "billing/invoice_detail.html"
FILTER_PARAMS = ("q", "status", "customer", "owner", "issued_from", "issued_to", "due_from", "due_to", "overdue")
SHOWN_FILTERS = ("q", "status", "owner", "overdue")
OPEN = (Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID)
CUSTOMERS_FOUND = 20
STALE_LINES = (
    "This invoice was changed by someone else since you opened it, so the lines were not saved. "
    "Check them and save again to keep yours."
)
STALE_INVOICE = "This invoice was changed by someone else since you opened it; check it and try again."

# The CSV export: header → column read straight from the database (values_list), so
# exporting 100,000 invoices never builds 100,000 model instances.
CSV_COLUMNS = {
    "Number": "number",
    "Status": "status",
    "Customer": "customer__name",
    "Customer tax ID": "customer__tax_id",
    "Deal": "opportunity__name",
    "Issue date": "issue_date",
    "Due date": "due_date",
    "Currency": "currency",
    "Subtotal": "subtotal",
    "Tax": "tax_total",
    "Total": "total",
    "Credited": "amount_credited",
    "Paid": "amount_paid",
    "Balance due": "balance_due",
    "Sent to": "sent_to",
    "Sent at": "sent_at",
}


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


def _version(request) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() and len(value) < 10 else None


class InvoiceViewMixin(PermissionRequiredMixin):
    """Every billing page needs a role that reads invoices; without one, 403."""

    permission_required = "billing.view_invoice"


def _may_read(user) -> None:
    if not can_view_invoices(user):
        raise PermissionDenied("You may not see invoices.")


# --- the list ------------------------------------------------------------------------


def invoice_totals(invoices) -> list[dict]:
    """The filtered set's count, billed total (issued, not void) and balance due (still
    open), per currency: one GROUP BY."""
    issued = Q(status__in=Invoice.OPEN_OR_SETTLED)
    return list(
        invoices.order_by()
        .values("currency")
        .annotate(
            count=Count("id"),
            total=Sum("total", filter=issued, default=Decimal("0")),
            balance=Sum("balance_due", filter=Q(status__in=OPEN), default=Decimal("0")),
        )
        .order_by("currency")
    )


def prepare_invoice_filters(form):
    """Dress InvoiceFilterSet's form for the bar above the table."""
    form.fields["q"].widget.input_type = "search"
    form.fields["q"].widget.attrs.update({"class": "form-control", "placeholder": "Number or customer"})
    status = form.fields["status"]
    form.fields["status"].widget = FastSelect(attrs={"class": "form-select"}, choices=status.choices)
    owner = form.fields["owner"]
    owner.widget = FastSelect(attrs={"class": "form-select"}, choices=owner.choices)
    overdue = form.fields["overdue"].widget
    overdue.choices = [("", "Any"), ("true", "Overdue only"), ("false", "Not overdue")]
    overdue.attrs["class"] = "form-select"
    for name in ("issued_from", "issued_to", "due_from", "due_to"):
        form.fields[name].widget.attrs["class"] = "form-control"
    return form


class InvoiceListView(InvoiceViewMixin, FilteredListMixin, ListPageMixin, SingleTableMixin, FilterView):
    """Invoices with filters, sortable and paginated, the filtered set's count and
    totals per currency after load, and a CSV export (`?_export=csv`) of exactly that
    set (core.lists)."""

    list_key = "billing:invoice_list"
    filterset_class = InvoiceFilterSet
    table_class = InvoiceTable
    table_pagination = {"per_page": 25, "paginator_class": CappedPaginator}
    template_name = "billing/invoice_list.html"
    filter_params = FILTER_PARAMS
    csv_columns = CSV_COLUMNS
    csv_name = "invoices"

    def get_queryset(self):
        return Invoice.objects.visible_to(self.request.user).select_related("customer")

    def summarize(self, queryset) -> dict:
        totals = invoice_totals(queryset)
        return {"totals": totals, "invoice_count": sum(row["count"] for row in totals)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = context["filter"]
        form = prepare_invoice_filters(filterset.form)
        valid = not filterset.is_bound or filterset.is_valid()
        customer_id = form.cleaned_data.get("customer") if filterset.is_bound and valid else None
        context["shown_filters"] = mark_invalid_filters(form, always_shown=SHOWN_FILTERS)
        context["folded_filter_count"] = active_filter_count(form, exclude=("q",))
        context["filter_customer"] = (
            Customer.objects.filter(pk=customer_id).only("id", "name").first() if customer_id else None
        )
        context["can_create"] = can_create_invoice(self.request.user)
        return context


# --- a new draft -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invoice_create(request):
    """A new draft for a customer: find the customer (`?q=`, or `?customer=<id>` from
    its page), then create the draft, whose lines are added on its page."""
    _may_read(request.user)
    if not can_create_invoice(request.user):
        raise PermissionDenied("Only finance creates invoices.")
    form = InvoiceCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            invoice = services.create_invoice(by=request.user, customer=form.cleaned_data["customer"])
        except ValidationError as error:
            form.add_error(None, _message(error))
        else:
            messages.success(request, f"Created a draft invoice for {invoice.customer.name}. Add its lines below.")
            return redirect(invoice)
    query = clean_query(request.GET.get("q", ""))  # no NUL or control characters (PostgreSQL refuses NUL)
    customers = Customer.objects.visible_to(request.user)
    found = []
    if request.GET.get("customer", "").isdigit() and len(request.GET["customer"]) < 19:
        found = list(customers.filter(pk=request.GET["customer"]))
    elif query:
        found = list(ranked_search(customers, CUSTOMER_FIELDS, query)[:CUSTOMERS_FOUND])
    context = {"form": form, "query": query, "found": found, "searched": bool(query)}
    return render(request, "billing/invoice_create.html", context, status=400 if form.errors else 200)


# --- the invoice's page ------------------------------------------------------------------


def _invoice(request, pk: int) -> Invoice:
    _may_read(request.user)
    return get_object_or_404(
        Invoice.objects.select_related("customer", "opportunity", "created_by", "issued_by"), pk=pk
    )


def lines_context(request, invoice: Invoice, rows=None, *, notice: str = "", error: str = "") -> dict:
    """The draft's lines editor: its rows (stored or as typed), what they come to
    (net, tax per line's rate, total), and whether this person may change them."""
    if rows is None:
        rows = rows_from_lines(invoice.lines.select_related("product", "tax_rate"))
    products, tax_rates = choices_for_lines(rows)
    rates = {str(rate.pk): rate.percentage for rate in tax_rates}
    net = tax = Decimal("0.00")
    for row in rows:
        if row.amount is not None:
            net += row.amount
            tax += tax_amount(row.amount, rates.get(str(row.values.get("tax_rate") or ""), Decimal("0")))
    return {
        "invoice": invoice,
        "line_rows": rows,
        "products": products,
        "tax_rates": tax_rates,
        "lines_net": round_money(net),
        "lines_tax": round_money(tax),
        "lines_total": round_money(net + tax),
        "lines_editable": can_edit_draft(request.user, invoice),
        "lines_notice": notice,
        "lines_error": error,
    }


def detail_context(request, invoice: Invoice, *, send_form=None, void_form=None, draft_form=None) -> dict:
    user = request.user
    lines = list(invoice.lines.all())
    is_open = invoice.status in OPEN
    document = None if invoice.is_draft else documents.document_for(invoice, services.INVOICE_DOCUMENT)
    if document is None and not invoice.is_draft:
        # Issued without one (the demo's history, an import): made now, on first view.
        document = documents.request_document(invoice, services.INVOICE_DOCUMENT)
    context = {
        "invoice": invoice,
        "object": invoice,
        "lines": lines,
        "taxes": tax_summary(lines),
        "credit_notes": list(invoice.credit_notes.all()),
        "today": timezone.localdate(),
        "is_overdue": is_open and invoice.due_date < timezone.localdate(),
        "document": document,
        "may_issue": invoice.is_draft and can_issue(user),
        "may_send": can_send(user) and (is_open or invoice.status == Invoice.Status.PAID),
        "may_void": (can_void(user) and is_open and invoice.amount_paid == 0 and invoice.amount_credited == 0),
        "may_credit": can_credit(user) and is_open,
        "may_edit": can_edit_draft(user, invoice),
        # Panels of the apps above billing (receivables: the credit hold on a draft).
        "invoice_panels": shown_invoice_panels(request, invoice),
    }
    if context["may_send"]:
        context["send_form"] = send_form or InvoiceSendForm(initial={"to": services.default_recipient(invoice)})
    if context["may_void"]:
        context["void_form"] = void_form or InvoiceVoidForm()
    if context["may_edit"]:
        context["draft_form"] = draft_form or InvoiceDraftForm(instance=invoice)
        context.update(lines_context(request, invoice))
    return context


@require_GET
def invoice_detail(request, pk: int):
    invoice = _invoice(request, pk)
    return render(request, DETAIL_TEMPLATE, detail_context(request, invoice))


class InvoiceLinesView(View):
    """The draft's lines editor (a panel of the invoice page), as the deal's.

    POST with `_action=add` adds an empty row, `_remove=<n>` takes row n away,
    `_fill=<n>` fills row n from its product, `_action=preview` prices the rows:
    none of these saves. `_action=save` replaces the draft's lines through
    billing.services.set_invoice_lines: all rows valid or nothing saved."""

    @cached_property
    def invoice(self) -> Invoice:
        return _invoice(self.request, self.kwargs["pk"])

    def get(self, request, pk):
        return self.render_panel(lines_context(request, self.invoice))

    def post(self, request, pk):
        invoice = self.invoice
        if not invoice.is_draft:
            refusal = f"Invoice {invoice.number} is issued: its lines cannot change; correct it with a credit note."
            if request.htmx:
                return self.render_panel(lines_context(request, invoice, error=refusal), status=409)
            messages.error(request, refusal)
            return redirect(invoice)
        if not can_edit_draft(request.user, invoice):
            raise PermissionDenied("Only finance edits draft invoices.")
        rows = rows_from_post(request.POST)
        action = request.POST.get("_action", "preview")
        remove, fill = request.POST.get("_remove"), request.POST.get("_fill")
        if remove is not None and remove.isdigit() and int(remove) < len(rows):
            del rows[int(remove)]
            action = "preview"
        if fill is not None and fill.isdigit() and int(fill) < len(rows):
            products = {str(product.pk): product for product in choices_for_lines(rows)[0]}
            fill_from_product(rows[int(fill)], products, invoice.currency)
            action = "preview"
        if action == "add":
            rows.append(rows_from_post({"lines-count": "1"})[0])
        if action != "save":
            check_rows(rows, invoice.currency)
            _hide_missing(rows)
            context = lines_context(request, invoice, rows)
            if action == "preview" and request.htmx and remove is None and fill is None:
                # While typing: only the figures and messages change, never the inputs being typed in.
                return render(request, f"{DETAIL_TEMPLATE}#line_figures", context)
            return self.render_panel(context)
        rows = [row for row in rows if not row.is_blank]
        if not check_rows(rows, invoice.currency):
            count = sum(1 for row in rows if row.errors)
            error = f"Nothing was saved: correct the {count} line{'s' if count != 1 else ''} marked below."
            return self.render_panel(lines_context(request, invoice, rows, error=error), status=400)
        try:
            invoice = services.set_invoice_lines(
                invoice=invoice,
                by=request.user,
                lines=[row.data() for row in rows],
                expected_version=_version(request),
            )
        except StaleVersion:
            current = _invoice(request, invoice.pk)
            return self.render_panel(lines_context(request, current, rows, error=STALE_LINES), status=409)
        except ValidationError as error:
            return self.render_panel(lines_context(request, invoice, rows, error=_message(error)), status=400)
        invoice = _invoice(request, invoice.pk)
        notice = f"Saved {len(rows)} line{'s' if len(rows) != 1 else ''}."
        if request.htmx:
            return self.render_panel(lines_context(request, invoice, notice=notice), saved=True)
        messages.success(request, notice)
        return redirect(f"{invoice.get_absolute_url()}#lines-panel")

    def render_panel(self, context, *, status: int = 200, saved: bool = False):
        if self.request.htmx:
            context = {**context, "lines_saved": saved}
            if saved:  # the header's totals and tax summary follow the saved lines
                lines = list(context["invoice"].lines.all())
                context.update(lines=lines, taxes=tax_summary(lines))
            return render(self.request, f"{DETAIL_TEMPLATE}#lines", context, status=status)
        full = {**detail_context(self.request, context["invoice"]), **context}
        return render(self.request, DETAIL_TEMPLATE, full, status=status)


def _hide_missing(rows) -> None:
    """While a row is being filled in, only what was typed wrong is flagged; what is
    still missing is said when saving."""
    for row in rows:
        row.errors = {name: errors for name, errors in row.errors.items() if str(row.values.get(name) or "").strip()}


@require_POST
def invoice_edit(request, pk: int):
    """A draft's terms and notes."""
    invoice = _invoice(request, pk)
    form = InvoiceDraftForm(request.POST, instance=Invoice.objects.get(pk=invoice.pk))
    if form.is_valid():
        try:
            services.update_draft(
                invoice=invoice, by=request.user, data=form.changes(), expected_version=form.cleaned_data["version"]
            )
        except StaleVersion:
            form.add_error(None, STALE_INVOICE)
        except services.InvoiceConflict as error:
            messages.error(request, _message(error))
            return redirect(invoice)
        except ValidationError as error:
            form.add_error(None, error if hasattr(error, "error_dict") else _message(error))
        else:
            messages.success(request, "Saved the draft's terms and notes.")
            return redirect(invoice)
    invoice = _invoice(request, pk)
    return render(request, DETAIL_TEMPLATE, detail_context(request, invoice, draft_form=form), status=400)


def _operation(request, invoice: Invoice, operate, done: str):
    """Run a service on the invoice; its refusal becomes a message on the invoice's page."""
    try:
        result = operate(invoice)
    except StaleVersion:
        messages.error(request, STALE_INVOICE)
        return redirect(invoice)
    except ValidationError as error:
        messages.error(request, _message(error))
        return redirect(invoice)
    messages.success(request, done.format(number=getattr(result, "number", "")))
    return redirect(result)


@require_POST
def invoice_issue(request, pk: int):
    invoice = _invoice(request, pk)
    return _operation(
        request,
        invoice,
        lambda invoice: services.issue_invoice(invoice=invoice, by=request.user, expected_version=_version(request)),
        "Issued invoice {number}. Its PDF is being made.",
    )


@require_POST
def invoice_send(request, pk: int):
    """Email the invoice; sending it again needs the confirmation ticked."""
    invoice = _invoice(request, pk)
    form = InvoiceSendForm(request.POST)
    if form.is_valid():
        try:
            invoice = services.send_invoice(
                invoice=invoice, by=request.user, to=form.cleaned_data["to"], resend=form.cleaned_data["resend"]
            )
        except services.InvoiceConflict as error:
            if error.code != "sent":
                messages.error(request, _message(error))
                return redirect(invoice)
            form.add_error("resend", _message(error))
        except ValidationError as error:
            form.add_error(None, error if hasattr(error, "error_dict") else _message(error))
        else:
            messages.success(request, f"Sending invoice {invoice.number} to {invoice.sent_to}.")
            return redirect(invoice)
    invoice = _invoice(request, pk)
    return render(request, DETAIL_TEMPLATE, detail_context(request, invoice, send_form=form), status=400)


@require_POST
def invoice_void(request, pk: int):
    invoice = _invoice(request, pk)
    form = InvoiceVoidForm(request.POST)
    if form.is_valid():
        try:
            invoice = services.void_invoice(invoice=invoice, by=request.user, reason=form.cleaned_data["reason"])
        except services.InvoiceConflict as error:
            messages.error(request, _message(error))
            return redirect(invoice)
        except ValidationError as error:
            form.add_error(None, error if hasattr(error, "error_dict") else _message(error))
        else:
            messages.success(request, f"Invoice {invoice.number} is void.")
            return redirect(invoice)
    return render(request, DETAIL_TEMPLATE, detail_context(request, invoice, void_form=form), status=400)


@require_GET
def invoice_pdf(request, pk: int):
    """The stored PDF; 404 while it is being made (the invoice's page shows its status)."""
    invoice = _invoice(request, pk)
    document = None if invoice.is_draft else documents.document_for(invoice, services.INVOICE_DOCUMENT)
    if document is None or not document.is_ready:
        raise Http404("The invoice's PDF is not ready yet.")
    return pdf_response(document)


# --- credit notes -----------------------------------------------------------------------


def _lines_left(invoice: Invoice) -> list:
    """The invoice's lines, each with `left`: the quantity not credited yet."""
    credited = {
        row["invoice_line"]: row["quantity"]
        for row in CreditNoteLine.objects.filter(credit_note__invoice=invoice, invoice_line__isnull=False)
        .values("invoice_line")
        .annotate(quantity=Sum("quantity"))
    }
    lines = list(invoice.lines.all())
    for line in lines:
        line.left = line.quantity - (credited.get(line.pk) or 0)
    return lines


@require_http_methods(["GET", "POST"])
def credit_note_create(request, pk: int):
    """A credit note against an issued invoice: some quantity of some lines, or
    everything not credited yet, with a reason."""
    invoice = _invoice(request, pk)
    if not can_credit(request.user):
        raise PermissionDenied("Only finance credits invoices.")
    if invoice.status not in OPEN:
        messages.error(request, "Only an issued invoice with a balance due is credited.")
        return redirect(invoice)
    lines = _lines_left(invoice)
    form = CreditNoteForm(request.POST or None, lines=lines)
    if request.method == "POST" and form.is_valid():
        try:
            note = services.credit_invoice(
                invoice=invoice, by=request.user, reason=form.cleaned_data["reason"], lines=form.chosen_lines()
            )
        except ValidationError as error:
            form.add_error(None, _message(error))
        else:
            messages.success(request, f"Made credit note {note.number}. Its PDF is being made.")
            return redirect(note)
    context = {"invoice": invoice, "form": form}
    return render(request, "billing/credit_note_form.html", context, status=400 if form.errors else 200)


@require_GET
def credit_note_detail(request, pk: int):
    _may_read(request.user)
    note = get_object_or_404(CreditNote.objects.select_related("invoice", "customer", "created_by"), pk=pk)
    lines = list(note.lines.all())
    context = {
        "note": note,
        "object": note,
        "lines": lines,
        "taxes": tax_summary(lines),
        "document": documents.document_for(note, services.CREDIT_NOTE_DOCUMENT),
    }
    return render(request, "billing/credit_note_detail.html", context)


@require_GET
def credit_note_pdf(request, pk: int):
    _may_read(request.user)
    note = get_object_or_404(CreditNote, pk=pk)
    document = documents.document_for(note, services.CREDIT_NOTE_DOCUMENT)
    if document is None or not document.is_ready:
        raise Http404("The credit note's PDF is not ready yet.")
    return pdf_response(document)


# --- "Invoice this deal" ----------------------------------------------------------------


@require_POST
def deal_invoice(request, pk: int):
    """The deal page's invoicing buttons: the whole deal, a percentage of it
    (`percent`), or what is left to invoice (`remaining`); then the new draft."""
    _may_read(request.user)
    opportunity = get_object_or_404(
        Opportunity.objects.visible_to(request.user).select_related("stage", "customer"), pk=pk
    )
    if not can_invoice_deal(request.user, opportunity):
        raise PermissionDenied("Only finance, or the deal's owner, invoices a deal.")
    percent = None
    if request.POST.get("mode") == "percent":
        form = DealInvoiceForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["percent"]))
            return redirect(f"{opportunity.get_absolute_url()}#invoicing-panel")
        percent = form.cleaned_data["percent"]
    try:
        invoice = services.invoice_opportunity(
            opportunity=opportunity, by=request.user, percent=percent, remaining=request.POST.get("mode") == "remaining"
        )
    except ValidationError as error:
        messages.error(request, _message(error))
        return redirect(f"{opportunity.get_absolute_url()}#invoicing-panel")
    messages.success(request, f"Drafted an invoice of {opportunity.name}: check it, then issue it.")
    return redirect(invoice)


urlpatterns = [
    path("invoices/", InvoiceListView.as_view(), name="invoice_list"),
    path("invoices/new/", invoice_create, name="invoice_create"),
    path("invoices/<int:pk>/", invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/lines/", InvoiceLinesView.as_view(), name="invoice_lines"),
    path("invoices/<int:pk>/edit/", invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/issue/", invoice_issue, name="invoice_issue"),
    path("invoices/<int:pk>/send/", invoice_send, name="invoice_send"),
    path("invoices/<int:pk>/void/", invoice_void, name="invoice_void"),
    path("invoices/<int:pk>/pdf/", invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/credit/", credit_note_create, name="credit_note_create"),
    path("credit-notes/<int:pk>/", credit_note_detail, name="credit_note_detail"),
    path("credit-notes/<int:pk>/pdf/", credit_note_pdf, name="credit_note_pdf"),
    path("deals/<int:pk>/invoice/", deal_invoice, name="deal_invoice"),
]
