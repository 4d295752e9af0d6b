"""Form fields of the shared kit."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from core import formats


class MoneyInput(forms.TextInput):
    """A text box for an amount: right-aligned tabular digits, the phone's decimal
    keypad (inputmode), and no number spinner, which cannot show grouping and
    steps the amount when the wheel scrolls over it."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", "class": "money-input", **(attrs or {})})


class MoneyField(forms.DecimalField):
    """An amount typed and shown in the user's format (core.formats).

    It shows the stored value as the lists do ("1.234,50" for de-DE, "1,234.50" for
    en-GB) and reads what is typed with core.formats.parse_number: the user's format
    first, else a plain decimal with a point ("1234.50"). So for de-DE "1.234" is
    1234 and "1,5" is 1.5; for en-GB "1,234.50" is 1234.50 and "1,5" is refused.
    max_digits, decimal_places and min_value/max_value apply as on DecimalField.
    """

    widget = MoneyInput

    def to_python(self, value):
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return Decimal(value)  # an initial value (a disabled field), not something typed
        if value in self.empty_values or not str(value).strip():
            return None
        try:
            return formats.parse_number(str(value))
        except ValueError:
            example = formats.format_number(Decimal("1234.50"), self.decimal_places or 0)
            raise ValidationError(
                f"Enter an amount as a number, e.g. {example}.", code="invalid", params={"value": value}
            ) from None

    def prepare_value(self, value):
        # A stored amount reads as elsewhere on the page; what someone typed (a
        # string, on a form with errors) is shown back exactly as typed.
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return formats.format_number(value, self.decimal_places)
        return value

    def widget_attrs(self, widget):
        # DecimalField adds step/min/max for a number input only; this is a text box.
        return forms.Field.widget_attrs(self, widget)
