"""Optimistic concurrency over HTTP: `ETag` out, `If-Match` in.

A viewset of a versioned model (a `version` field its services bump, see
core.concurrency) mixes in ConcurrencyMixin:

- GET of one record, and the answer to a PUT/PATCH, carry `ETag: "<version>"`;
- PUT/PATCH/DELETE with `If-Match: "<version>"` hand that version to the service
  (`self.expected_version()`), which raises StaleVersion when the record moved on:
  answered 412 `{"error": {"code": "precondition_failed", ...}}`;
- without `If-Match` (or with `If-Match: *`) the write goes ahead as before.

`CONCURRENCY_SCHEMA` documents both headers and the 412 for drf-spectacular.
"""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, status

from core.concurrency import StaleVersion

_ETAG = re.compile(r'^\s*(?:W/)?"(\d{1,18})"\s*$')


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The record was changed by someone else since you read it (If-Match does not match its ETag). "
        "Read it again, re-apply your change and retry."
    )
    default_code = "precondition_failed"


def etag_of(record) -> str:
    return f'"{record.version}"'


def parse_if_match(header: str | None) -> int | None:
    """The version an `If-Match` header names; None when absent or `*`.

    A header naming no version of ours cannot match: PreconditionFailed."""
    if header is None or header.strip() == "*":
        return None
    for candidate in header.split(","):
        match = _ETAG.match(candidate)
        if match:
            return int(match.group(1))
    raise PreconditionFailed()


ETAG_HEADER = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[200],
    description='The record\'s version, e.g. `"3"`. Send it back as `If-Match` to change the record safely.',
)
IF_MATCH_HEADER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The `ETag` you read. The change is refused with 412 if the record changed since; "
    "leave it out (or send `*`) to change the record whatever its version.",
)
STALE_RESPONSE = OpenApiResponse(description="`If-Match` is stale: the record changed since you read it.")


def concurrency_schema(*, read: bool = False, write=None, responses: dict | None = None) -> dict:
    """Keyword arguments for extend_schema() of one operation: the ETag of a read;
    If-Match, the ETag and the 412 of a write (`write=` the serializer it answers
    with) or of a delete (`responses=` its other responses).

        partial_update=extend_schema(summary="…", **concurrency_schema(write=ContactSerializer))
        destroy=extend_schema(summary="…", **concurrency_schema(responses={204: None}))
    """
    if read:
        return {"parameters": [ETAG_HEADER]}
    if write is not None:
        return {"parameters": [IF_MATCH_HEADER, ETAG_HEADER], "responses": {200: write, 412: STALE_RESPONSE}}
    return {"parameters": [IF_MATCH_HEADER], "responses": {**(responses or {}), 412: STALE_RESPONSE}}


class ConcurrencyMixin:
    """ETag / If-Match for a ModelViewSet whose services take `expected_version`.

    The viewset passes `self.expected_version()` to its service in
    perform_update/perform_destroy (so a user who may not write gets 403 first and
    a bad body 400), and hands the written record to `self.written(record)` for
    the response's ETag.
    """

    def expected_version(self) -> int | None:
        return parse_if_match(self.request.headers.get("If-Match"))

    def written(self, record):
        self._etag_record = record
        return record

    def get_object(self):
        return self.written(super().get_object())

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = etag_of(self._etag_record)
        return response

    def update(self, request, *args, **kwargs):
        response = self._stale_is_412(super().update, request, *args, **kwargs)
        response["ETag"] = etag_of(self._etag_record)
        return response

    def destroy(self, request, *args, **kwargs):
        return self._stale_is_412(super().destroy, request, *args, **kwargs)

    @staticmethod
    def _stale_is_412(handler, *args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except StaleVersion as error:
            raise PreconditionFailed() from error
