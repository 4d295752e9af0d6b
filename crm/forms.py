"""Forms of the customer pages. They shape input; who may change what is decided
by crm.permissions and enforced again by crm.services when the form is saved."""

import copy
from typing import Any

from crispy_forms.bootstrap import AppendedText
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Layout, Row
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from accounts.roles import SALES_ROLES

from .models import Contact, Customer, possible_owners
from .permissions import editable_customer_fields

# Why a field is read-only, shown as its help text so nobody wonders.
READ_ONLY_REASONS = {
    "general": "Kept by the customer's sales owner.",
    "billing": "Kept by finance.",
    "owner": "Only sales and finance managers reassign customers.",
    "credit": "Only finance managers change credit limits.",
}


def _reason(field: str) -> str:
    if field in Customer.CREDIT_FIELDS:
        return READ_ONLY_REASONS["credit"]
    if field in Customer.MANAGED_FIELDS:
        return READ_ONLY_REASONS["owner"]
    if field in Customer.BILLING_FIELDS:
        return READ_ONLY_REASONS["billing"]
    return READ_ONLY_REASONS["general"]


def _section(title: str, icon: str, *rows) -> Div:
    return Div(
        HTML(
            f'<h2 class="card-header h6 mb-0"><i class="fa-solid {icon} fa-fw me-1" aria-hidden="true"></i>{title}</h2>'
        ),
        Div(*rows, css_class="card-body"),
        css_class="card form-section mb-3",
    )


class CustomerForm(forms.ModelForm):
    """The customer record as one form, built for one user: the fields they may
    not change are shown disabled, with the reason as help text."""

    class Meta:
        model = Customer
        fields = [
            *Customer.GENERAL_FIELDS,
            *Customer.MANAGED_FIELDS,
            *Customer.BILLING_FIELDS,
            *Customer.CREDIT_FIELDS,
        ]
        labels = {"payment_days": "Days", "credit_limit": "Credit limit"}
        widgets = {"credit_limit": forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        customer = self.instance if self.instance.pk else None
        self.editable = editable_customer_fields(user, customer)
        owner = self.fields["owner"]
        if customer is not None:
            # The current owner stays selectable even if they have left sales since.
            owner.queryset = get_user_model().objects.filter(
                Q(pk__in=possible_owners().values("pk")) | Q(pk=customer.owner_id)
            )
        else:
            owner.queryset = possible_owners()
            if user.has_role(*SALES_ROLES):
                self.initial.setdefault("owner", user.pk)  # whoever sells it owns it, unless they name another
        for name, field in self.fields.items():
            if name not in self.editable:
                field.disabled = True
                field.help_text = _reason(name)
        first_editable = next((field for field in self.fields.values() if not field.disabled), None)
        if first_editable is not None:
            first_editable.widget.attrs["autofocus"] = True  # keyboard users start typing at once
        self.helper = self._build_helper()

    def _build_helper(self) -> FormHelper:
        currency = self.instance.currency if self.instance.pk else settings.DEFAULT_CURRENCY
        helper = FormHelper(self)
        helper.form_tag = False
        helper.layout = Layout(
            _section(
                "General",
                "fa-building",
                Row(Column("name", css_class="col-md-8"), Column("status", css_class="col-md-4")),
                Row(Column("email"), Column("phone")),
                Row(Column("owner", css_class="col-md-6")),
            ),
            _section(
                "Billing",
                "fa-file-invoice",
                Row(Column("legal_name", css_class="col-md-8"), Column("tax_id", css_class="col-md-4")),
                Row(Column("address_line1"), Column("address_line2")),
                Row(
                    Column("postal_code", css_class="col-md-3"),
                    Column("city", css_class="col-md-4"),
                    Column("region", css_class="col-md-3"),
                    Column("country", css_class="col-md-2"),
                ),
                Row(
                    Column("currency", css_class="col-md-2"),
                    Column("payment_terms", css_class="col-md-6"),
                    Column(Field("payment_days", css_class="text-end"), css_class="col-md-4"),
                ),
            ),
            _section(
                "Credit",
                "fa-scale-balanced",
                Row(Column(AppendedText("credit_limit", currency, css_class="text-end"), css_class="col-md-6")),
            ),
        )
        return helper

    def changes(self) -> dict[str, Any]:
        """What to hand to the service: the cleaned values of the fields this user
        may edit, plus any value posted for a read-only one.

        Browsers never send disabled fields, so a read-only field that arrives
        with a different value is someone trying to change what they may not;
        passing it on lets crm.services refuse it (403) instead of the page
        quietly ignoring it.
        """
        data = {name: value for name, value in self.cleaned_data.items() if not self.fields[name].disabled}
        for name, field in self.fields.items():
            if not field.disabled or self.add_prefix(name) not in self.data:
                continue
            raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            enabled = copy.copy(field)
            enabled.disabled = False
            if enabled.has_changed(self.get_initial_for_field(field, name), raw):
                try:
                    data[name] = field.clean(raw)
                except ValidationError:
                    data[name] = raw
        return data

    def _get_validation_exclusions(self):
        # The model's constraints would report a duplicate tax id as a form-wide error,
        # and only when typed exactly as stored. crm.services normalises the tax id
        # first and reports a duplicate on the field, so the form leaves it to them.
        return super()._get_validation_exclusions() | {"tax_id"}


class ContactForm(forms.ModelForm):
    """A contact's details, edited inline in the customer's contacts panel."""

    class Meta:
        model = Contact
        fields = ["name", "job_title", "email", "phone", "is_primary"]
        labels = {"is_primary": "Primary contact"}
        help_texts = {"is_primary": "Invoices and reminders are addressed to the primary contact."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autofocus"] = True


class FastSelect(forms.Select):
    """A plain <select>, rendered in Python rather than one template per option.

    The filter bar is drawn on every list view; Django's template-based select
    cost more than the table's 25 rows. Same markup, no option groups."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = {str(v) for v in self.format_value(value)}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((str(v), " selected" if str(v) in selected else "", label) for v, label in self.choices),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', name, flatatt(self.build_attrs(self.attrs, attrs)), options
        )


def prepare_filter_form(form: forms.Form) -> forms.Form:
    """Dress CustomerFilterSet's form for the bar above the customer table.

    The bar is laid out in the template by hand rather than with crispy-forms:
    it is drawn on every list view, and crispy's layout rendering cost more than
    the table's rows.
    """
    # An empty filter means "all", so say so instead of Django's "---------".
    form.fields["owner"].empty_label = "All owners"
    status = form.fields["status"]
    status.empty_label = "All statuses"
    status.choices = Customer.Status.choices  # re-set so the widget sees the new label
    form.fields["q"].widget.input_type = "search"
    form.fields["q"].widget.attrs.update({"class": "form-control", "placeholder": "Name, legal name, email or tax ID"})
    for name in ("owner", "status"):
        field = form.fields[name]
        field.widget = FastSelect(attrs={"class": "form-select"}, choices=field.choices)
    return form
