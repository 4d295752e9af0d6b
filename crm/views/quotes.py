"""Quote pages: make a quote from a deal, the quote's page (lines, totals, taxes, the
PDF's status, send, accept/decline, new version, feed) and the PDF's download.

Every change goes through crm.quotes; a refusal (a sent quote edited, an expired quote
sent) is shown as a message or next to the field, never a 500.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import documents, money
from core.document_views import pdf_response

from .. import quotes
from ..forms import QuoteForm, QuoteSendForm
from ..models import Opportunity, Quote
from ..panels import shown_quote_panels
from ..permissions import can_quote

DETAIL_TEMPLATE = "crm/quote_detail.html"


def _may_read(user) -> None:
    if not user.has_perm("crm.view_quote"):
        raise PermissionDenied("You may not see quotes.")


def _quote(request, pk: int) -> Quote:
    _may_read(request.user)
    return get_object_or_404(
        Quote.objects.select_related(
            "opportunity__stage", "customer", "contact", "created_by", "supersedes", "superseded_by"
        ),
        pk=pk,
    )


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


@require_http_methods(["GET", "POST"])
def quote_create(request, pk: int):
    """The quote's own fields (validity, contact, notes), then a draft of the deal's lines."""
    _may_read(request.user)
    opportunity = get_object_or_404(
        Opportunity.objects.visible_to(request.user).select_related("customer", "stage"), pk=pk
    )
    if not can_quote(request.user, opportunity):
        raise PermissionDenied("Only the deal's owner (or a sales manager) makes its quotes.")
    form = QuoteForm(request.POST if request.method == "POST" else None, customer=opportunity.customer)
    if request.method == "POST" and form.is_valid():
        data = {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
        try:
            quote = quotes.create_quote(opportunity=opportunity, by=request.user, data=data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                form.add_error(None, error)
            else:
                form.add_error(None, _message(error))
        else:
            messages.success(request, f"Made quote {quote.number}. Its PDF is being made.")
            return redirect(quote)
    return render(
        request,
        "crm/quote_form.html",
        {"form": form, "opportunity": opportunity, "lines": list(opportunity.lines.all())},
        status=400 if form.errors else 200,
    )


def detail_context(request, quote: Quote, *, send_form=None, edit_form=None) -> dict:
    lines = list(quote.lines.all())
    may_quote = can_quote(request.user, quote.opportunity)
    return {
        "quote": quote,
        "object": quote,
        "opportunity": quote.opportunity,
        "lines": lines,
        "taxes": money.tax_summary(lines),
        "document": documents.document_for(quote, quotes.QUOTE_DOCUMENT),
        "can_quote": may_quote,
        "can_send": may_quote and quote.status in (Quote.Status.DRAFT, Quote.Status.SENT),
        "send_form": send_form or QuoteSendForm(customer=quote.customer, initial={"contact": quote.contact_id}),
        "edit_form": edit_form
        or QuoteForm(
            customer=quote.customer,
            initial={"valid_until": quote.valid_until, "contact": quote.contact_id, "notes": quote.notes},
        ),
        # Panels of the apps above crm (receivables' payment-risk card), crm.panels.register_quote_panel.
        "quote_panels": shown_quote_panels(request, quote),
    }


@require_GET
def quote_detail(request, pk: int):
    quote = _quote(request, pk)
    return render(request, DETAIL_TEMPLATE, detail_context(request, quote))


@require_POST
def quote_edit(request, pk: int):
    quote = _quote(request, pk)
    form = QuoteForm(request.POST, customer=quote.customer)
    if form.is_valid():
        try:
            quotes.update_quote(quote=quote, by=request.user, data=form.cleaned_data)
        except quotes.QuoteConflict as error:
            messages.error(request, _message(error))
            return redirect(quote)
        except ValidationError as error:
            form.add_error(None, error if hasattr(error, "error_dict") else _message(error))
        else:
            messages.success(request, f"Saved quote {quote.number}. Its PDF is being made anew.")
            return redirect(quote)
    quote.refresh_from_db()
    return render(request, DETAIL_TEMPLATE, detail_context(request, quote, edit_form=form), status=400)


@require_POST
def quote_send(request, pk: int):
    quote = _quote(request, pk)
    form = QuoteSendForm(request.POST, customer=quote.customer)
    if form.is_valid():
        data = form.cleaned_data
        try:
            quote = quotes.send_quote(
                quote=quote, by=request.user, contact=data["contact"], email=data["email"], resend=data["resend"]
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                form.add_error(None, error)
            else:
                form.add_error(None, _message(error))
        else:
            messages.success(request, f"Sent quote {quote.number} to {quote.sent_to}.")
            return redirect(quote)
    return render(request, DETAIL_TEMPLATE, detail_context(request, quote, send_form=form), status=400)


def _operation(request, pk: int, operate, done: str):
    quote = _quote(request, pk)
    try:
        quote = operate(quote)
    except ValidationError as error:
        messages.error(request, _message(error))
        return redirect(quote)
    messages.success(request, done.format(number=quote.number))
    return redirect(quote)


@require_POST
def quote_accept(request, pk: int):
    return _operation(
        request, pk, lambda quote: quotes.mark_accepted(quote=quote, by=request.user), "Quote {number} accepted."
    )


@require_POST
def quote_decline(request, pk: int):
    reason = request.POST.get("reason", "")
    return _operation(
        request,
        pk,
        lambda quote: quotes.mark_declined(quote=quote, by=request.user, reason=reason),
        "Quote {number} declined.",
    )


@require_POST
def quote_revise(request, pk: int):
    return _operation(
        request,
        pk,
        lambda quote: quotes.revise_quote(quote=quote, by=request.user),
        "Made {number}, a new version of the quote with the deal's lines as they are now.",
    )


@require_GET
def quote_pdf(request, pk: int):
    """The stored PDF; 404 while it is being made (the quote's page shows its status)."""
    quote = _quote(request, pk)
    document = documents.document_for(quote, quotes.QUOTE_DOCUMENT)
    if document is None or not document.is_ready:
        raise Http404("The quote's PDF is not ready yet.")
    return pdf_response(document)


urlpatterns = [
    path("deals/<int:pk>/quotes/new/", quote_create, name="quote_create"),
    path("quotes/<int:pk>/", quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/pdf/", quote_pdf, name="quote_pdf"),
    path("quotes/<int:pk>/edit/", quote_edit, name="quote_edit"),
    path("quotes/<int:pk>/send/", quote_send, name="quote_send"),
    path("quotes/<int:pk>/accept/", quote_accept, name="quote_accept"),
    path("quotes/<int:pk>/decline/", quote_decline, name="quote_decline"),
    path("quotes/<int:pk>/revise/", quote_revise, name="quote_revise"),
]
