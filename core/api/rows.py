"""API lists read as `values()` rows: the serializer's JSON without model instances.

A page of 50 customers through DRF's stock path builds 100 model instances, builds
the serializer's fields again for the request, and walks every field of every row
resolving its source. A list needs none of that: it reads known columns and turns
each into JSON the same way every time. `RowPlan` reads a serializer's fields once
per class and turns each into a `values()` column and a converter that does what the
field's own `to_representation` does; `ValuesListMixin` makes a viewset's `list`
read `queryset.values(*plan.columns)` and answer the plan's output, paginated as usual.

Which fields a plan reads by itself, and how:
- a field whose source is a column of the model, or of a model reached through
  non-null foreign keys (`source="customer.name"` reads `customer__name`): through
  the field's `to_representation`, except text, integer and boolean columns (used as
  they are) and ISO 8601 date-times and decimal strings (converted directly, as
  DRF does: in the current time zone, `Z` for UTC; quantized, `f` format);
- a primary-key related field (`owner`): the id;
- an `IdentityUrlField`: the page's URL template filled with the pk.
Every other field (a property, a method field, a nested serializer…) is declared by
the serializer in `Meta.row_sources`: `{"field name": RowSource(columns, function)}`,
the function taking the columns' values in order and returning the field's JSON
value. A field the plan cannot read and no row source declares is an error when the
plan is built (the first list request, and tests/core/test_fast_paths.py), never a
silently different answer.

Use it on a viewset: `class InvoiceViewSet(ValuesListMixin, viewsets.ModelViewSet)`.
The serializer's fields must not depend on the request (they are built once, without
context), and `tests/core/test_fast_paths.py` compares every such list with DRF's
stock path on the same rows.
"""

import decimal
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from rest_framework import fields as drf_fields
from rest_framework import relations
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings

from .serializers import IdentityUrlField


@dataclass(frozen=True)
class RowSource:
    """A list field that is not a column: the `values()` columns it needs, and a
    function of their values (in that order) returning the field's JSON value."""

    columns: tuple[str, ...]
    function: Callable


# Model columns whose values are already what these serializer fields answer.
_AS_THEY_ARE = (
    (drf_fields.CharField, (models.CharField, models.TextField)),
    (drf_fields.IntegerField, (models.IntegerField,)),  # AutoFields and small/big ones too
    (drf_fields.BooleanField, (models.BooleanField,)),
)


class RowPlan:
    """How one serializer class's fields are read from `values()` rows."""

    def __init__(self, serializer_class):
        serializer = serializer_class()  # no instance, no context: fields only
        model = getattr(getattr(serializer_class, "Meta", None), "model", None)
        row_sources = getattr(getattr(serializer_class, "Meta", None), "row_sources", {})
        self.serializer_class = serializer_class
        self._steps = []  # (name, column or RowSource, kind, field)
        columns = {}
        for field in serializer._readable_fields:
            source = row_sources.get(field.field_name)
            if source is not None:
                self._steps.append((field.field_name, source, "row_source", field))
                columns.update(dict.fromkeys(source.columns))
                continue
            column, kind = self._column_of(field, model)
            self._steps.append((field.field_name, column, kind, field))
            columns[column] = None
        unknown = set(row_sources) - {name for name, *_ in self._steps}
        if unknown:
            raise ImproperlyConfigured(f"{serializer_class.__name__}.Meta.row_sources names no field: {unknown}")
        self.columns = tuple(columns)

    def _column_of(self, field, model):
        name = f"{self.serializer_class.__name__}.{field.field_name}"
        if isinstance(field, IdentityUrlField):
            return "pk", "url"  # IdentityUrlField fills its template with obj.pk
        if model is None or field.source == "*" or type(field).get_attribute is not _get_attribute_of(field):
            raise _unreadable(name)
        path, model_field = [], None
        for index, attribute in enumerate(field.source_attrs):
            try:
                model_field = model._meta.get_field(attribute)
            except FieldDoesNotExist:
                raise _unreadable(name) from None
            last = index == len(field.source_attrs) - 1
            if not model_field.concrete or model_field.many_to_many:
                raise _unreadable(name)
            if not last and not (model_field.is_relation and not model_field.null):
                # A nullable relation on the way: DRF would skip or default the field.
                raise _unreadable(name)
            path.append(attribute)
            model = model_field.related_model
        column = "__".join(path)
        if isinstance(field, relations.PrimaryKeyRelatedField) and model_field.is_relation:
            return column, "pk"
        if model_field.is_relation or isinstance(field, relations.RelatedField):
            raise _unreadable(name)
        if isinstance(field, drf_fields.DateTimeField) and isinstance(model_field, models.DateTimeField):
            return column, "datetime"
        if isinstance(field, drf_fields.DecimalField):
            return column, "decimal"
        if (
            type(field).to_representation is drf_fields.ChoiceField.to_representation
            and isinstance(model_field, models.CharField | models.TextField)
            and all(type(key) is str for key in field.choice_strings_to_values.values())
        ):
            # DRF answers the choice whose str() is the value: the value itself, for text choices.
            return column, "as_is"
        for field_class, model_field_classes in _AS_THEY_ARE:
            if type(field).to_representation is field_class.to_representation and isinstance(
                model_field, model_field_classes
            ):
                return column, "as_is"
        return column, "field"

    def represent(self, rows: Iterable[dict], context: dict) -> list[dict]:
        """Each row as the serializer's `to_representation` would give it."""
        # Converted values are written into the row under the field's name (prefixed
        # to keep clear of the columns); the output then picks its keys in field order.
        converted, derived, keys = [], [], []
        for name, column, kind, field in self._steps:
            if kind == "row_source":
                derived.append((f" {name}", column.function, column.columns))
                keys.append((name, f" {name}"))
                continue
            convert = _converter(kind, field, context)
            if convert is _as_is:
                keys.append((name, column))
            else:
                converted.append((f" {name}", column, convert))
                keys.append((name, f" {name}"))
        results = []
        for row in rows:
            for key, column, convert in converted:
                value = row[column]
                row[key] = None if value is None else convert(value)
            for key, function, columns in derived:
                row[key] = function(*[row[column] for column in columns])
            results.append({name: row[key] for name, key in keys})
        return results


@cache
def row_plan(serializer_class) -> RowPlan:
    return RowPlan(serializer_class)


class ValuesListMixin:
    """A viewset whose `list` reads `values()` rows through its serializer's RowPlan:
    filtered, ordered and paginated as the stock `list`, with the same JSON."""

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        plan = row_plan(self.get_serializer_class())
        columns = plan.columns
        if isinstance(self.paginator, CursorPagination):
            # The cursor's position is read from the first ordering column of a page edge.
            ordering = self.paginator.get_ordering(request, queryset, self)
            columns = (*columns, *(term.lstrip("-") for term in ordering if term.lstrip("-") not in columns))
        rows = queryset.values(*columns)
        page = self.paginate_queryset(rows)
        context = self.get_serializer_context()
        if page is not None:
            return self.get_paginated_response(plan.represent(page, context))
        return Response(plan.represent(rows, context))


def _as_is(value):
    return value


def _converter(kind: str, field, context: dict) -> Callable:
    """The function turning a column's (non-null) value into the field's JSON, for this request."""
    if kind == "as_is":
        return _as_is
    if kind == "pk":
        pk_field = field.pk_field
        return _as_is if pk_field is None else lambda value: pk_field.to_representation(value)
    if kind == "url":
        return _url_converter(field, context)
    if kind == "datetime":
        return _datetime_converter(field)
    if kind == "decimal":
        return _decimal_converter(field)
    return field.to_representation


def _url_converter(field: IdentityUrlField, context: dict) -> Callable:
    # As HyperlinkedRelatedField.to_representation picks the request and format.
    request = context["request"]
    format = context.get("format")
    if format and field.format and field.format != format:
        format = field.format
    template = field.url_template(field.view_name, request, format)
    return template.format


def _datetime_converter(field: drf_fields.DateTimeField) -> Callable:
    # DRF's DateTimeField.to_representation for aware values in ISO 8601, with the
    # time zone looked up once per request instead of once per value.
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None or output_format is None or output_format.lower() != drf_fields.ISO_8601:
        return field.to_representation

    def convert(value):
        if value.utcoffset() is None:
            return field.to_representation(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return field.to_representation(value)  # DRF's own error
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return convert


def _decimal_converter(field: drf_fields.DecimalField) -> Callable:
    # DRF's DecimalField.to_representation for Decimal values coerced to strings,
    # with the quantum and context made once per request instead of once per value.
    coerce_to_string = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    if not coerce_to_string or field.localize or field.normalize_output or field.decimal_places is None:
        return field.to_representation
    quantum = decimal.Decimal(".1") ** field.decimal_places
    context = decimal.getcontext().copy()
    if field.max_digits is not None:
        context.prec = field.max_digits
    rounding = field.rounding

    def convert(value):
        if not isinstance(value, decimal.Decimal):
            return field.to_representation(value)
        return f"{value.quantize(quantum, rounding=rounding, context=context):f}"

    return convert


def _get_attribute_of(field):
    """The `get_attribute` a field of this kind has when it reads its source as DRF does."""
    if isinstance(field, relations.RelatedField):
        return relations.RelatedField.get_attribute
    return drf_fields.Field.get_attribute


def _unreadable(name: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"{name} is not a column a values() row can hold: declare it in Meta.row_sources (core.api.rows)."
    )
