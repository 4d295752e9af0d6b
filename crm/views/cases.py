"""Service case pages: the list (open cases first), logging a case on a customer,
the case's page with its feed, and editing it. Everything goes through crm.cases."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils.functional import cached_property
from django.views.generic import CreateView, DetailView, UpdateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.concurrency import StaleVersion
from core.lists import ListPageMixin, mark_invalid_filters, missing_page_notice
from core.tables import CappedPaginator

from .. import cases
from ..filters import ServiceCaseFilterSet
from ..forms import ServiceCaseForm
from ..models import Customer, ServiceCase
from ..permissions import can_edit_case, can_log_case
from ..tables import ServiceCaseTable
from .leads import dress_filter_form

FILTER_PARAMS = ("q", "status", "severity", "owner", "customer", "open")
SEVERITY_RANK = {"critical": 0, "high": 1, "normal": 2, "low": 3}


def with_list_order(queryset):
    """Open cases first, the most severe first among them, then the newest."""
    return queryset.annotate(
        closed_rank=Case(
            When(status__in=ServiceCase.CLOSED_STATUSES, then=Value(1)), default=Value(0), output_field=IntegerField()
        ),
        severity_rank=Case(
            *(When(severity=severity, then=Value(rank)) for severity, rank in SEVERITY_RANK.items()),
            default=Value(9),
            output_field=IntegerField(),
        ),
    )


class CaseViewMixin(PermissionRequiredMixin):
    permission_required = "crm.view_servicecase"

    def get_queryset(self):
        return ServiceCase.objects.visible_to(self.request.user).select_related("customer", "owner")


class CaseListView(CaseViewMixin, ListPageMixin, SingleTableMixin, FilterView):
    list_key = "crm:case_list"
    filterset_class = ServiceCaseFilterSet
    table_class = ServiceCaseTable
    table_pagination = {"per_page": 25, "paginator_class": CappedPaginator}
    template_name = "crm/case_list.html"

    def get_queryset(self):
        return with_list_order(super().get_queryset()).order_by("closed_rank", "severity_rank", "-created_at", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = dress_filter_form(
            context["filter"].form,
            {
                "status": ("All statuses", ServiceCase.Status.choices),
                "severity": ("All severities", ServiceCase.Severity.choices),
                "owner": ("All owners", None),
            },
            "Subject, customer or invoice number",
        )
        form.fields["customer"].widget.attrs["class"] = "form-control"
        context["shown_filters"] = mark_invalid_filters(form, always_shown=("q", "status", "severity", "owner"))
        context["page_notice"] = missing_page_notice(self.request, context["table"])
        context["is_filtered"] = any(self.request.GET.get(param) for param in FILTER_PARAMS)
        return context


class CaseDetailView(CaseViewMixin, DetailView):
    template_name = "crm/case_detail.html"
    context_object_name = "case"

    def get_queryset(self):
        return super().get_queryset().select_related("opportunity", "created_by", "customer__owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_edit"] = can_edit_case(self.request.user, self.object)
        return context


class CaseFormMixin(CaseViewMixin):
    form_class = ServiceCaseForm
    template_name = "crm/case_form.html"

    def form_valid(self, form):
        try:
            self.object = self.save(form)
        except StaleVersion:
            form.stale(current=ServiceCase.objects.get(pk=self.object.pk))
            return self.form_invalid(form)
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message % {"subject": self.object.subject})
        return redirect(self.object)


class CaseCreateView(CaseFormMixin, CreateView):
    """Log a case on the customer (customers/<pk>/cases/new/)."""

    success_message = "Logged the case “%(subject)s”."

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_log_case(request.user):
            raise PermissionDenied("You may not log service cases.")
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def customer(self) -> Customer:
        return get_object_or_404(Customer.objects.visible_to(self.request.user), pk=self.kwargs["pk"])

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "customer": self.customer}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "customer": self.customer}

    def save(self, form):
        return cases.log_case(by=self.request.user, customer=self.customer, data=form.changes())


class CaseUpdateView(CaseFormMixin, UpdateView):
    success_message = "Saved the case “%(subject)s”."
    context_object_name = "case"

    def get_object(self, queryset=None):
        case = super().get_object(queryset)
        if not can_edit_case(self.request.user, case):
            raise PermissionDenied("You may not change this case.")
        return case

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "customer": self.object.customer}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "customer": self.object.customer}

    def save(self, form):
        return cases.update_case(
            case=self.object, by=self.request.user, data=form.changes(), expected_version=form.opened_version
        )


urlpatterns = [
    path("cases/", CaseListView.as_view(), name="case_list"),
    path("customers/<int:pk>/cases/new/", CaseCreateView.as_view(), name="case_create"),
    path("cases/<int:pk>/", CaseDetailView.as_view(), name="case_detail"),
    path("cases/<int:pk>/edit/", CaseUpdateView.as_view(), name="case_edit"),
]
