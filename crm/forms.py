"""Forms of the customer pages. They shape input; who may change what is decided
by crm.permissions and enforced again by crm.services when the form is saved."""

import copy
from typing import Any

from crispy_forms.bootstrap import AppendedText
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Row
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from accounts.roles import SALES_ROLES
from core.forms import FormSection, MoneyField, SearchableSelect, editable_first
from core.icons import icon

from .cases import case_owner_choices
from .filters import BillingDetails
from .leads import customer_data_from
from .models import Contact, Customer, Lead, Product, ServiceCase, Stage, TaxRate, owner_choices, possible_owners
from .permissions import CUSTOMER_FIELDS, can_reassign

STALE_CUSTOMER = (
    "This customer was changed by someone else since you opened it. Review the current values below and save again."
)


class CustomerForm(forms.ModelForm):
    """The customer record as one form, built for one user: the sections they may
    change come first, and the fields they may not (crm.permissions.CUSTOMER_FIELDS)
    are listed after them with who keeps them (core.forms.editable_first). It carries
    the version it was opened with, so a save over someone else's change is refused
    instead of overwriting it."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = Customer
        fields = list(CUSTOMER_FIELDS.fields)
        labels = {"payment_days": "Days", "credit_limit": "Credit limit"}
        field_classes = {"credit_limit": MoneyField}  # typed and shown in the user's format
        widgets = {"country": SearchableSelect, "currency": SearchableSelect}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        customer = self.instance if self.instance.pk else None
        self.editable = CUSTOMER_FIELDS.editable(user, customer)
        self.fields["owner"].queryset = owner_choices(customer)
        if customer is None:
            if user.has_role(*SALES_ROLES):
                self.initial.setdefault("owner", user.pk)  # whoever sells it owns it, unless they name another
            else:
                # Someone outside sales creates it for a rep, and must say which one.
                self.fields["owner"].help_text = "The sales rep who owns this customer."
        else:
            self.initial.setdefault("version", customer.version)
        for name in CUSTOMER_FIELDS.fields:
            if name not in self.editable:
                self.fields[name].disabled = True  # not drawn; a value posted anyway is refused (changes())
        self.helper = self._build_helper()
        first_editable = next(
            (field for field in self.fields.values() if not field.disabled and not field.widget.is_hidden), None
        )
        if first_editable is not None:
            first_editable.widget.attrs["autofocus"] = True  # keyboard users start typing at once

    def _build_helper(self) -> FormHelper:
        currency = self.instance.currency if self.instance.pk else settings.DEFAULT_CURRENCY
        helper = FormHelper(self)
        helper.form_tag = False
        sections = [
            FormSection(
                "General",
                icon("building", "icon-fw me-1"),
                Row(Column("name", css_class="col-md-8"), Column("status", css_class="col-md-4")),
                Row(Column("email"), Column("phone")),
                Row(Column("owner", css_class="col-md-6")),
            ),
            FormSection(
                "Billing",
                icon("file-invoice", "icon-fw me-1"),
                Row(Column("legal_name", css_class="col-md-8"), Column("tax_id", css_class="col-md-4")),
                Row(Column("address_line1"), Column("address_line2")),
                Row(
                    Column("postal_code", css_class="col-md-3"),
                    Column("city", css_class="col-md-5"),
                    Column("region", css_class="col-md-4"),
                ),
                Row(Column("country", css_class="col-md-6"), Column("currency", css_class="col-md-6")),
                Row(
                    Column("payment_terms", css_class="col-md-8"),
                    Column(Field("payment_days", css_class="text-end"), css_class="col-md-4"),
                ),
            ),
            FormSection(
                "Credit",
                icon("scale-balanced", "icon-fw me-1"),
                Row(Column(AppendedText("credit_limit", currency, css_class="text-end"), css_class="col-md-6")),
            ),
        ]
        helper.layout = editable_first(self, sections, policy=CUSTOMER_FIELDS, editable=self.editable)
        return helper

    def changes(self) -> dict[str, Any]:
        """What to hand to the service: the cleaned values of the fields this user
        may edit, plus any value posted for a read-only one.

        Browsers never send disabled fields, so a read-only field that arrives
        with a different value is someone trying to change what they may not;
        passing it on lets crm.services refuse it (403) instead of the page
        quietly ignoring it.
        """
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if name in CUSTOMER_FIELDS.fields and not self.fields[name].disabled
        }
        for name in CUSTOMER_FIELDS.fields:
            field = self.fields[name]
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

    @property
    def opened_version(self) -> int | None:
        """The version of the customer the user opened the form on."""
        return self.cleaned_data.get("version")

    def stale(self, current: Customer) -> None:
        """Someone else saved `current` meanwhile: say so, show what they changed,
        and carry the current version so saving again is a deliberate overwrite."""
        self.add_error(None, STALE_CUSTOMER)
        data = self.data.copy()
        data[self.add_prefix("version")] = current.version
        self.data = data
        # The form was built on the record as stored now, so its initial values
        # are the current ones: list those that differ from what was typed.
        self.changed_by_others = [
            (field.label, self._display(current, name))
            for name, field in self.fields.items()
            if name in CUSTOMER_FIELDS.fields
            and not field.disabled
            and field.has_changed(self.get_initial_for_field(field, name), self._raw(name))
        ]

    def _raw(self, name):
        return self.fields[name].widget.value_from_datadict(self.data, self.files, self.add_prefix(name))

    @staticmethod
    def _display(customer: Customer, name: str) -> str:
        value = getattr(customer, name)
        display = getattr(customer, f"get_{name}_display", None)
        if display is not None:
            return str(display())
        return "—" if value in (None, "") else str(value)

    def _get_validation_exclusions(self):
        # The model's constraints would report a duplicate tax id as a form-wide error,
        # and only when typed exactly as stored. crm.services normalises the tax id
        # first and reports a duplicate on the field, so the form leaves it to them.
        return super()._get_validation_exclusions() | {"tax_id"}


STALE_CONTACT = (
    "This contact was changed by someone else since you opened it. "
    "The form now shows what is stored; check it and save again."
)


class ContactForm(forms.ModelForm):
    """A contact's details, edited inline in the customer's contacts panel. Like
    the customer form it carries the version it was opened with, so a save never
    silently overwrites someone else's."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = Contact
        fields = ["name", "job_title", "email", "phone", "is_primary"]
        labels = {"is_primary": "Primary contact"}
        help_texts = {"is_primary": "Invoices and reminders are addressed to the primary contact."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("version", self.instance.version)
        self.fields["name"].widget.attrs["autofocus"] = True

    def _update_errors(self, errors):
        # An email address typed wrong is not a missing one: the model's "email or
        # phone" rule sees it empty, and would add its message to the real one.
        if {"email", "phone"} & set(self._errors) and hasattr(errors, "error_dict"):
            kept = {
                name: [error for error in field_errors if error.code != "email_or_phone"]
                for name, field_errors in errors.error_dict.items()
            }
            errors = ValidationError({name: field_errors for name, field_errors in kept.items() if field_errors})
            if not errors.error_dict:
                return
        super()._update_errors(errors)

    def changes(self) -> dict[str, Any]:
        """The contact's fields, for the service (the version travels separately)."""
        return {name: value for name, value in self.cleaned_data.items() if name != "version"}

    @property
    def opened_version(self) -> int | None:
        return self.cleaned_data.get("version")

    @classmethod
    def stale(cls, current: Contact) -> "ContactForm":
        """A fresh form on the contact as stored now, saying why it was not saved."""
        stored = forms.model_to_dict(current, fields=cls._meta.fields)
        form = cls({**stored, "version": current.version}, instance=current)
        form.full_clean()
        form.add_error(None, STALE_CONTACT)
        return form


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
    billing = form.fields["billing"]
    billing.empty_label = "Any billing details"
    billing.choices = BillingDetails.choices
    form.fields["q"].widget.input_type = "search"
    form.fields["q"].widget.attrs.update({"class": "form-control", "placeholder": "Name, legal name, email or tax ID"})
    for name in ("owner", "status", "billing"):
        field = form.fields[name]
        field.widget = FastSelect(attrs={"class": "form-select"}, choices=field.choices)
    return form


# --- leads, service cases and the catalog ---

STALE_RECORD = (
    "This record was changed by someone else since you opened it. The form shows what you typed; "
    "reload the page to see the current values, or save again to overwrite them."
)


class VersionedForm(forms.ModelForm):
    """A ModelForm that carries the version it was opened with (core.concurrency)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("version", self.instance.version)

    @property
    def opened_version(self) -> int | None:
        return self.cleaned_data.get("version")

    def changes(self) -> dict[str, Any]:
        """The cleaned fields for the service, without disabled ones and the version."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "version" and not self.fields[name].disabled
        }

    def stale(self, current) -> None:
        self.add_error(None, STALE_RECORD)
        data = self.data.copy()
        data[self.add_prefix("version")] = current.version
        self.data = data

    def _post_clean(self):
        # The services validate and save; the form only shapes input. Constraints
        # (a disqualified lead's reason) are reported by the services on their field.
        pass


class LeadForm(VersionedForm):
    class Meta:
        model = Lead
        fields = [
            "name",
            "company",
            "email",
            "phone",
            "tax_id",
            "source",
            "status",
            "disqualified_reason",
            "owner",
            "notes",
        ]
        labels = {"name": "Person's name", "disqualified_reason": "Why disqualified"}
        help_texts = {"disqualified_reason": "Needed when the status is Disqualified."}
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        lead = self.instance if self.instance.pk else None
        owners = possible_owners()
        if lead is not None:  # the current owner stays selectable after leaving sales
            owners = owners.model.objects.filter(Q(pk__in=owners.values("pk")) | Q(pk=lead.owner_id))
        self.fields["owner"].queryset = owners
        if lead is None:
            if user.has_role(*SALES_ROLES):
                self.initial.setdefault("owner", user.pk)
            self.fields["owner"].required = not user.has_role(*SALES_ROLES)
        if not can_reassign(user) and (lead is not None or user.has_role(*SALES_ROLES)):
            self.fields["owner"].disabled = True
            self.fields["owner"].help_text = "Only sales managers give a lead to another rep."
        self.fields["name"].widget.attrs["autofocus"] = True


class LeadStatusForm(forms.Form):
    """The detail page's status buttons: a new status, and a reason when disqualifying."""

    status = forms.ChoiceField(choices=Lead.Status.choices)
    disqualified_reason = forms.CharField(label="Why disqualified", max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == Lead.Status.DISQUALIFIED and not (cleaned.get("disqualified_reason") or "").strip():
            self.add_error("disqualified_reason", "Say why the lead is disqualified.")
        return cleaned


NEW_CUSTOMER = "new"


class LeadConvertForm(forms.Form):
    """Converting a lead: an existing customer it matched, or a new one (prefilled
    from the lead), and optionally a deal."""

    target = forms.ChoiceField(label="Customer", widget=forms.RadioSelect)
    name = forms.CharField(label="Customer name", max_length=200, required=False)
    tax_id = forms.CharField(label="Tax ID", max_length=40, required=False)
    email = forms.EmailField(label="Email for invoices", required=False)
    phone = forms.CharField(max_length=40, required=False)
    create_opportunity = forms.BooleanField(label="Create a deal", required=False, initial=True)
    opportunity_name = forms.CharField(
        label="Deal name", max_length=200, required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    # An ISO date (what a date input sends and shows), whatever the user's format.
    expected_close_date = forms.DateField(
        label="Expected close date",
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, lead, matches, **kwargs):
        super().__init__(*args, **kwargs)
        self.matches = matches
        choices = [(str(match.customer.pk), match.customer.name) for match in matches]
        self.fields["target"].choices = [*choices, (NEW_CUSTOMER, "Create a new customer")]
        self.initial.setdefault("target", choices[0][0] if choices else NEW_CUSTOMER)
        self.initial.setdefault("version", lead.version)
        self.initial.setdefault("opportunity_name", lead.company or lead.name)
        for name, value in customer_data_from(lead).items():
            if name in self.fields:
                self.initial.setdefault(name, value)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("target") == NEW_CUSTOMER and not (cleaned.get("name") or "").strip():
            self.add_error("name", "Name the new customer.")
        if cleaned.get("create_opportunity"):
            if not (cleaned.get("opportunity_name") or "").strip():
                self.add_error("opportunity_name", "Name the deal.")
            if not cleaned.get("expected_close_date") and "expected_close_date" not in self.errors:
                self.add_error("expected_close_date", "Enter when the deal is expected to close.")
        return cleaned

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:  # the widgets drawn by the template say they are invalid
            if name in ("opportunity_name", "expected_close_date"):
                attrs = self.fields[name].widget.attrs
                attrs["class"] = "form-control is-invalid"
                attrs["aria-describedby"] = f"id_{name}_error"

    def customer(self):
        target = self.cleaned_data["target"]
        if target == NEW_CUSTOMER:
            return None
        return next(match.customer for match in self.matches if str(match.customer.pk) == target)

    def customer_data(self) -> dict[str, Any]:
        data = {"name": self.cleaned_data["name"].strip(), "status": Customer.Status.PROSPECT}
        for name in ("tax_id", "email", "phone"):
            if self.cleaned_data.get(name):
                data[name] = self.cleaned_data[name]
        return data

    def opportunity_data(self) -> dict[str, Any]:
        return {
            "name": self.cleaned_data["opportunity_name"].strip(),
            "expected_close_date": self.cleaned_data["expected_close_date"],
        }


class ServiceCaseForm(VersionedForm):
    class Meta:
        model = ServiceCase
        fields = ["subject", "description", "severity", "status", "owner", "opportunity", "invoice_number"]
        labels = {"opportunity": "Related deal", "invoice_number": "Related invoice number"}
        help_texts = {
            "severity": "High and critical cases hold dunning of this customer while open.",
            "invoice_number": "E.g. INV-2026-000142, if the case is about an invoice.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = case_owner_choices()
        self.fields["owner"].required = False
        self.fields["owner"].help_text = "Who works the case; you, if left empty."
        self.fields["opportunity"].queryset = customer.opportunities.order_by("-created_at")
        self.fields["subject"].widget.attrs["autofocus"] = True

    def changes(self) -> dict[str, Any]:
        data = super().changes()
        if data.get("owner") is None:
            data.pop("owner", None)
        return data


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["code", "name", "description", "unit_price", "currency", "default_tax_rate", "is_active"]
        field_classes = {"unit_price": MoneyField}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def _post_clean(self):
        pass  # crm.catalog validates and saves


class TaxRateForm(forms.ModelForm):
    class Meta:
        model = TaxRate
        fields = ["name", "percentage", "is_active"]

    def _post_clean(self):
        pass


class StageForm(forms.ModelForm):
    class Meta:
        model = Stage
        fields = ["name", "order", "probability"]

    def _post_clean(self):
        pass


# --- quotes (quotes helper) ---


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class QuoteForm(forms.Form):
    """A quote's own fields: how long it holds, who it is for, and notes printed under
    the lines (crm.quotes copies the lines and terms from the deal)."""

    valid_until = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=_DateInput,
        help_text="30 days from today unless you choose another day.",
    )
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, help_text="Who the quote is addressed to."
    )
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Printed under the lines."
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.all()


class QuoteSendForm(forms.Form):
    """To whom a quote goes: a contact of the customer with an email address, or an address."""

    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False, empty_label="Another address…")
    email = forms.EmailField(required=False, help_text="Used when no contact is chosen.")
    resend = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.exclude(email="")
