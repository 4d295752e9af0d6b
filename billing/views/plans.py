"""Recurring billing pages: billing plans (list, record page, create and edit, stop
and activate) and billing runs ("Run billing now" with its progress bar and summary,
the list of runs).

Views parse the request, call billing.plans and render; who may do what comes from
billing.permissions: everyone reads plans and runs, finance managers keep the plans,
finance clerks and managers run billing. The run page polls the run's progress every
second (htmx) until it is done, then shows its summary; a live region announces
when it starts and when it ends, not every step.

The lists cost the same queries for 5 rows or 500: one page of rows (with each plan's
amount per period summed in the same query) and one count.
"""

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, TemplateView

from core.concurrency import StaleVersion
from core.search import clean_query
from crm.forms_opportunities import check_rows, choices_for_lines, rows_from_lines, rows_from_post
from crm.models import Customer

from .. import plans
from ..models import BillingPlan, BillingRun
from ..permissions import can_manage_plans, can_run_billing
from ..plan_filters import BillingPlanFilterSet
from ..services import ZERO

PER_PAGE = 25
PLAN_INVOICES_SHOWN = 24
STALE_PLAN = (
    "This plan was changed by someone else since you opened it, so nothing was saved. "
    "The form keeps what you entered; save again to keep it."
)


def _page(request, rows):
    paginator = Paginator(rows, PER_PAGE)
    return paginator.get_page(request.GET.get("page"))


# --- plans ---------------------------------------------------------------------------------


class PlanViewMixin(PermissionRequiredMixin):
    permission_required = "billing.view_billingplan"


def with_amounts(queryset):
    """Each plan's net amount per period (the sum of its lines), in the same query."""
    return queryset.annotate(amount=Sum("lines__amount"))


def mark_status(plan: BillingPlan) -> BillingPlan:
    plan.ended = plans.is_finished(plan)
    plan.status_label = "Stopped" if not plan.is_active else ("Ended" if plan.ended else "Active")
    plan.status_tone = {"Active": "success", "Stopped": "secondary", "Ended": "dark"}[plan.status_label]
    return plan


class PlanListView(PlanViewMixin, TemplateView):
    """Every plan: customer, name, interval, next invoice date, amount per period, status."""

    template_name = "billing/plan_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = BillingPlanFilterSet(
            self.request.GET or None,
            queryset=with_amounts(BillingPlan.objects.select_related("customer")).order_by(
                "customer__name", "name", "id"
            ),
        )
        valid = not filterset.is_bound or filterset.is_valid()
        page = _page(self.request, filterset.qs if valid else BillingPlan.objects.none())
        for plan in page.object_list:
            mark_status(plan)
        form = filterset.form
        form.fields["q"].widget.input_type = "search"
        form.fields["q"].widget.attrs.update({"class": "form-control", "placeholder": "Plan or customer"})
        for name in ("status", "interval"):
            form.fields[name].widget.attrs["class"] = "form-select"
        context.update(
            {
                "filter": filterset,
                "shown_filters": ("q", "status", "interval"),
                "page_obj": page,
                "plans": page.object_list,
                "is_filtered": any(self.request.GET.get(name) for name in ("q", "status", "interval", "customer")),
                "can_manage": can_manage_plans(self.request.user),
            }
        )
        return context


class PlanDetailView(PlanViewMixin, DetailView):
    """A plan's record page: its terms and lines, the invoices it made, its feed."""

    template_name = "billing/plan_detail.html"
    context_object_name = "plan"

    def get_queryset(self):
        return BillingPlan.objects.select_related("customer", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan = mark_status(self.object)
        lines = list(plan.lines.select_related("tax_rate").order_by("position", "id"))
        invoices = list(plan.invoices.order_by("-period_start", "-id")[:PLAN_INVOICES_SHOWN])
        for invoice in invoices:
            invoice.period_label = plans.period_label(plan, invoice.period_start)
        context.update(
            {
                "lines": lines,
                "amount": sum((line.amount for line in lines), ZERO),
                "invoices": invoices,
                "invoice_count": plan.invoices.count() if len(invoices) == PLAN_INVOICES_SHOWN else len(invoices),
                "periods_due": plans.periods_due(plan, timezone.localdate()) if plan.is_active else [],
                "can_manage": can_manage_plans(self.request.user),
            }
        )
        return context


class PlanForm(forms.Form):
    """A plan's own fields; its lines come from the lines table of the same form.
    billing.plans checks them (end before start, auto-send without auto-issue…)."""

    name = forms.CharField(
        label="Plan name",
        max_length=200,
        help_text="What the customer is billed for, e.g. “Support 24/7”: each invoice line names its period.",
    )
    interval = forms.ChoiceField(choices=BillingPlan.Interval.choices, initial=BillingPlan.Interval.MONTHLY)
    start_date = forms.DateField(
        label="First period starts",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The first invoice bills the period from this day. Periods begun already are billed by "
        "the next billing run.",
    )
    end_date = forms.DateField(
        label="Last period starts",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Empty: until stopped. No period starts after this day.",
    )
    auto_issue = forms.BooleanField(
        label="Issue automatically",
        required=False,
        initial=True,
        help_text="Issue each invoice as it is made (else it waits as a draft).",
    )
    auto_send = forms.BooleanField(
        label="Send automatically",
        required=False,
        help_text="Email each issued invoice to the customer's invoice address.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, plan: BillingPlan | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if plan is not None and not self.is_bound:
            self.initial.update({name: getattr(plan, name) for name in PLAN_FORM_FIELDS})
            self.initial["version"] = plan.version
        self.fields["name"].widget.attrs["autofocus"] = True

    def clean(self):
        # Said here as well as by billing.plans, so these show with the lines' errors at once.
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date cannot be before the start date.")
        if data.get("auto_send") and not data.get("auto_issue"):
            self.add_error("auto_send", "Only issued invoices are sent: turn on auto-issue too.")
        return data

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in PLAN_FORM_FIELDS}


PLAN_FORM_FIELDS = ("name", "interval", "start_date", "end_date", "auto_issue", "auto_send")


def _blank_rows(count: int = 1):
    return rows_from_post({"lines-count": str(count)})


class PlanFormView(PlanViewMixin, View):
    """Create or edit a plan (finance managers). The lines table adds and removes rows
    by posting the form (`_action=add`, `_remove=<n>`) without saving; `Save` saves
    the plan and its lines together, or nothing with every error shown."""

    template_name = "billing/plan_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_manage_plans(request.user):
            raise PermissionDenied("Only finance managers keep billing plans.")
        return super().dispatch(request, *args, **kwargs)

    plan: BillingPlan | None = None

    @property
    def customer(self) -> Customer:
        raise NotImplementedError

    def render_form(self, form, rows, *, error: str = "", status: int = 200):
        products, tax_rates = choices_for_lines(rows)
        context = {
            "form": form,
            "plan": self.plan,
            "customer": self.customer,
            "line_rows": rows,
            "products": products,
            "tax_rates": tax_rates,
            "lines_error": error,
        }
        return render(self.request, self.template_name, context, status=status)

    def post(self, request, *args, **kwargs):
        form = PlanForm(request.POST, plan=self.plan)
        rows = rows_from_post(request.POST)
        remove = request.POST.get("_remove")
        if remove is not None and remove.isdigit() and int(remove) < len(rows):
            del rows[int(remove)]
            return self.render_form(PlanForm(request.POST, plan=self.plan), rows or _blank_rows())
        if request.POST.get("_action") == "add":
            return self.render_form(PlanForm(request.POST, plan=self.plan), rows + _blank_rows())
        rows = [row for row in rows if not row.is_blank] or _blank_rows()
        rows_valid = check_rows([row for row in rows if not row.is_blank], self.customer.currency)
        if not form.is_valid() or not rows_valid:
            count = sum(1 for row in rows if row.errors)
            error = f"Correct the {count} line{'s' if count != 1 else ''} marked below." if count else ""
            return self.render_form(form, rows, error=error, status=400)
        lines = [row.data() for row in rows if not row.is_blank]
        try:
            plan = self.save(form, lines)
        except StaleVersion as stale:
            data = request.POST.copy()
            data["version"] = stale.current_version
            form = PlanForm(data, plan=self.plan)
            form.is_valid()
            form.add_error(None, STALE_PLAN)
            return self.render_form(form, rows, status=409)
        except ValidationError as error:
            lines_error = ""
            for field, field_messages in error.message_dict.items():
                if field in form.fields:
                    form.add_error(field, field_messages)
                elif field == "lines":
                    lines_error = " ".join(field_messages)
                else:
                    form.add_error(None, field_messages)
            return self.render_form(form, rows, error=lines_error, status=400)
        return redirect(plan)


class PlanCreateView(PlanFormView):
    """A new plan for a customer (`?customer=<id>`); without one, choose the customer first."""

    @cached_property
    def customer(self) -> Customer | None:
        value = self.request.GET.get("customer", "")
        if not value.isdigit() or len(value) > 18:
            return None
        return get_object_or_404(Customer.objects.visible_to(self.request.user), pk=int(value))

    def get(self, request):
        if self.customer is None:
            return self.choose_customer()
        form = PlanForm(initial={"start_date": timezone.localdate().replace(day=1)})
        return self.render_form(form, _blank_rows())

    def post(self, request, *args, **kwargs):
        if self.customer is None:
            return self.choose_customer()
        return super().post(request, *args, **kwargs)

    def choose_customer(self):
        query = clean_query(self.request.GET.get("q", ""))  # no NUL or control characters (PostgreSQL refuses NUL)
        found = []
        if query:
            found = list(
                Customer.objects.visible_to(self.request.user)
                .filter(name__icontains=query)
                .order_by("name", "id")
                .only("id", "name", "city", "currency")[:20]
            )
        return render(self.request, "billing/plan_customer.html", {"query": query, "customers": found})

    def save(self, form, lines):
        plan = plans.create_plan(by=self.request.user, customer=self.customer, data=form.changes(), lines=lines)
        messages.success(self.request, f"Created the billing plan {plan.name} for {self.customer.name}.")
        return plan


class PlanEditView(PlanFormView):
    @cached_property
    def plan(self) -> BillingPlan:
        return get_object_or_404(BillingPlan.objects.select_related("customer"), pk=self.kwargs["pk"])

    @property
    def customer(self) -> Customer:
        return self.plan.customer

    def get(self, request, pk):
        rows = rows_from_lines(self.plan.lines.select_related("product", "tax_rate").order_by("position", "id"))
        return self.render_form(PlanForm(plan=self.plan), rows or _blank_rows())

    def save(self, form, lines):
        plan = plans.update_plan(
            plan=self.plan,
            by=self.request.user,
            data=form.changes(),
            lines=lines,
            expected_version=form.cleaned_data.get("version"),
        )
        messages.success(self.request, f"Saved the billing plan {plan.name}.")
        return plan


class PlanActiveView(PlanViewMixin, View):
    """Stop a plan (`is_active=0`) or activate it again (`is_active=1`)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        plan = get_object_or_404(BillingPlan, pk=pk)
        if not can_manage_plans(request.user):
            raise PermissionDenied("Only finance managers keep billing plans.")
        version = request.POST.get("version", "")
        operation = plans.activate_plan if request.POST.get("is_active") == "1" else plans.stop_plan
        try:
            plan = operation(plan=plan, by=request.user, expected_version=int(version) if version.isdigit() else None)
        except StaleVersion:
            messages.error(request, "This plan was changed by someone else meanwhile; check it and try again.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if plan.is_active:
                due = plans.periods_due(plan, timezone.localdate())
                later = (
                    f" {len(due)} period{'s' if len(due) != 1 else ''} due now will be billed by the next run."
                    if due
                    else ""
                )
                messages.success(request, f"Activated {plan.name}.{later}")
            else:
                messages.success(request, f"Stopped {plan.name}: no more invoices until it is activated again.")
        return redirect(plan)


# --- runs ----------------------------------------------------------------------------------


class RunViewMixin(PermissionRequiredMixin):
    permission_required = "billing.view_billingrun"


def announcement(run: BillingRun) -> str:
    """What the live region says when the run's state changes (not at every step)."""
    if run.status == BillingRun.Status.PENDING:
        return "Billing run waiting to start."
    if run.status == BillingRun.Status.RUNNING:
        return f"Billing run started: {run.plans_total} plan{'s' if run.plans_total != 1 else ''} to bill."
    failures = len(run.failures or [])
    outcome = "done" if run.status == BillingRun.Status.DONE else "stopped"
    return (
        f"Billing run {outcome}: {run.plans_done} of {run.plans_total} plans, {run.invoices_created} invoices "
        f"created, {run.invoices_issued} issued, {run.invoices_sent} sent, "
        f"{failures} failure{'s' if failures != 1 else ''}."
    )


RUN_TONES = {
    BillingRun.Status.PENDING: "secondary",
    BillingRun.Status.RUNNING: "primary",
    BillingRun.Status.DONE: "success",
    BillingRun.Status.FAILED: "danger",
}


def mark_tone(run: BillingRun) -> BillingRun:
    run.tone = RUN_TONES.get(run.status, "secondary")
    return run


def _failure(failure: dict) -> dict:
    failure = dict(failure)
    try:
        failure["period"] = date.fromisoformat(failure["period"]) if failure.get("period") else None
    except (TypeError, ValueError):
        failure["period"] = None
    return failure


def run_context(run: BillingRun) -> dict:
    mark_tone(run)
    failures = [_failure(failure) for failure in (run.failures or []) if isinstance(failure, dict)]
    return {
        "run": run,
        "is_active": run.status in plans.ACTIVE_RUN,
        "failures": failures,
        "announcement": announcement(run),
    }


class RunListView(RunViewMixin, TemplateView):
    """ "Run billing now" (as of a day, today by default) and the runs so far."""

    template_name = "billing/run_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = _page(self.request, BillingRun.objects.select_related("started_by").order_by("-started_at", "-id"))
        today = timezone.localdate()
        may_run = can_run_billing(self.request.user)
        for run in page.object_list:
            mark_tone(run)
        context.update(
            {
                "page_obj": page,
                "runs": page.object_list,
                "today": today,
                "can_run": may_run,
                "active_run": plans.active_run() if may_run else None,
                "due_today": plans.due_plans(today).count() if may_run else None,
            }
        )
        return context


class RunStartView(RunViewMixin, View):
    """Start a run (finance) and follow it on its page; refused while one is under way."""

    http_method_names = ["post"]

    def post(self, request):
        if not can_run_billing(request.user):
            raise PermissionDenied("Only finance runs billing.")
        field = forms.DateField(required=False)
        try:
            as_of = field.clean(request.POST.get("as_of", "")) or timezone.localdate()
            run = plans.start_billing_run(by=request.user, as_of=as_of)
        except plans.BillingRunConflict as conflict:
            messages.warning(request, " ".join(conflict.messages))
            return redirect(conflict.run)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("billing:run_list")
        return redirect(run)


class RunDetailView(RunViewMixin, DetailView):
    """A run: its progress bar while it runs, then its summary."""

    template_name = "billing/run_detail.html"
    queryset = BillingRun.objects.select_related("started_by")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **run_context(self.object), "object": self.object}


@never_cache
def run_progress(request, pk: int):
    """The progress partial the run page polls (`?shown=<status the page shows>`): the
    live region is told only when the status changed."""
    if not request.user.is_authenticated:
        return redirect("login")
    if not request.user.has_perm("billing.view_billingrun"):
        raise PermissionDenied("You may not see billing runs.")
    run = get_object_or_404(BillingRun.objects.select_related("started_by"), pk=pk)
    context = {**run_context(run), "announce": request.GET.get("shown") != run.status}
    return render(request, "billing/run_detail.html#progress", context)


urlpatterns = [
    path("billing/plans/", PlanListView.as_view(), name="plan_list"),
    path("billing/plans/new/", PlanCreateView.as_view(), name="plan_create"),
    path("billing/plans/<int:pk>/", PlanDetailView.as_view(), name="plan_detail"),
    path("billing/plans/<int:pk>/edit/", PlanEditView.as_view(), name="plan_edit"),
    path("billing/plans/<int:pk>/active/", PlanActiveView.as_view(), name="plan_active"),
    path("billing/runs/", RunListView.as_view(), name="run_list"),
    path("billing/runs/start/", RunStartView.as_view(), name="run_start"),
    path("billing/runs/<int:pk>/", RunDetailView.as_view(), name="run_detail"),
    path("billing/runs/<int:pk>/progress/", run_progress, name="run_progress"),
]
