"""The manual credit hold's form (the customer 360's receivables panel)."""

from django import forms

from core.validators import no_bidi_controls


class CreditHoldForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        validators=[no_bidi_controls],
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "placeholder": "Cheque bounced twice"}),
    )
    until = forms.DateField(
        required=False,
        label="Until (optional)",
        help_text="Inclusive; leave empty to hold until released.",
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d"),
    )
