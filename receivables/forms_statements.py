"""The statement page's forms: as of which day, and where to email it. The page and the
API read the as-of day the same way (receivables.aging.check_as_of)."""

from django import forms
from django.core.exceptions import ValidationError

from . import aging

_DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


def _as_of(value):
    try:
        return aging.check_as_of(value)
    except ValidationError as error:
        raise ValidationError(error.message_dict["as_of"]) from None


class StatementDateForm(forms.Form):
    as_of = forms.CharField(
        label="As of", required=False, widget=_DATE, help_text="Today when empty; never a future day."
    )

    def clean_as_of(self):
        return _as_of(self.cleaned_data["as_of"])


class StatementSendForm(forms.Form):
    """Where the statement goes; a second sending for the same day needs `resend` ticked."""

    as_of = forms.CharField(widget=forms.HiddenInput, required=False)
    to = forms.EmailField(label="Send to", max_length=254, help_text="The customer's address for invoices.")
    resend = forms.BooleanField(required=False, label="Yes, send it again")

    def clean_as_of(self):
        return _as_of(self.cleaned_data["as_of"])


class MonthlyStatementForm(forms.Form):
    monthly = forms.BooleanField(required=False, label="Email a statement on the 1st of each month")
