"""Lead pages: list, record page (status actions, feed), create, edit, and convert.

Views parse the request, call crm.leads and render; who may do what comes from
crm.permissions and is enforced again by the services.
"""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import CreateView, DetailView, UpdateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.concurrency import StaleVersion
from core.lists import ListPageMixin, mark_invalid_filters, missing_page_notice
from core.tables import CappedPaginator

from .. import leads
from ..filters import LeadFilterSet
from ..forms import LeadConvertForm, LeadForm, LeadStatusForm
from ..models import Lead
from ..permissions import can_create_customer, can_create_lead, can_create_opportunity, can_edit_contacts, can_edit_lead
from ..tables import LeadTable

FILTER_PARAMS = ("q", "status", "owner", "source", "converted")


def dress_filter_form(form, empty_labels: dict[str, tuple[str, list | None]], search_placeholder: str):
    """The filter bar's fields: "All …" instead of "---------" (`empty_labels`: name →
    (label, the filter's choices, or None for a model choice)), Bootstrap classes."""
    for name, (label, choices) in empty_labels.items():
        field = form.fields[name]
        field.empty_label = label
        if choices is not None:
            field.choices = choices  # re-set so the widget sees the new label
        field.widget.attrs["class"] = "form-select"
    form.fields["q"].widget.input_type = "search"
    form.fields["q"].widget.attrs.update({"class": "form-control", "placeholder": search_placeholder})
    return form


class LeadViewMixin(PermissionRequiredMixin):
    permission_required = "crm.view_lead"

    def get_queryset(self):
        return Lead.objects.visible_to(self.request.user).select_related("owner")


class LeadListView(LeadViewMixin, ListPageMixin, SingleTableMixin, FilterView):
    """Leads, newest first, with search and status / owner / source filters."""

    list_key = "crm:lead_list"
    filterset_class = LeadFilterSet
    table_class = LeadTable
    table_pagination = {"per_page": 25, "paginator_class": CappedPaginator}
    template_name = "crm/lead_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = dress_filter_form(
            context["filter"].form,
            {
                "status": ("All statuses", Lead.Status.choices),
                "owner": ("All owners", None),
                "source": ("All sources", Lead.Source.choices),
            },
            "Name, company, email or tax ID",
        )
        context["shown_filters"] = mark_invalid_filters(form, always_shown=("q", "status", "owner", "source"))
        context["page_notice"] = missing_page_notice(self.request, context["table"])
        context["is_filtered"] = any(self.request.GET.get(param) for param in FILTER_PARAMS)
        context["can_create"] = can_create_lead(self.request.user)
        return context


def lead_page_context(request, lead: Lead, *, status_form=None) -> dict:
    user = request.user
    return {
        "lead": lead,
        "object": lead,
        "can_edit": can_edit_lead(user, lead) and not lead.is_converted,
        "can_convert": can_edit_lead(user, lead) and not lead.is_converted and lead.status != Lead.Status.DISQUALIFIED,
        "status_form": status_form or LeadStatusForm(initial={"status": lead.status, "version": lead.version}),
        "statuses": [(value, label) for value, label in Lead.Status.choices if value != Lead.Status.DISQUALIFIED],
    }


class LeadDetailView(LeadViewMixin, DetailView):
    template_name = "crm/lead_detail.html"
    context_object_name = "lead"

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "opportunity", "contact", "converted_by")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **lead_page_context(self.request, self.object)}


class LeadFormMixin(LeadViewMixin):
    form_class = LeadForm
    template_name = "crm/lead_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        try:
            self.object = self.save(form)
        except StaleVersion:
            form.stale(current=Lead.objects.get(pk=self.object.pk))
            return self.form_invalid(form)
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message % {"name": self.object})
        return redirect(self.object)


class LeadCreateView(LeadFormMixin, CreateView):
    success_message = "Created the lead %(name)s."

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_create_lead(request.user):
            raise PermissionDenied("You may not create leads.")
        return super().dispatch(request, *args, **kwargs)

    def save(self, form):
        return leads.create_lead(by=self.request.user, data=form.changes())


class LeadUpdateView(LeadFormMixin, UpdateView):
    success_message = "Saved %(name)s."
    context_object_name = "lead"

    def get_object(self, queryset=None):
        lead = super().get_object(queryset)
        if not can_edit_lead(self.request.user, lead):
            raise PermissionDenied("You may not change this lead.")
        if lead.is_converted:
            raise PermissionDenied(leads.CONVERTED_IS_READ_ONLY)
        return lead

    def save(self, form):
        return leads.update_lead(
            lead=self.object, by=self.request.user, data=form.changes(), expected_version=form.opened_version
        )


class LeadActionMixin(LeadViewMixin):
    """A POST on one lead by someone who may change it (403 otherwise)."""

    @cached_property
    def lead(self) -> Lead:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def has_permission(self):
        return super().has_permission() and can_edit_lead(self.request.user, self.lead)


class LeadStatusView(LeadActionMixin, View):
    """The record page's status buttons and the disqualify form."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = LeadStatusForm(request.POST)
        if form.is_valid():
            data = {"status": form.cleaned_data["status"]}
            if data["status"] == Lead.Status.DISQUALIFIED:
                data["disqualified_reason"] = form.cleaned_data["disqualified_reason"].strip()
            try:
                lead = leads.update_lead(
                    lead=self.lead, by=request.user, data=data, expected_version=form.cleaned_data["version"]
                )
            except StaleVersion:
                form.add_error(None, "Someone changed this lead meanwhile; check its status and try again.")
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"{lead} is now {lead.get_status_display().lower()}.")
                return redirect(lead)
        context = lead_page_context(request, self.lead, status_form=form)
        return render(request, "crm/lead_detail.html", context, status=400)


class LeadConvertView(LeadActionMixin, View):
    """Convert the lead: the customers it matches (tax ID, email domain, name) to pick
    from, or a new one prefilled from the lead; optionally a deal. Redirects to the
    deal if one was made, else to the customer."""

    template_name = "crm/lead_convert.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.has_permission():
            if self.lead.is_converted:
                messages.info(request, "This lead is converted already.")
                return redirect(self.lead)
            if self.lead.status == Lead.Status.DISQUALIFIED:
                messages.error(request, leads.DISQUALIFIED_CANNOT_CONVERT)
                return redirect(self.lead)
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def matches(self):
        return leads.find_matches(self.lead)

    def render_form(self, form, status=200):
        user = self.request.user
        groups = [
            (label, [m for m in self.matches if m.reason == reason]) for reason, label in leads.REASON_LABELS.items()
        ]
        context = {
            "lead": self.lead,
            "form": form,
            "match_groups": [(label, found) for label, found in groups if found],
            "matches": self.matches,
            "contact_warnings": {m.customer.pk for m in self.matches if not can_edit_contacts(user, m.customer)},
            "can_create_customer": can_create_customer(user),
            "can_create_opportunity": can_create_opportunity(user),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, *args, **kwargs):
        return self.render_form(LeadConvertForm(lead=self.lead, matches=self.matches))

    def post(self, request, *args, **kwargs):
        form = LeadConvertForm(request.POST, lead=self.lead, matches=self.matches)
        if not form.is_valid():
            return self.render_form(form, status=400)
        customer = form.customer()
        try:
            lead = leads.convert_lead(
                lead=self.lead,
                by=request.user,
                customer=customer,
                customer_data=form.customer_data() if customer is None else None,
                create_opportunity=form.cleaned_data["create_opportunity"],
                opportunity_data=form.opportunity_data() if form.cleaned_data["create_opportunity"] else None,
                expected_version=form.cleaned_data["version"],
            )
        except leads.LeadAlreadyConverted:
            messages.info(request, "This lead is converted already.")
            return redirect(self.lead)
        except StaleVersion:
            form.add_error(None, "Someone changed this lead meanwhile; check it and convert again.")
            return self.render_form(form, status=400)
        except PermissionDenied as error:
            form.add_error(None, str(error))
            return self.render_form(form, status=403)
        except ValidationError as error:
            _add_conversion_errors(form, error)
            return self.render_form(form, status=400)
        messages.success(request, f"Converted {lead} into {lead.customer}.")
        if lead.opportunity is not None:
            return redirect("crm:opportunity_detail", lead.opportunity.pk)
        return redirect(lead.customer)


# The service's field names → the convert form's.
_CONVERT_FIELDS = {"name": "name", "tax_id": "tax_id", "email": "email", "phone": "phone"}


def _add_conversion_errors(form: LeadConvertForm, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages_ in error.message_dict.items():
        target = _CONVERT_FIELDS.get(name)
        if target is None:
            label = "" if name in ("__all__", "opportunity", "customer") else f"{name.replace('_', ' ')}: "
            for message in messages_:
                form.add_error(None, f"{label}{message}")
        else:
            form.add_error(target, messages_)


urlpatterns = [
    path("leads/", LeadListView.as_view(), name="lead_list"),
    path("leads/new/", LeadCreateView.as_view(), name="lead_create"),
    path("leads/<int:pk>/", LeadDetailView.as_view(), name="lead_detail"),
    path("leads/<int:pk>/edit/", LeadUpdateView.as_view(), name="lead_edit"),
    path("leads/<int:pk>/status/", LeadStatusView.as_view(), name="lead_status"),
    path("leads/<int:pk>/convert/", LeadConvertView.as_view(), name="lead_convert"),
]
