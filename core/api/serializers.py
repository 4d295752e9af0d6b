"""Serializer fields and mixins shared by every API resource."""

from collections.abc import Mapping

from django.utils.functional import cached_property
from rest_framework.fields import Field, SkipField, is_simple_callable
from rest_framework.relations import HyperlinkedIdentityField, ManyRelatedField, PKOnlyObject, RelatedField
from rest_framework.serializers import BaseSerializer


class IdentityUrlField(HyperlinkedIdentityField):
    """The object's API URL, reversed once per response rather than once per row:
    in a list the URLs differ only by the pk."""

    _MARKER = "9876543210"

    def get_url(self, obj, view_name, request, format):
        if obj.pk is None:
            return None
        key = (view_name, id(request), format)
        if getattr(self, "_template_key", None) != key:
            self._template, self._template_key = self.url_template(view_name, request, format), key
        return self._template.format(obj.pk)

    def url_template(self, view_name, request, format) -> str:
        """The URL with `{}` where the pk goes."""
        url = self.reverse(view_name, kwargs={self.lookup_url_kwarg: self._MARKER}, request=request, format=format)
        return url.replace("{", "{{").replace("}", "}}").replace(self._MARKER, "{}")


class FastRepresentationMixin:
    """Serializes a row with a plan made once per serializer, not per row; the output
    is DRF's own.

    DRF resolves each field's source for every row (dotted paths, callables,
    PKOnlyObject…). For a field that reads one attribute of the instance (`name`,
    `source="get_status_display"`) and does not override `get_attribute`, the plan
    reads the attribute directly (calling it if DRF would) and hands it to the
    field's own `to_representation`. Every other field — dotted sources, relations,
    nested serializers, method fields — goes through DRF's path unchanged, as does
    any row where the direct read fails (DRF then applies the field's `default`,
    `allow_null` or `required` exactly as usual) and any row that is a dict.

    Use it before the serializer class: `class InvoiceSerializer(FastRepresentationMixin,
    serializers.ModelSerializer)`. Every serializer using it is checked against DRF's
    `to_representation` by tests/core/test_fast_paths.py.
    """

    @cached_property
    def _representation_plan(self):
        plan = []
        for field in self._readable_fields:
            simple = (
                len(field.source_attrs) == 1
                and not isinstance(field, BaseSerializer | RelatedField | ManyRelatedField | HyperlinkedIdentityField)
                and type(field).get_attribute is Field.get_attribute
            )
            plan.append((field.field_name, field, field.source_attrs[0] if simple else None))
        return plan

    def to_representation(self, instance):
        if isinstance(instance, Mapping):  # DRF reads dicts by key
            return super().to_representation(instance)
        data = {}
        for name, field, attribute_name in self._representation_plan:
            value = _UNREAD
            if attribute_name is not None:
                try:
                    value = getattr(instance, attribute_name)
                    if is_simple_callable(value):  # e.g. source="get_status_display"
                        value = value()
                except Exception:  # noqa: BLE001 -- DRF's own path below decides: default, None, skip or raise
                    value = _UNREAD
            if value is _UNREAD:
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
            check = value.pk if isinstance(value, PKOnlyObject) else value
            data[name] = None if check is None else field.to_representation(value)
        return data


_UNREAD = object()
