"""Disputes' pages: the list for finance (filters by status, owner and customer; open
ones first, the disputed amount per currency; a CSV of the filtered set) and a dispute's
page — its invoice, amount, reason, who opened it, its state and its feed — with the
Resolve form for finance: the outcome, a note, and the credit note on the invoice that
settles it (or a link to make one).

Views parse the request, call receivables.dunning.resolve_dispute and render; who may
see or resolve comes from receivables.permissions. The service's refusals show on the form.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Count, IntegerField, Sum, Value, When
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from billing.permissions import can_credit
from core.csv import csv_response
from core.lists import mark_invalid_filters, remember_list_query
from core.tables import counted_page

from .. import dunning
from ..forms_dunning import DisputeListFilterSet, DisputeResolveForm
from ..models import Dispute
from ..permissions import can_resolve_disputes, can_view_disputes

PER_PAGE = 25
LIST_TEMPLATE = "receivables/disputes/dispute_list.html"
CSV_HEADER = [
    "Invoice",
    "Customer",
    "Disputed amount",
    "Currency",
    "Reason",
    "Status",
    "Opened by",
    "Opened on",
    "Resolved on",
    "Resolution",
]


def _may_read(user) -> None:
    if not can_view_disputes(user):
        raise PermissionDenied("You may not see disputes.")


@require_GET
def dispute_list(request):
    """GET /receivables/disputes/ (?status=&owner=&customer=&page=, ?_export=csv): open
    disputes first, then the newest; the disputed amounts of the filtered set per currency.
    An invalid filter gets the page with its error, the CSV too."""
    _may_read(request.user)
    exporting = request.GET.get("_export") == "csv"
    if not exporting:  # the list is left as it is shown, not as it was downloaded
        remember_list_query(request, "receivables:dispute_list")
    visible = Dispute.objects.visible_to(request.user)
    filterset = DisputeListFilterSet(request.GET or None, queryset=visible, disputes=visible)
    shown = mark_invalid_filters(filterset.form, always_shown=("status", "owner", "customer"))
    context = {"filter": filterset, "shown_filters": shown, "page": None, "disputes": [], "totals": []}
    if filterset.is_bound and not filterset.is_valid():
        return render(request, LIST_TEMPLATE, context, status=400)
    filtered = filterset.qs if filterset.is_bound else visible
    ordered = filtered.order_by(
        Case(When(status=Dispute.Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()),
        "-opened_at",
        "-pk",
    )
    if exporting:
        return _disputes_csv(ordered)
    ordered = ordered.select_related("invoice__customer__owner", "opened_by")
    # The page's rows and their count in one query; junk, negative or huge page numbers
    # get the first or the last page, as Paginator.get_page would give them.
    page = counted_page(ordered, request.GET.get("page"), PER_PAGE)
    totals = list(
        filtered.order_by()
        .values("invoice__currency")
        .annotate(amount=Sum("amount"), count=Count("pk"))
        .order_by("invoice__currency")
    )
    context.update(page=page, disputes=list(page.object_list), totals=totals)
    return render(request, LIST_TEMPLATE, context)


def _disputes_csv(disputes):
    """The filtered disputes in the page's order, streamed from values_list (a big book
    never becomes model instances). Who opened one is named as the page names people; the
    days opened and resolved are the viewer's, as the page shows them."""
    rows = disputes.annotate(opened_on=TruncDate("opened_at"), resolved_on=TruncDate("resolved_at")).values_list(
        "invoice__number",
        "invoice__customer__name",
        "amount",
        "invoice__currency",
        "reason",
        "status",
        "opened_by__first_name",
        "opened_by__last_name",
        "opened_by__username",
        "opened_on",
        "resolved_on",
        "resolution_note",
    )
    data = (
        [*row[:6], User.display_name(*row[6:9]) if row[8] else "", *row[9:]] for row in rows.iterator(chunk_size=2000)
    )
    return csv_response(data, CSV_HEADER, f"disputes-{timezone.localdate():%Y-%m-%d}.csv")


def _dispute(request, pk: int) -> Dispute:
    _may_read(request.user)
    return get_object_or_404(
        Dispute.objects.visible_to(request.user).select_related(
            "invoice__customer__owner", "opened_by", "resolved_by", "credit_note"
        ),
        pk=pk,
    )


def _form_errors(form: DisputeResolveForm, error: ValidationError) -> None:
    """The service's refusal on the form: by field where it names one, else at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, field_messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, field_messages)


@require_http_methods(["GET", "POST"])
def dispute_detail(request, pk: int):
    """GET/POST /receivables/disputes/<id>/: the dispute; finance resolves it here."""
    dispute = _dispute(request, pk)
    form = None
    status = 200
    if request.method == "POST":
        if not can_resolve_disputes(request.user):
            raise PermissionDenied("Only finance resolves disputes.")
        form = DisputeResolveForm(request.POST, dispute=dispute)
        if form.is_valid():
            data = form.cleaned_data
            try:
                dunning.resolve_dispute(
                    dispute=dispute,
                    by=request.user,
                    outcome=data["outcome"],
                    note=data["note"],
                    credit_note=data["credit_note"],
                )
            except ValidationError as error:  # DunningConflict too: resolved meanwhile
                _form_errors(form, error)
            else:
                messages.success(request, "The dispute is resolved; reminders of the invoice resume.")
                return redirect(dispute)
        dispute = _dispute(request, pk)  # as it is now: resolved by someone meanwhile?
        status = 400 if dispute.is_open else 409
    elif can_resolve_disputes(request.user) and dispute.is_open:
        form = DisputeResolveForm(dispute=dispute)
    invoice = dispute.invoice
    context = {
        "dispute": dispute,
        "invoice": invoice,
        "customer": invoice.customer,
        "form": form,
        "credit_notes": list(form.fields["credit_note"].queryset) if form is not None else [],
        "may_credit": can_credit(request.user) and invoice.balance_due > 0,
    }
    return render(request, "receivables/disputes/dispute_detail.html", context, status=status)


urlpatterns = [
    path("receivables/disputes/", dispute_list, name="dispute_list"),
    path("receivables/disputes/<int:pk>/", dispute_detail, name="dispute_detail"),
]
