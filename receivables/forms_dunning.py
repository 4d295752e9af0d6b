"""The collections forms (worklist rows and the customer 360's Collections panel), the
worklist's and the disputes list's filters, resolving a dispute, and a dunning policy with
its levels. Forms check the shape of the input; the dunning services refuse what the
business does not allow (a promise above the balance, a dispute above the invoice,
overlapping levels…) and the pages show their refusals on the form."""

import django_filters
from django import forms

from billing.models import CreditNote, Invoice
from core.validators import no_bidi_controls
from crm.forms import FastSelect
from crm.models import Customer, possible_owners

from . import aging
from .dunning import check_template
from .dunning_filters import DisputeFilterSet
from .models import CollectionTask, Dispute, DunningLevel, DunningNoticeLine, DunningPolicy

_SMALL = {"class": "form-control form-control-sm"}
_DATE = forms.DateInput(attrs={"type": "date", **_SMALL}, format="%Y-%m-%d")


class InvoiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, invoice):
        return f"{invoice.number} ({invoice.balance_due} {invoice.currency} open)"


def _invoices(customer):
    return Invoice.objects.open().filter(customer=customer).order_by("due_date", "pk")


class DunningHoldForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        validators=[no_bidi_controls],
        widget=forms.TextInput(attrs={**_SMALL, "placeholder": "Waiting for the PO"}),
    )
    until = forms.DateField(required=False, label="Until (optional)", widget=_DATE)
    invoice = InvoiceChoiceField(queryset=Invoice.objects.none(), required=False, empty_label="All invoices")

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = _invoices(customer)
        self.fields["invoice"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["reason"].error_messages["required"] = "Say why reminders are held."


class PromiseForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=0.01, widget=forms.NumberInput(attrs={**_SMALL, "step": "0.01"})
    )
    promised_for = forms.DateField(label="Promised for", widget=_DATE)
    invoice = InvoiceChoiceField(queryset=Invoice.objects.none(), required=False, empty_label="The whole account")

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = _invoices(customer)
        self.fields["invoice"].widget.attrs["class"] = "form-select form-select-sm"


class DisputeForm(forms.Form):
    invoice = InvoiceChoiceField(queryset=Invoice.objects.none(), empty_label="Choose the invoice")
    amount = forms.DecimalField(
        max_digits=14, decimal_places=2, min_value=0.01, widget=forms.NumberInput(attrs={**_SMALL, "step": "0.01"})
    )
    reason = forms.CharField(max_length=300, validators=[no_bidi_controls], widget=forms.TextInput(attrs=_SMALL))

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = _invoices(customer)
        self.fields["invoice"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["invoice"].error_messages["required"] = "Choose the invoice the customer disputes."


class TaskDoneForm(forms.Form):
    """A call's outcome and note: the owner's asked-for call, or a call logged unasked."""

    outcome = forms.ChoiceField(choices=CollectionTask.Outcome.choices)
    note = forms.CharField(required=False, max_length=300, validators=[no_bidi_controls])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].error_messages["required"] = "Choose called, promised or disputed."


def _bucket_choices():
    return [(bucket.key, bucket.label) for bucket in aging.buckets() if bucket.low is not None]


class WorklistFilterSet(django_filters.FilterSet):
    """The worklist's filters, over the overdue invoices it sums per customer."""

    owner = django_filters.ModelChoiceFilter(
        field_name="customer__owner", queryset=possible_owners(), label="Owner", empty_label="All owners"
    )
    level = django_filters.ChoiceFilter(method="reached_level", label="Level reached", empty_label="Any level")
    bucket = django_filters.ChoiceFilter(method="in_bucket", label="Days overdue", empty_label="Any")

    class Meta:
        model = Invoice
        fields = ["owner", "level", "bucket"]

    def __init__(self, *args, as_of, **kwargs):
        super().__init__(*args, **kwargs)
        self.as_of = as_of
        self.filters["owner"].queryset = possible_owners()
        names = DunningLevel.objects.order_by("days_after_due").values_list("name", flat=True).distinct()
        self.filters["level"].extra["choices"] = [(name, name) for name in dict.fromkeys(names)]
        self.filters["bucket"].extra["choices"] = _bucket_choices()
        form = self.form
        form.fields["owner"].widget = FastSelect(attrs={"class": "form-select"}, choices=form.fields["owner"].choices)
        for name in ("level", "bucket"):
            form.fields[name].widget.attrs["class"] = "form-select"

    def reached_level(self, queryset, name, value):
        reached = DunningNoticeLine.objects.filter(level__name=value).values("invoice_id")
        return queryset.filter(pk__in=reached) if value else queryset

    def in_bucket(self, queryset, name, value):
        bucket = aging.bucket_by_key(value)
        return queryset.filter(bucket.due_dates(self.as_of)) if bucket else queryset


# --- disputes --------------------------------------------------------------------------------


class DisputeListFilterSet(DisputeFilterSet):
    """The disputes list's filters: the API's, with the customer and its owner as choices."""

    status = django_filters.ChoiceFilter(choices=Dispute.Status.choices, empty_label="All statuses")
    owner = django_filters.ModelChoiceFilter(
        field_name="invoice__customer__owner", queryset=possible_owners(), label="Owner", empty_label="All owners"
    )
    customer = django_filters.ModelChoiceFilter(
        field_name="invoice__customer", queryset=Customer.objects.none(), label="Customer", empty_label="All customers"
    )

    class Meta:
        model = Dispute
        fields = ["status", "owner", "customer"]

    def __init__(self, *args, disputes, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["owner"].queryset = possible_owners()
        # Only customers with a dispute the person may see: a short list, whatever the book.
        self.filters["customer"].queryset = Customer.objects.filter(
            pk__in=disputes.values("invoice__customer_id")
        ).order_by("name", "pk")
        form = self.form
        for name in ("owner", "customer"):
            form.fields[name].widget = FastSelect(attrs={"class": "form-select"}, choices=form.fields[name].choices)
        form.fields["status"].widget.attrs["class"] = "form-select"


class CreditNoteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, note):
        return f"{note.number} ({note.total} {note.currency}, {note.issue_date:%Y-%m-%d})"


class DisputeResolveForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            ("credit", "Credited in full: a credit note covers the dispute"),
            ("partial", "Credited in part: a credit note covers some of it"),
            ("rejected", "Rejected: the invoice stands"),
        ],
        widget=forms.RadioSelect,
        label="Outcome",
    )
    credit_note = CreditNoteChoiceField(
        queryset=CreditNote.objects.none(),
        required=False,
        empty_label="Choose the credit note",
        label="Credit note",
        help_text="For a credit in full or in part: a credit note made on this invoice.",
    )
    note = forms.CharField(
        required=False,
        max_length=300,
        validators=[no_bidi_controls],
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note",
        help_text="Required to reject: say why the invoice stands.",
    )

    def __init__(self, *args, dispute: Dispute, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["credit_note"].queryset = CreditNote.objects.filter(invoice_id=dispute.invoice_id).order_by(
            "-issue_date", "-pk"
        )
        self.fields["outcome"].error_messages["required"] = "Choose how the dispute ends."


# --- dunning policies ------------------------------------------------------------------------


class DunningPolicyForm(forms.Form):
    name = forms.CharField(max_length=100, validators=[no_bidi_controls], label="Name")
    is_default = forms.BooleanField(
        required=False,
        label="Default policy",
        help_text="Reminds every customer that follows no policy of its own. One policy is the default.",
    )
    active = forms.BooleanField(
        required=False, initial=True, label="Active", help_text="Customers may be given an active policy only."
    )
    # The version the manager opened the form on (core.concurrency).
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, policy: DunningPolicy | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if policy is not None and not self.is_bound:
            self.initial.update(
                name=policy.name, is_default=policy.is_default, active=policy.active, version=policy.version
            )

    def stale(self, current: DunningPolicy) -> None:
        """Someone saved the policy since this form was opened: say so, and carry its
        current version, so that saving again is a deliberate overwrite."""
        self.add_error(
            None,
            "Someone else saved this policy since you opened it, so your changes were not saved. "
            "Open it again in another tab to see theirs, or save again to replace them with yours.",
        )
        data = self.data.copy()
        data[self.add_prefix("version")] = current.version
        self.data = data


class DunningLevelForm(forms.Form):
    """One level of a policy. The shape of each value is checked here (and the template
    fields, so an unknown one shows on its own row); order and overlaps by the service."""

    days_after_due = forms.IntegerField(
        min_value=-365, max_value=3650, label="Days after due", help_text="Negative: before the due date."
    )
    name = forms.CharField(max_length=100, validators=[no_bidi_controls], label="Name")
    channel = forms.ChoiceField(
        choices=DunningLevel.Channel.choices, initial=DunningLevel.Channel.EMAIL, label="Channel"
    )
    subject_template = forms.CharField(required=False, max_length=200, label="Subject")
    body_template = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4}), label="Body"
    )
    fee = forms.DecimalField(required=False, max_digits=8, decimal_places=2, min_value=0, max_value=100000, label="Fee")
    interest_rate = forms.DecimalField(
        required=False, max_digits=5, decimal_places=2, min_value=0, max_value=100, label="Interest % a year"
    )
    task_days = forms.IntegerField(
        required=False, min_value=1, max_value=90, label="Days for the call", help_text="Task levels only."
    )

    def _template(self, name: str) -> str:
        value = self.cleaned_data.get(name, "")
        try:
            return check_template(value, field_name=name)
        except forms.ValidationError as error:
            raise forms.ValidationError(error.message_dict[name]) from None

    def clean_subject_template(self):
        return self._template("subject_template")

    def clean_body_template(self):
        return self._template("body_template")

    def level(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.fields if name != "DELETE"}


class BaseDunningLevelFormSet(forms.BaseFormSet):
    def levels(self) -> list[dict]:
        """The rows kept (not removed, not left blank), in the order shown."""
        return [form.level() for form in self.forms if form.cleaned_data and not self._should_delete_form(form)]


DunningLevelFormSet = forms.formset_factory(
    DunningLevelForm,
    formset=BaseDunningLevelFormSet,
    extra=0,
    can_delete=True,
    max_num=50,
    absolute_max=50,
    validate_max=True,
)


def level_initial(policy: DunningPolicy | None) -> list[dict]:
    if policy is None:
        return []
    return [
        {name: getattr(level, name) for name in DunningLevelForm.base_fields}
        for level in policy.levels.order_by("order")
    ]
