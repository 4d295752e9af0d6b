"""The aging report's filters: as of which day, whose customers, which customer, and
(on the drill-down) which bucket. The page and the API read the same form."""

from django import forms
from django.core.exceptions import ValidationError

from crm.forms import FastSelect
from crm.models import possible_owners

from . import aging

_DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d")


class AgingFilterForm(forms.Form):
    as_of = forms.CharField(
        label="As of", required=False, widget=_DATE, help_text="Today when empty; never a future day."
    )
    owner = forms.ModelChoiceField(
        label="Customer owner", queryset=possible_owners(), required=False, empty_label="All owners"
    )
    # By id: a select of every customer would not scale; the customer page links here.
    customer = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    bucket = forms.ChoiceField(required=False, choices=())

    def __init__(self, *args, with_owner: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = possible_owners()
        self.fields["owner"].widget = FastSelect(attrs={"class": "form-select"}, choices=self.fields["owner"].choices)
        if not with_owner:  # a rep's aging is of their own customers only
            del self.fields["owner"]
        self.fields["bucket"].choices = [("", "Every bucket")] + [(b.key, b.label) for b in aging.buckets()]
        self.fields["bucket"].widget.attrs["class"] = "form-select"

    def clean_as_of(self):
        try:
            return aging.check_as_of(self.cleaned_data["as_of"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["as_of"]) from None

    def clean_bucket(self):
        key = self.cleaned_data.get("bucket")
        return aging.bucket_by_key(key) if key else None
