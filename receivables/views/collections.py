"""The collections worklist for clerks, and the collection actions it shares with the
customer 360's Collections panel and the rep's home page: log a call (asked for by dunning
or not), take a promise, open a dispute, hold with a reason, release a hold.

On the worklist each action is an htmx form that answers with the customer's row again
(a refusal shows in the row, next to the form); from the 360 or the home page, a plain
POST that answers with a message and goes back where it came from (`next`).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from billing.models import Invoice
from core.lists import mark_invalid_filters, remember_list_query
from core.tables import counted_page
from crm.models import Customer

from .. import dunning
from ..collections import overdue_by_customer, worklist_rows
from ..forms_dunning import DisputeForm, DunningHoldForm, PromiseForm, TaskDoneForm, WorklistFilterSet
from ..models import CollectionTask, DunningHold
from ..permissions import (
    can_complete_task,
    can_log_call,
    can_open_dispute,
    can_run_dunning,
    can_set_dunning_holds,
    can_take_promises,
    can_view_dunning,
    can_view_standing,
)

PER_PAGE = 25
TEMPLATE = "receivables/dunning/collections.html"


def _may_read(user) -> None:
    if not can_view_dunning(user):
        raise PermissionDenied("You may not see the collections worklist.")


def row_context(user, row) -> dict:
    customer = row.customer
    return {
        "row": row,
        "may_hold": can_set_dunning_holds(user),
        "may_promise": can_take_promises(user),
        "may_dispute": can_open_dispute(user, customer),
        "may_send": can_run_dunning(user),
        "may_call": can_log_call(user, customer),
    }


@require_GET
def worklist(request):
    """GET /receivables/collections/ (?owner=&level=&bucket=&page=): overdue customers,
    the largest amount × days overdue first."""
    _may_read(request.user)
    remember_list_query(request, "receivables:collections")
    today = timezone.localdate()
    invoices = Invoice.objects.visible_to(request.user)
    filterset = WorklistFilterSet(request.GET or None, queryset=invoices, as_of=today)
    shown = mark_invalid_filters(filterset.form, always_shown=("owner", "level", "bucket"))
    if filterset.is_bound and not filterset.is_valid():
        context = {"filter": filterset, "shown_filters": shown, "rows": [], "page": None, "as_of": today}
        return render(request, TEMPLATE, context, status=400)
    filtered = filterset.qs if filterset.is_bound else invoices
    # The ranking (amount × days overdue over every open invoice) is kept until an invoice
    # or a customer (the owner filter) changes; the level filter reads notices: not kept.
    keep = not (filterset.is_bound and filterset.form.cleaned_data.get("level"))
    page = counted_page(
        overdue_by_customer(filtered, today),
        request.GET.get("page"),
        PER_PAGE,
        cache_as="worklist" if keep else "",
        depends_on=(Customer,),
    )
    rows = worklist_rows(list(page.object_list), today)
    context = {
        "filter": filterset,
        "shown_filters": shown,
        "page": page,
        "rows": [row_context(request.user, row) for row in rows],
        "as_of": today,
    }
    return render(request, TEMPLATE, context)


def _one_row(customer: Customer):
    today = timezone.localdate()
    rows = worklist_rows(
        list(overdue_by_customer(Invoice.objects.filter(customer=customer), today)), today, with_invoices=True
    )
    return rows[0] if rows else None


def _row(request, customer: Customer, errors=None, done: str = ""):
    row = _one_row(customer)
    if row is None:
        return render(request, f"{TEMPLATE}#settled", {"customer": customer, "done": done})
    # One row: its action forms in it (open when they refused something), not asked for later.
    context = {**row_context(request.user, row), "errors": errors or [], "done": done, "actions_inline": True}
    return render(request, f"{TEMPLATE}#row", context)


@require_GET
def row_actions(request, pk: int):
    """GET /receivables/customers/<pk>/collection-actions/: a worklist row's action forms,
    asked for when its "Actions" is first opened (twenty-five rows of five forms each were
    most of the page's weight and time)."""
    _may_read(request.user)
    customer = _customer(request, pk)
    row = _one_row(customer)
    if row is None:
        settled = '<p class="mt-2 mb-0 text-success" role="status">{}: nothing is overdue any more.</p>'
        return HttpResponse(format_html(settled, customer.name))
    return render(request, f"{TEMPLATE}#actions", row_context(request.user, row))


def _back(request, customer: Customer):
    target = request.POST.get("next", "")
    # Only a path on this site ("1e309" would be taken for a view name by redirect()).
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return redirect(f"{reverse('crm:customer_detail', args=[customer.pk])}#collections-panel")


def _errors(form, error: ValidationError | None = None) -> list[str]:
    found = [message for messages_ in form.errors.values() for message in messages_]
    if error is not None:
        found += error.messages
    return found


def _answer(request, customer, *, errors: list[str], done: str):
    if request.htmx and request.POST.get("_from") == "worklist":
        return _row(request, customer, errors=errors, done="" if errors else done)
    for error in errors:
        messages.error(request, error)
    if not errors:
        messages.success(request, done)
    return _back(request, customer)


def _customer(request, pk: int) -> Customer:
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    if not can_view_standing(request.user, customer):
        raise PermissionDenied("You may not see this customer's receivables.")
    return customer


def _act(request, customer, form, act, done: str):
    """Validate `form`, call `act(cleaned_data)` (a dunning service), answer."""
    if not form.is_valid():
        return _answer(request, customer, errors=_errors(form), done=done)
    try:
        act(form.cleaned_data)
    except ValidationError as error:
        return _answer(request, customer, errors=_errors(form, error), done=done)
    return _answer(request, customer, errors=[], done=done)


@require_POST
def hold_set(request, pk: int):
    customer = _customer(request, pk)
    if not can_set_dunning_holds(request.user):
        raise PermissionDenied("Only finance sets dunning holds.")
    form = DunningHoldForm(request.POST, customer=customer)
    return _act(
        request,
        customer,
        form,
        lambda data: dunning.set_dunning_hold(
            customer=customer, by=request.user, reason=data["reason"], until=data["until"], invoice=data["invoice"]
        ),
        "Reminders are held.",
    )


@require_POST
def hold_release(request, pk: int):
    hold = get_object_or_404(DunningHold, pk=pk)
    customer = _customer(request, hold.customer_id)
    if not can_set_dunning_holds(request.user):
        raise PermissionDenied("Only finance releases dunning holds.")
    try:
        dunning.release_dunning_hold(hold=hold, by=request.user)
    except ValidationError as error:
        return _answer(request, customer, errors=error.messages, done="")
    return _answer(request, customer, errors=[], done="The hold is released; reminders resume with the next run.")


@require_POST
def promise_take(request, pk: int):
    customer = _customer(request, pk)
    if not can_take_promises(request.user):
        raise PermissionDenied("Only finance takes promises to pay.")
    form = PromiseForm(request.POST, customer=customer)
    return _act(
        request,
        customer,
        form,
        lambda data: dunning.take_promise(
            customer=customer,
            by=request.user,
            amount=data["amount"],
            promised_for=data["promised_for"],
            invoice=data["invoice"],
        ),
        "The promise to pay is recorded; reminders wait until its day.",
    )


@require_POST
def dispute_open(request, pk: int):
    customer = _customer(request, pk)
    if not can_open_dispute(request.user, customer):
        raise PermissionDenied("You may not open a dispute on this customer's invoices.")
    form = DisputeForm(request.POST, customer=customer)
    return _act(
        request,
        customer,
        form,
        lambda data: dunning.open_dispute(
            invoice=data["invoice"], by=request.user, amount=data["amount"], reason=data["reason"]
        ),
        "The dispute is open; its invoice is not reminded until it is resolved.",
    )


@require_POST
def send_now(request, pk: int):
    """Remind this customer now, by the same rules as a run (a run of this customer only):
    what is held or was reminded in the last 48 hours is not sent, and the row says why."""
    customer = _customer(request, pk)
    if not can_run_dunning(request.user):
        raise PermissionDenied("Only finance runs dunning.")
    today = timezone.localdate()
    planned = dunning.plan_dunning(today, [customer]).for_customer(customer.pk)
    if planned is None or not planned.lines:
        why = planned.skip_text if planned and planned.skip_text else "no invoice of theirs is due for a reminder now"
        return _answer(request, customer, errors=[f"Nothing was sent: {why}."], done="")
    try:
        dunning.run_dunning(as_of=today, by=request.user, customers=[customer])
    except ValidationError as error:
        return _answer(request, customer, errors=error.messages, done="")
    return _answer(request, customer, errors=[], done=f"The {planned.level.name} is on its way.")


@require_POST
def task_done(request, pk: int):
    """Log the owner's collection call with its outcome (one click on the home page)."""
    task = get_object_or_404(CollectionTask.objects.select_related("customer"), pk=pk)
    if not can_complete_task(request.user, task):
        raise PermissionDenied("Only the account owner or finance logs this call.")
    form = TaskDoneForm(request.POST)
    return _act(
        request,
        task.customer,
        form,
        lambda data: dunning.complete_task(task=task, by=request.user, outcome=data["outcome"], note=data["note"]),
        "The call is logged on the customer's feed.",
    )


@require_POST
def call_log(request, pk: int):
    """Log a call with the customer (clerks, the account owner), whether or not dunning
    asked for one: an open call asked of this person is the one logged."""
    customer = _customer(request, pk)
    if not can_log_call(request.user, customer):
        raise PermissionDenied("Only the account owner or finance logs a call with this customer.")
    form = TaskDoneForm(request.POST)
    return _act(
        request,
        customer,
        form,
        lambda data: dunning.log_call(customer=customer, by=request.user, outcome=data["outcome"], note=data["note"]),
        "The call is logged on the customer's feed.",
    )


urlpatterns = [
    path("receivables/collections/", worklist, name="collections"),
    path("receivables/customers/<int:pk>/dunning-hold/", hold_set, name="dunning_hold_set"),
    path("receivables/dunning-holds/<int:pk>/release/", hold_release, name="dunning_hold_release"),
    path("receivables/customers/<int:pk>/promise/", promise_take, name="promise_take"),
    path("receivables/customers/<int:pk>/dispute/", dispute_open, name="dispute_open"),
    path("receivables/customers/<int:pk>/send-now/", send_now, name="dunning_send_now"),
    path("receivables/collection-tasks/<int:pk>/done/", task_done, name="collection_task_done"),
    path("receivables/customers/<int:pk>/log-call/", call_log, name="collection_call_log"),
    path("receivables/customers/<int:pk>/collection-actions/", row_actions, name="collection_actions"),
]
