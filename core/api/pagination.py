"""Cursor pagination: stable pages however fast rows are added, no COUNT(*)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, pagination


class CursorPagination(pagination.CursorPagination):
    """Stable pages however fast rows are added; no COUNT(*) over a big table.

    Use it with `OrderingFilter` below when clients may choose the order.
    """

    ordering = ("-updated_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, DjangoValidationError):
            # A cursor is opaque, but it is only base64: a hand-edited position
            # ("p=abc" against a date) must read as a bad cursor, not a crash.
            if request.query_params.get(self.cursor_query_param) is None:
                raise
            raise exceptions.NotFound(self.invalid_cursor_message) from None
