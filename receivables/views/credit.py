"""Receivables pages: credit. Setting and releasing a manual credit hold from the
customer 360's receivables panel (finance managers); the status itself is drawn by
receivables.panels on crm's and billing's pages.

Each view parses, calls receivables.credit and goes back to the customer's page with
the outcome as a message; a refusal changes nothing (403 who may not, 404 unknown)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.views.decorators.http import require_POST

from crm.models import Customer

from .. import credit
from ..forms_credit import CreditHoldForm
from ..models import CreditHold
from ..permissions import can_set_holds


def _back(customer) -> str:
    return f"{customer.get_absolute_url()}#receivables-panel"


def _refusal(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(message for messages_ in error.message_dict.values() for message in messages_)
    return " ".join(error.messages)


@require_POST
def credit_hold_set(request, pk: int):
    """Put the customer on a manual credit hold (`reason`, optional `until`)."""
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    if not can_set_holds(request.user):
        raise PermissionDenied("Only finance managers set credit holds.")
    form = CreditHoldForm(request.POST)
    if not form.is_valid():
        problems = [
            f"{form.fields[name].label or name.capitalize()}: {' '.join(errors)}"
            for name, errors in form.errors.items()
        ]
        messages.error(request, "The hold was not set. " + " ".join(problems))
        return redirect(_back(customer))
    try:
        credit.set_hold(customer=customer, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, f"The hold was not set. {_refusal(error)}")
    else:
        messages.success(request, f"{customer.name} is on credit hold.")
    return redirect(_back(customer))


@require_POST
def credit_hold_release(request, pk: int):
    hold = get_object_or_404(
        CreditHold.objects.select_related("customer").filter(customer__in=Customer.objects.visible_to(request.user)),
        pk=pk,
    )
    try:
        credit.release_hold(hold=hold, by=request.user)
    except ValidationError as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, f"Released the manual credit hold on {hold.customer.name}.")
    return redirect(_back(hold.customer))


urlpatterns = [
    path("customers/<int:pk>/credit-hold/", credit_hold_set, name="credit_hold_set"),
    path("credit-holds/<int:pk>/release/", credit_hold_release, name="credit_hold_release"),
]
