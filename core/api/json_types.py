"""Body fields take the JSON type the schema names.

DRF coerces input generously: a CharField takes 5 (as "5"), a BooleanField takes 0,
1, "yes" and "on", a decimal string field takes the number 12.5. A client generated
from the schema sends exactly the documented types, and a client sending others has a
bug that coercion would hide (12.5 as a float is not 12.50 as money). So a serializer
with this mixin answers 400 on the field instead, before DRF's own validation.

The same goes for a string's length: the schema's maxLength is checked on the string
as sent, before DRF trims its whitespace.
"""

from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings

MESSAGES = {
    "string": "Not a valid string.",
    "boolean": "Must be true or false.",
    "decimal": 'Send amounts as a decimal string, e.g. "1250.00".',
}


def json_type_error(field, value) -> str | None:
    """The message for `value` if it is not of the JSON type `field` documents."""
    if value is None or field.read_only:
        return None  # null is the field's own business (allow_null)
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else MESSAGES["boolean"]
    if isinstance(field, serializers.DecimalField) and getattr(
        field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING
    ):
        return None if isinstance(value, str) else MESSAGES["decimal"]
    if isinstance(field, serializers.CharField):  # EmailField, URLField, RegexField, …
        if not isinstance(value, str):
            return MESSAGES["string"]
        # The schema's maxLength counts what is sent; DRF counts after trimming
        # whitespace, so 201 characters with a leading space would pass as 200.
        if field.max_length is not None and len(value) > field.max_length:
            return field.error_messages["max_length"].format(max_length=field.max_length)
    return None


class StrictJSONTypesMixin:
    """For a serializer reading JSON: each field's value must have the JSON type the
    schema gives it (string, boolean, decimal string); null stays for the field to judge."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {}
            for name, field in self.fields.items():
                value = data.get(field.field_name, empty)
                message = None if value is empty else json_type_error(field, value)
                if message:
                    errors[name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
