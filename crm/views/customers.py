"""Customer pages: list, record page with its contacts panel, create and edit.

Views parse the request, call crm.services and render; who may do what comes from
crm.permissions. An htmx request gets a partial of the same template
(`crm/customer_detail.html#contacts`), a plain request the whole page, so the
contacts panel also works without JavaScript.
"""

from copy import copy

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import CreateView, DetailView, UpdateView
from django_filters.views import FilterView
from django_htmx.http import reswap, retarget
from django_tables2 import SingleTableMixin

from accounts.roles import SALES_ROLES
from core.concurrency import StaleVersion
from core.lists import FilteredListMixin, ListPageMixin, active_filter_count, mark_invalid_filters
from core.tables import CappedPaginator

from ..fields import customer_csv_columns
from ..filters import BillingDetails, CustomerFilterSet
from ..forms import ContactForm, CustomerForm, prepare_filter_form
from ..models import Contact, Customer
from ..panels import header_badges, shown_panels
from ..permissions import CUSTOMER_FIELDS, can_create_customer, can_edit_contacts, can_edit_customer
from ..services import create_contact, create_customer, delete_contact, update_contact, update_customer
from ..tables import CustomerTable

DETAIL_TEMPLATE = "crm/customer_detail.html"
FILTER_PARAMS = ("q", "mine", "owner", "status", "billing", "currency", "updated_since")
# The filters of the bar that a phone folds away behind "Filters (n)"; search and
# the All / Mine switch stay in view.
FOLDED_FILTERS_EXCLUDE = ("q", "mine")

# The CSV export: header → column read straight from the database (values_list),
# so exporting 100,000 customers never builds 100,000 model instances.
CSV_COLUMNS = customer_csv_columns()


class CustomerViewMixin(PermissionRequiredMixin):
    """Every customer page needs a role that reads customers; without one, 403."""

    permission_required = "crm.view_customer"

    def get_queryset(self):
        return Customer.objects.visible_to(self.request.user).select_related("owner")


def customer_list_title(filters: dict) -> str:
    """The list's heading and page title, saying what is listed: "Customers",
    "My customers", "Active customers missing billing details", "Customers matching “acme”"."""
    status = filters.get("status")
    noun = f"{Customer.Status(status).label.lower()} customers" if status else "customers"
    title = f"My {noun}" if filters.get("mine") else noun.capitalize()
    if filters.get("billing") == BillingDetails.INCOMPLETE:
        title += " missing billing details"
    elif filters.get("billing") == BillingDetails.COMPLETE:
        title += " with complete billing details"
    query = (filters.get("q") or "").strip()
    if query:
        title += f" matching “{query}”"
    return title


class CustomerListView(CustomerViewMixin, FilteredListMixin, ListPageMixin, SingleTableMixin, FilterView):
    """Customers with search, an All / Mine switch, owner/status/billing filters,
    optional columns, sorting, pagination (without a COUNT: django-tables2's
    LazyPaginator), the count and credit granted after load, and a CSV export
    (`?_export=csv`) of exactly the filtered, sorted set (core.lists)."""

    list_key = "crm:customer_list"
    filterset_class = CustomerFilterSet
    table_class = CustomerTable
    table_pagination = {"per_page": 25, "paginator_class": CappedPaginator}
    template_name = "crm/customer_list.html"
    filter_params = FILTER_PARAMS
    csv_columns = CSV_COLUMNS
    csv_name = "customers"

    def summarize(self, queryset) -> dict:
        return {"customer_count": queryset.count(), "credit_totals": list(queryset.credit_totals())}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = context["filter"]
        form = prepare_filter_form(filterset.form)
        valid = not filterset.is_bound or filterset.is_valid()
        cleaned = form.cleaned_data if filterset.is_bound and valid else {}
        context["shown_filters"] = mark_invalid_filters(form, always_shown=("q", "owner", "status", "billing"))
        context["folded_filter_count"] = active_filter_count(form, exclude=FOLDED_FILTERS_EXCLUDE)
        context["can_create"] = can_create_customer(self.request.user)
        context["list_title"] = customer_list_title(cleaned)
        context["mine"] = bool(cleaned.get("mine"))
        context["offers_mine"] = self.request.user.has_role(*SALES_ROLES) or context["mine"]
        return context


def customer_page_context(request, customer: Customer, **panel) -> dict:
    """What the record page needs: the header, its badges and the panels registered
    in crm.panels, by column; the contacts panel's state comes in `panel`."""
    contacts = contacts_context(request, customer, **panel)
    if customer.updated_by_id is not None and customer.updated_by_id == customer.owner_id:
        customer.updated_by = customer.owner  # last changed by its owner, read with it: no second join
    return {
        "customer": customer,
        "object": customer,
        "can_edit": can_edit_customer(request.user, customer),
        "who_may_change": CUSTOMER_FIELDS.describe(request.user, customer),
        "due_if_issued_today": customer.due_date(timezone.localdate()),
        **contacts,
        "panels": shown_panels(request, customer, overrides={"contacts": contacts}),
        # After the panels: a badge may reuse what a panel read (the open cases).
        "badges": header_badges(request, customer),
    }


def contacts_context(request, customer: Customer, *, form=None, editing=None, notice="") -> dict:
    return {
        "customer": customer,
        "contacts": list(customer.contacts.all()),
        "can_edit_contacts": can_edit_contacts(request.user, customer),
        "contact_form": form,
        "editing_contact": editing,
        "adding_contact": form is not None and editing is None,
        "contacts_notice": notice,
    }


class CustomerDetailView(CustomerViewMixin, DetailView):
    """The customer 360: header with status badges and the facts that matter, then the
    panels crm and the apps above it register (crm.panels): billing details, contacts,
    open deals, cases, quotes, won and lost deals, the feed; invoices and aging later."""

    template_name = DETAIL_TEMPLATE
    context_object_name = "customer"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **customer_page_context(self.request, self.object)}


class CustomerFormMixin(CustomerViewMixin):
    form_class = CustomerForm
    template_name = "crm/customer_form.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        if kwargs.get("instance") is not None:
            # The form writes what was typed onto its instance; keep self.object as stored.
            kwargs["instance"] = copy(kwargs["instance"])
        return kwargs

    def form_valid(self, form):
        try:
            self.object = self.save(form.changes(), expected_version=form.opened_version)
        except StaleVersion:
            # Read again: it may have changed once more since this request began.
            self.object = self.get_object()
            form.stale(current=self.object)
            return self.form_invalid(form)
        except ValidationError as error:
            form.add_error(None, error)  # a dict of field errors lands on the fields
            return self.form_invalid(form)
        messages.success(self.request, self.success_message % {"name": self.object.name})
        return redirect(self.object)


class CustomerCreateView(CustomerFormMixin, CreateView):
    success_message = "Created %(name)s."

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_create_customer(request.user):
            raise PermissionDenied("You may not create customers.")
        return super().dispatch(request, *args, **kwargs)

    def save(self, data, expected_version=None):
        return create_customer(by=self.request.user, data=data)


class CustomerUpdateView(CustomerFormMixin, UpdateView):
    success_message = "Saved %(name)s."

    def get_object(self, queryset=None):
        customer = super().get_object(queryset)
        if not can_edit_customer(self.request.user, customer):
            raise PermissionDenied("You may not change this customer.")
        return customer

    def save(self, data, expected_version=None):
        return update_customer(customer=self.object, by=self.request.user, data=data, expected_version=expected_version)


class CustomerContactsView(CustomerViewMixin, View):
    """The contacts panel of a customer's record page.

    GET returns the panel (htmx uses it to cancel a form). The subclasses add,
    change and delete contacts: htmx gets the refreshed panel (or the form
    fragment again, with its errors), a plain POST is redirected to the record.
    """

    contact: Contact | None = None  # the contact being changed, if any

    @cached_property
    def customer(self) -> Customer:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        return self.render_panel()

    def render_panel(self, **panel):
        """The panel for htmx, the whole record page otherwise."""
        if self.request.htmx:
            return render(
                self.request, f"{DETAIL_TEMPLATE}#contacts", contacts_context(self.request, self.customer, **panel)
            )
        return render(self.request, DETAIL_TEMPLATE, customer_page_context(self.request, self.customer, **panel))

    def render_form(self, form):
        """The form fragment for htmx, the record page with the form open otherwise."""
        if self.request.htmx:
            context = {"customer": self.customer, "contact_form": form, "editing_contact": self.contact}
            return render(self.request, f"{DETAIL_TEMPLATE}#contact_form", context)
        return self.render_panel(form=form, editing=self.contact)

    def saved(self, notice: str):
        if self.request.htmx:
            response = self.render_panel(notice=notice)
            # The form asked to swap itself; on success the whole panel is replaced.
            return reswap(retarget(response, "#contacts-panel"), "outerHTML")
        messages.success(self.request, notice)
        return redirect(f"{self.customer.get_absolute_url()}#contacts-panel")


class ContactChangeView(CustomerContactsView):
    """Base of the views that change contacts: only for those who keep this
    customer's contacts (403 otherwise, htmx or not)."""

    permission_denied_message = "You may not change this customer's contacts."

    def has_permission(self):
        return super().has_permission() and can_edit_contacts(self.request.user, self.customer)

    def submit(self, form, save, verb: str):
        """Validate, save through crm.services, and answer with the refreshed panel,
        or with the form again: its errors and what was typed."""
        if form.is_valid():
            try:
                contact = save(form)
            except StaleVersion:
                # Someone saved this contact meanwhile: show what is stored now instead of overwriting it.
                return self.render_form(ContactForm.stale(Contact.objects.get(pk=self.contact.pk)))
            except ValidationError as error:
                form.add_error(None, error)  # a dict of field errors lands on the fields
            else:
                return self.saved(f"{verb} {contact.name}.")
        return self.render_form(form)


class ContactCreateView(ContactChangeView):
    def get(self, request, *args, **kwargs):
        return self.render_form(ContactForm())

    def post(self, request, *args, **kwargs):
        return self.submit(
            ContactForm(request.POST),
            lambda form: create_contact(customer=self.customer, by=request.user, data=form.changes()),
            "Added",
        )


class ContactUpdateView(ContactChangeView):
    @cached_property
    def contact(self) -> Contact:
        return get_object_or_404(Contact, pk=self.kwargs["contact_pk"], customer=self.customer)

    def get(self, request, *args, **kwargs):
        return self.render_form(ContactForm(instance=copy(self.contact)))

    def post(self, request, *args, **kwargs):
        return self.submit(
            ContactForm(request.POST, instance=copy(self.contact)),
            lambda form: update_contact(
                contact=self.contact, by=request.user, data=form.changes(), expected_version=form.opened_version
            ),
            "Saved",
        )


class ContactDeleteView(ContactUpdateView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        name = self.contact.name
        delete_contact(contact=self.contact, by=request.user)
        return self.saved(f"Deleted {name}.")
