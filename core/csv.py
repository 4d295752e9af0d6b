"""Streaming CSV exports: rows straight from the database (values_list().iterator()),
written one line at a time, so exporting 100,000 rows never builds them all in memory.

A cell that starts like a formula is run by spreadsheet programs, so it is quoted with
a leading apostrophe; a phone number ("+49 30 …") or a negative number is not a
formula and stays as it is.
"""

import csv
import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.http import StreamingHttpResponse

from core.money import plain_amount

_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?![\d\s().]*$)")


class _Echo:
    """A file-like object whose write returns the line instead of storing it."""

    def write(self, value):
        return value


def csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Decimal):
        return plain_amount(value)
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def stream_csv(rows: Iterable, header: Iterable[str]):
    """Yield the header line, then one line per row."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_response(rows: Iterable, header: Iterable[str], filename: str) -> StreamingHttpResponse:
    """A streamed CSV download named `filename`."""
    response = StreamingHttpResponse(stream_csv(rows, header), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
