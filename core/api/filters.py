"""Filtering and ordering for API lists, as strict as the schema: django-filter's
backend refusing empty values where the schema has none, a boolean filter that refuses
what is not a boolean, an id filter that refuses what is not an id, and `?ordering=`
made safe for cursor pagination and strict about its fields."""

import django_filters
from django import forms
from django_filters import rest_framework as django_filters_drf
from django_filters.widgets import BooleanWidget
from rest_framework import exceptions, filters


class DjangoFilterBackend(django_filters_drf.DjangoFilterBackend):
    """django-filter's backend; a parameter sent empty (`?status=`) is a 400 unless its
    filter takes text. django-filter reads an empty value as "no filter", which suits
    the list pages' filter form (it sends every field); an API client that sends
    `?updated_since=` has a bug and would otherwise get every row back.

    A request that names no filter is not filtered, without building the FilterSet
    (its form, fields and choices cost about a millisecond per request): every filter
    then gets an empty value, and an empty value filters nothing. A FilterSet that
    filters by default (a required filter, its own `filter_queryset` or `qs`) is
    always built; tests/api/test_lists_api.py checks that every API FilterSet given
    no parameters leaves the rows as they are.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not self._names_a_filter(request, filterset_class):
            return queryset
        return super().filter_queryset(request, queryset, view)

    @staticmethod
    def _names_a_filter(request, filterset_class) -> bool:
        if (
            filterset_class.filter_queryset is not django_filters.FilterSet.filter_queryset
            or filterset_class.qs is not django_filters.FilterSet.qs
        ):
            return True
        filters = filterset_class.base_filters
        if any(filter_.extra.get("required") for filter_ in filters.values()):
            return True
        # Range filters read `<name>_min`, `<name>_after`…: a prefix is enough to build it.
        return any(param.startswith(name) for param in request.query_params for name in filters)

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        empty = [
            name
            for name, filter_ in filterset.filters.items()
            if not isinstance(filter_, django_filters.CharFilter) and request.query_params.get(name) == ""
        ]
        if empty:
            raise exceptions.ValidationError({name: ["Enter a value, or leave the parameter out."] for name in empty})
        return filterset


class StrictBooleanWidget(BooleanWidget):
    """ "true"/"false"/"1"/"0" (any case) become booleans; anything else is kept for
    the field to refuse (BooleanWidget itself turns it into None: no filter)."""

    def value_from_datadict(self, data, files, name):
        parsed = super().value_from_datadict(data, files, name)
        return data.get(name) if parsed is None else parsed


class StrictBooleanField(forms.NullBooleanField):
    widget = StrictBooleanWidget

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        raise forms.ValidationError("Enter true or false.", code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    """`?flag=true|false`. django-filter's own reads any other value as "no filter",
    so `?is_primary=yes` would answer every row; this one answers 400."""

    field_class = StrictBooleanField


class IdFilter(django_filters.NumberFilter):
    """`?owner=<id>`: a whole number from 1 to the id column's largest, else a 400.
    NumberFilter reads decimals, and the id column would take `1.5` or `1e3` for 1
    or 1000; a larger number would overflow it. The schema says integer
    (core.api.schema.BoundedFilterExtension)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class OrderingFilter(filters.OrderingFilter):
    """DRF's `?ordering=`, made safe for cursor pagination.

    - The order always ends with the primary key, so rows with equal names (or
      equal timestamps) keep one order between pages and none is shown twice.
    - A nullable column cannot be a cursor position (NULL compares to nothing),
      so a view may sort it through a non-null annotation instead:
      `ordering_aliases = {"credit_limit": "credit_limit_sort"}`, with
      `credit_limit_sort` annotated by the view's queryset. Clients still write
      `?ordering=credit_limit`.
    - An unknown field is a 400 naming the allowed ones (the schema lists them as an
      enum), not silently the default order: a client that misspells a field would
      otherwise page through rows in an order it did not ask for.
    """

    def get_ordering(self, request, queryset, view):
        if request.query_params.get(self.ordering_param) == "":
            self.remove_invalid_fields(queryset, [""], view, request)  # refuses it
        return self._with_aliases_and_pk(super().get_ordering(request, queryset, view), view)

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = [item[0] for item in self.get_valid_fields(queryset, view, {"request": request})]
        unknown = [term for term in fields if term.removeprefix("-") not in valid or term.count("-") > 1]
        if unknown:
            listed = ", ".join(f"`{term}`" if term else "an empty field" for term in unknown)
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        f"Cannot sort by {listed}. Allowed: {', '.join(valid)}, "
                        "each optionally prefixed with `-` to reverse it."
                    ]
                }
            )
        return fields

    @staticmethod
    def _with_aliases_and_pk(ordering, view):
        if not ordering:
            return ordering
        aliases = getattr(view, "ordering_aliases", {})
        terms = []
        for term in ordering:
            descending = term.startswith("-")
            field = aliases.get(term.lstrip("-"), term.lstrip("-"))
            terms.append(f"-{field}" if descending else field)
        if not {"id", "-id", "pk", "-pk"} & set(terms):
            terms.append("-id" if terms[0].startswith("-") else "id")
        return tuple(terms)

    def get_schema_operation_parameters(self, view):
        fields = [item if isinstance(item, str) else item[0] for item in getattr(view, "ordering_fields", None) or []]
        if not fields or fields == ["__all__"]:
            return super().get_schema_operation_parameters(view)
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by one or more fields, comma-separated; prefix a field with `-` to reverse it.",
                "schema": {"type": "array", "items": {"type": "string", "enum": [*fields, *(f"-{f}" for f in fields)]}},
                "style": "form",
                "explode": False,
            }
        ]
