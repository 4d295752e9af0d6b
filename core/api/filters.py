"""`?ordering=` made safe for cursor pagination, and strict about its fields."""

from rest_framework import exceptions, filters


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

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
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
