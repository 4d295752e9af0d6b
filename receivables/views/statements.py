"""The customer statement page: /customers/<id>/statement/?as_of= previews what the PDF
and the email say (the open items with aging and running balance as of a day), makes
the PDF (its status polls, then Download), emails it to the customer (a second sending
for the same day asks to confirm), and turns the monthly statement on or off.

Whoever reads the customer's standing (finance, sales managers, the owning rep) sees
the page and may make the PDF; finance sends statements and chooses who gets
one monthly (receivables.permissions). A bad day is a field error, never a 500.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from core import documents
from core.document_views import STATUS_TEMPLATE, status_context
from crm.models import Customer

from .. import statements
from ..forms_statements import MonthlyStatementForm, StatementDateForm, StatementSendForm
from ..models import Standing, Statement
from ..permissions import can_manage_statements, can_view_standing

TEMPLATE = "receivables/statement.html"


def _customer(request, pk: int) -> Customer:
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    if not can_view_standing(request.user, customer):
        raise PermissionDenied("You may not see this customer's receivables.")
    return customer


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


def _page(request, customer, as_of, *, date_form=None, send_form=None, status=200):
    """The page for `as_of` (None: the date was refused, nothing to show but the form)."""
    may_manage = can_manage_statements(request.user)
    context = {
        "customer": customer,
        "as_of": as_of,
        "date_form": date_form or StatementDateForm(initial={"as_of": as_of}),
        "may_manage": may_manage,
    }
    if as_of is not None:
        statement = Statement.objects.filter(customer=customer, as_of=as_of).first()
        context.update(
            report=statements.statement_for(customer, as_of),
            statement=statement,
            document=documents.document_for(statement, statements.STATEMENT_DOCUMENT) if statement else None,
        )
        if may_manage:
            recipient = statements.statement_recipient(customer)
            context["send_form"] = send_form or StatementSendForm(initial={"as_of": as_of, "to": recipient})
    if may_manage:
        monthly = Standing.objects.filter(customer=customer).values_list("monthly_statement", flat=True).first()
        context["monthly_form"] = MonthlyStatementForm(initial={"monthly": bool(monthly)})
        context["monthly"] = bool(monthly)
    return render(request, TEMPLATE, context, status=status)


@require_GET
def customer_statement(request, pk: int):
    """GET /customers/<id>/statement/?as_of=: the statement as of the day (today when empty)."""
    customer = _customer(request, pk)
    form = StatementDateForm(request.GET)
    if not form.is_valid():
        return _page(request, customer, None, date_form=form, status=400)
    return _page(request, customer, form.cleaned_data["as_of"], date_form=form)


@require_POST
def statement_pdf(request, pk: int):
    """Make the statement's PDF anew; htmx gets the status partial, which polls."""
    customer = _customer(request, pk)
    form = StatementDateForm(request.POST)
    if not form.is_valid():
        return _page(request, customer, None, date_form=form, status=400)
    statement = statements.request_statement(customer=customer, by=request.user, as_of=form.cleaned_data["as_of"])
    document = documents.document_for(statement, statements.STATEMENT_DOCUMENT)
    if request.htmx:
        return render(request, STATUS_TEMPLATE, status_context(request, document))
    messages.success(request, "The statement's PDF is being made.")
    return redirect(statement.get_absolute_url())


@require_POST
def statement_send(request, pk: int):
    """Email the statement; sending it again for the same day needs the confirmation ticked."""
    customer = _customer(request, pk)
    if not can_manage_statements(request.user):
        raise PermissionDenied("Only finance sends statements.")
    form = StatementSendForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            statement = statements.send_statement(
                customer=customer, by=request.user, as_of=data["as_of"], to=data["to"], resend=data["resend"]
            )
        except statements.StatementConflict as error:
            form.add_error("resend", _message(error))
        except ValidationError as error:
            form.add_error(None, error if hasattr(error, "error_dict") else _message(error))
        else:
            messages.success(request, f"Sending the statement to {statement.sent_to}.")
            return redirect(statement.get_absolute_url())
    as_of = form.cleaned_data.get("as_of")
    return _page(request, customer, as_of, send_form=form if as_of else None, status=400)


@require_POST
def statement_monthly(request, pk: int):
    """Turn the customer's monthly statement on or off."""
    customer = _customer(request, pk)
    form = MonthlyStatementForm(request.POST)
    form.is_valid()  # a checkbox: anything but "on" is off
    enabled = bool(form.cleaned_data.get("monthly"))
    statements.set_monthly_statement(customer=customer, by=request.user, enabled=enabled)
    if enabled:
        messages.success(request, f"{customer.name} gets a statement on the 1st of each month.")
    else:
        messages.success(request, f"{customer.name} no longer gets a monthly statement.")
    return redirect("receivables:customer_statement", pk=customer.pk)


urlpatterns = [
    path("customers/<int:pk>/statement/", customer_statement, name="customer_statement"),
    path("customers/<int:pk>/statement/pdf/", statement_pdf, name="statement_pdf"),
    path("customers/<int:pk>/statement/send/", statement_send, name="statement_send"),
    path("customers/<int:pk>/statement/monthly/", statement_monthly, name="statement_monthly"),
]
