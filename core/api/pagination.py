"""Cursor pagination: stable pages however fast rows are added, no COUNT(*)."""

from datetime import UTC, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import DecimalValidator
from django.db import connections, models
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, pagination, status
from rest_framework.pagination import Cursor

# PostgreSQL's timestamptz input takes offsets up to ±15:59.
MAX_UTC_OFFSET = timedelta(hours=16)


class InvalidCursor(exceptions.APIException):
    """A `cursor` this list did not give out (hand-made, truncated, or for another order)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid cursor."
    default_code = "invalid_cursor"


class CursorPagination(pagination.CursorPagination):
    """Stable pages however fast rows are added; no COUNT(*) over a big table.

    Use it with `OrderingFilter` (core.api.filters) when clients may choose the order.

    A cursor is opaque to clients, but it is only base64 of `o=<offset>&r=<0|1>&p=<position>`,
    where the position is the value of the first ordering field on a page edge. A
    hand-made position reaches the database as a filter value, and one the column
    cannot hold (an id beyond bigint, a year 99999, an offset of +16:00, 1e100 in a
    numeric(14, 2)) fails only when the query runs, with a DataError. So the position
    is checked against the ordering field's type before any query, and every cursor
    that is not one this list could have given out answers 400 `invalid_cursor`.
    """

    ordering = ("-updated_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200
    cursor_query_description = "Where the page starts: copy it from a `next` or `previous` link; never build it."

    def paginate_queryset(self, queryset, request, view=None):
        self._queryset = queryset
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        try:
            size = int(value)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Enter a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise InvalidCursor() from None
        if cursor is None or cursor.position is None:
            return cursor
        field = self._ordering_field(self._queryset, self.ordering[0].lstrip("-"))
        if field is None:
            return cursor
        position = checked_position(field, cursor.position, connections[self._queryset.db])
        return Cursor(offset=cursor.offset, reverse=cursor.reverse, position=position)

    @staticmethod
    def _ordering_field(queryset, name):
        """The model field (or annotation's output field) a position is compared with."""
        annotation = queryset.query.annotations.get(name)
        if annotation is not None:
            return annotation.output_field
        model, field = queryset.model, None
        for part in name.split("__"):
            try:
                field = model._meta.get_field("pk" if part == "pk" else part)
            except FieldDoesNotExist:
                if part != "pk":
                    return None
                field = model._meta.pk
            model = field.related_model or model
        if field is not None and field.is_relation:
            field = field.target_field
        return field

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"Rows per page, 1 to {self.max_page_size}; {self.page_size} by default."
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return parameters


def checked_position(field, position: str, connection) -> str:
    """The position, normalised, if `field`'s column can hold it; else InvalidCursor."""
    try:
        if isinstance(field, models.DateTimeField):
            return _checked_datetime(position)
        if isinstance(field, models.DecimalField):
            return _checked_decimal(field, position)
        if isinstance(field, models.IntegerField):  # AutoFields too
            return _checked_integer(field, position, connection)
        value = field.to_python(position)
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("PostgreSQL text cannot hold NUL characters.")
        return position
    except (ValueError, TypeError, OverflowError, ArithmeticError, DjangoValidationError):
        raise InvalidCursor() from None


def _checked_datetime(position: str) -> str:
    # parse_datetime refuses years beyond 9999 and offsets of a day or more;
    # PostgreSQL refuses offsets beyond ±15:59; and a time near year 1 or 9999 may
    # leave the calendar when converted to UTC (OverflowError). Cursors given out
    # are in UTC, so the value goes to the database in UTC too.
    value = parse_datetime(position)
    if value is None or value.tzinfo is None:
        raise ValueError("Not a date and time with a UTC offset.")
    if abs(value.utcoffset()) >= MAX_UTC_OFFSET:
        raise ValueError("UTC offset out of range.")
    return str(value.astimezone(UTC))


def _checked_decimal(field, position: str) -> str:
    try:
        value = Decimal(position)
    except InvalidOperation:
        raise ValueError("Not a number.") from None
    if not value.is_finite():
        raise ValueError("Not a finite number.")
    DecimalValidator(field.max_digits, field.decimal_places)(value)
    return str(value)


def _checked_integer(field, position: str, connection) -> str:
    value = int(position)  # "1e3" and "12.5" are not integers
    low, high = connection.ops.integer_field_range(field.get_internal_type())
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError("Out of range.")
    return str(value)
